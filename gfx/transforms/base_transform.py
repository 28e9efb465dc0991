"""``BaseTransform``: the contract every graph transform follows."""
from __future__ import annotations

import copy
from typing import Any


class BaseTransform:
    """A callable that maps a graph to a graph.

    ``transform(data)`` shallow-copies ``data`` (the caller's graph keeps its attributes;
    tensors are shared, not cloned) and hands the copy to :meth:`forward`, which
    subclasses implement and which may replace attributes of the copy freely.

    .. code-block:: text

        __call__(data) -> forward(copy.copy(data)) -> new graph
    """

    def __call__(self, data: Any) -> Any:
        return self.forward(copy.copy(data))

    def forward(self, data: Any) -> Any:
        """Transform ``data`` (a shallow copy the transform owns) and return it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
