"""Graph transforms that the datasets accept as ``transform`` / ``pre_transform``."""
from __future__ import annotations

from typing import List, Sequence, Union

from torch import Tensor

from .data import Data
from .hetero_data import HeteroData


class NormalizeFeatures:
    r"""Scale every row of the selected attributes to sum to one.

    .. math::
        x_{v,:} \leftarrow \frac{x_{v,:}}{\sum_j x_{v,j}}

    Rows whose sum is zero stay zero.  Meant for non-negative features such as the
    bag-of-words vectors of the Planetoid datasets.  Works on :class:`~gfx.data.Data`
    and on every store of a :class:`~gfx.data.HeteroData`; the graph is changed in
    place and returned.

    Args:
        attrs (list of str, optional): attributes to normalise.
            (default: :obj:`["x"]`)
    """

    def __init__(self, attrs: Sequence[str] = ("x",)):
        self.attrs: List[str] = list(attrs)

    def __call__(self, data: Union[Data, HeteroData]) -> Union[Data, HeteroData]:
        for store in data.stores:
            for key in self.attrs:
                value = store._mapping.get(key)
                if isinstance(value, Tensor) and value.is_floating_point() and value.dim() > 0:
                    total = value.sum(dim=-1, keepdim=True)
                    store[key] = value / total.masked_fill(total == 0, 1)
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(attrs={self.attrs})"
