"""Chaining transforms."""
from __future__ import annotations

from typing import Any, Callable, List, Sequence

from .base_transform import BaseTransform


class Compose(BaseTransform):
    """Apply ``transforms`` one after another; a list or tuple of graphs is transformed
    element by element.

    Args:
        transforms (list of callable): the transforms, in order.
    """

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms: List[Callable] = list(transforms)

    def forward(self, data: Any) -> Any:
        for transform in self.transforms:
            if isinstance(data, (list, tuple)):
                data = [transform(d) for d in data]
            else:
                data = transform(data)
        return data

    def __call__(self, data: Any) -> Any:
        return self.forward(data)  # each transform copies for itself

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {transform}" for transform in self.transforms)
        return f"{type(self).__name__}([\n{inner}\n])"
