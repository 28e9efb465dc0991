"""``MultiAggregation``: run several aggregations and combine their outputs."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor

from .base import Aggregation, is_traced, register_aggregation
from .resolver import aggregation_resolver

#: Ways to combine the outputs; the first three keep each output's features, the others
#: reduce elementwise over the stack of outputs.
COMBINE_MODES = ("cat", "proj", "attn", "sum", "mean", "max", "min", "logsumexp", "std", "var")
_STACK_REDUCE = {
    "sum": lambda s: s.sum(dim=0),
    "mean": lambda s: s.mean(dim=0),
    "max": lambda s: s.amax(dim=0),
    "min": lambda s: s.amin(dim=0),
    "logsumexp": lambda s: torch.logsumexp(s, dim=0),
    "std": lambda s: s.std(dim=0),
    "var": lambda s: s.var(dim=0),
}


@register_aggregation("multi")
class MultiAggregation(Aggregation):
    """Apply several aggregations to the same groups and combine their outputs.

    With outputs :math:`\\mathbf{h}^{(1)}, \\dots, \\mathbf{h}^{(A)}` of one group, ``mode``
    gives:

    * ``"cat"``: :math:`[\\mathbf{h}^{(1)} \\,\\|\\, \\cdots \\,\\|\\, \\mathbf{h}^{(A)}]`
      along the last (feature) axis;
    * ``"proj"``: :math:`\\mathbf{W} [\\mathbf{h}^{(1)} \\| \\cdots \\| \\mathbf{h}^{(A)}]
      + \\mathbf{b}` (a ``torch.nn.Linear`` named ``lin``);
    * ``"attn"``: each :math:`\\mathbf{h}^{(a)}` is mapped by its own linear layer
      (``lin_heads[a]``) to ``out_channels``; multi-head self-attention
      (``multihead_attn``) runs over the :math:`A` mapped outputs of each group, and
      its :math:`A` results are averaged;
    * ``"sum"``, ``"mean"``, ``"max"``, ``"min"``, ``"logsumexp"``, ``"std"``, ``"var"``:
      that elementwise reduction over :math:`a`; ``std`` and ``var`` use the unbiased
      (:math:`A - 1`) estimator and so need :math:`A \\ge 2`.  Ties in ``max``/``min``
      share the gradient equally.  All outputs must have the same shape.

    Args:
        aggrs (list): the aggregations: names, classes or instances (see
            :func:`aggregation_resolver`).
        aggrs_kwargs (list of dict, optional): constructor arguments for each entry of
            ``aggrs`` that is resolved from a name or class. (default: ``None``)
        mode (str, optional): the combine mode, one of the above. (default: ``"cat"``)
        mode_kwargs (dict, optional): for ``"proj"`` and ``"attn"`` only:
            ``in_channels`` (int: the input feature size, from which each aggregation's
            output size follows by :meth:`Aggregation.get_out_channels`; or a list: the
            output size of each aggregation) and ``out_channels`` (int); for ``"attn"``
            also ``num_heads`` (int).  Other keys go to ``torch.nn.Linear`` (``"proj"``)
            or ``torch.nn.MultiheadAttention`` (``"attn"``, e.g. ``dropout``).
            (default: ``None``)
    """

    def __init__(self, aggrs: Sequence[Union[str, type, Aggregation]],
                 aggrs_kwargs: Optional[Sequence[Optional[Dict[str, Any]]]] = None,
                 mode: str = "cat", mode_kwargs: Optional[Dict[str, Any]] = None):
        super().__init__()
        if not isinstance(aggrs, (list, tuple)):
            raise TypeError(f"MultiAggregation: 'aggrs' must be a list, got "
                            f"{type(aggrs).__name__}")
        if not aggrs:
            raise ValueError("MultiAggregation: 'aggrs' must not be empty")
        if aggrs_kwargs is None:
            aggrs_kwargs = [None] * len(aggrs)
        if len(aggrs_kwargs) != len(aggrs):
            raise ValueError(f"MultiAggregation: 'aggrs_kwargs' has {len(aggrs_kwargs)} "
                             f"entries but 'aggrs' has {len(aggrs)}")
        self.aggrs = torch.nn.ModuleList(
            [aggregation_resolver(query, **(kw or {})) for query, kw in zip(aggrs, aggrs_kwargs)])
        if mode not in COMBINE_MODES:
            raise ValueError(f"MultiAggregation: unknown mode {mode!r}; expected one of "
                             f"{', '.join(COMBINE_MODES)}")
        if mode in ("std", "var") and len(self.aggrs) < 2:
            raise ValueError(f"MultiAggregation: mode={mode!r} needs at least two "
                             f"aggregations (the unbiased estimate over one is undefined)")
        self.mode = mode
        self.in_channels: Optional[List[int]] = None
        self.out_channels: Optional[int] = None
        options = dict(mode_kwargs or {})
        if mode in ("proj", "attn"):
            self._build_combiner(options)
        elif options:
            raise ValueError(f"MultiAggregation: mode_kwargs {sorted(options)} are only used "
                             f"by mode 'proj' and 'attn', not {mode!r}")

    def _build_combiner(self, options: Dict[str, Any]) -> None:
        required = ["in_channels", "out_channels"] + (["num_heads"] if self.mode == "attn" else [])
        missing = [key for key in required if key not in options]
        if missing:
            raise ValueError(f"MultiAggregation: mode={self.mode!r} needs {missing} in "
                             f"'mode_kwargs'")
        in_channels = options.pop("in_channels")
        self.out_channels = int(options.pop("out_channels"))
        if isinstance(in_channels, int):
            self.in_channels = [aggr.get_out_channels(in_channels) for aggr in self.aggrs]
        elif len(in_channels) == len(self.aggrs):
            self.in_channels = [int(c) for c in in_channels]
        else:
            raise ValueError(f"MultiAggregation: 'in_channels' lists {len(in_channels)} sizes "
                             f"but there are {len(self.aggrs)} aggregations")
        if self.mode == "proj":
            self.lin = torch.nn.Linear(sum(self.in_channels), self.out_channels, **options)
        else:
            num_heads = options.pop("num_heads")
            self.lin_heads = torch.nn.ModuleList(
                [torch.nn.Linear(c, self.out_channels) for c in self.in_channels])
            self.multihead_attn = torch.nn.MultiheadAttention(
                self.out_channels, num_heads, batch_first=True, **options)

    def reset_parameters(self) -> None:
        """Reset every aggregation and the combiner's layers."""
        for aggr in self.aggrs:
            aggr.reset_parameters()
        if self.mode == "proj":
            self.lin.reset_parameters()
        elif self.mode == "attn":
            for lin in self.lin_heads:
                lin.reset_parameters()
            self.multihead_attn._reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """The feature size after combining, for ``in_channels`` input features."""
        if self.mode in ("proj", "attn"):
            return self.out_channels
        sizes = [aggr.get_out_channels(in_channels) for aggr in self.aggrs]
        if self.mode == "cat":
            return sum(sizes)
        if len(set(sizes)) != 1:
            raise ValueError(f"MultiAggregation: mode={self.mode!r} needs equal output sizes, "
                             f"got {sizes}")
        return sizes[0]

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        if self.mode in ("cat", "proj", "attn") and len(self.aggrs) > 1 \
                and not is_traced(x, dim) and dim % x.dim() == x.dim() - 1:
            raise ValueError(self._error(
                f"mode={self.mode!r} joins outputs along the last (feature) axis, but dim={dim} "
                f"aggregates that axis of 'x' (shape {tuple(x.shape)})"))
        outs = [aggr(x, index, ptr, dim_size, dim) for aggr in self.aggrs]
        return self.combine(outs)

    def combine(self, outs: List[Tensor]) -> Tensor:
        """Combine the outputs of ``self.aggrs`` (one per aggregation) according to ``mode``."""
        if self.mode == "cat":
            return torch.cat(outs, dim=-1)
        if self.mode == "proj":
            return self.lin(torch.cat(outs, dim=-1))
        if self.mode == "attn":
            heads = torch.stack([lin(out) for lin, out in zip(self.lin_heads, outs)], dim=-2)
            flat = heads.reshape(-1, len(outs), self.out_channels)
            attended, _ = self.multihead_attn(flat, flat, flat, need_weights=False)
            return attended.mean(dim=1).reshape(heads.shape[:-2] + (self.out_channels,))
        if not is_traced(*outs) and len({tuple(out.shape) for out in outs}) != 1:
            raise ValueError(self._error(f"mode={self.mode!r} needs outputs of one shape, got "
                                         f"{[tuple(out.shape) for out in outs]}"))
        return _STACK_REDUCE[self.mode](torch.stack(outs, dim=0))

    def __repr__(self) -> str:
        lines = "".join(f"  {aggr!r},\n" for aggr in self.aggrs)
        return f"{type(self).__name__}([\n{lines}], mode={self.mode})"
