"""``DegreeScalerAggregation``: several aggregations, each scaled by functions of the
node degree (the aggregation of PNAConv)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.nn.aggr.base import Aggregation, register_aggregation
from gfx.nn.aggr.multi import MultiAggregation
from gfx.nn.aggr.resolver import aggregation_resolver

SCALERS = ("identity", "amplification", "attenuation", "linear", "inverse_linear")


def degree_histogram_averages(deg: Tensor) -> tuple:
    """``(avg_lin, avg_log)`` of an in-degree histogram (``deg[d]`` = nodes of degree d).

    .. math::
        \\delta_{\\mathrm{lin}} = \\frac{\\sum_d d \\, h_d}{\\sum_d h_d}, \\qquad
        \\delta_{\\log} = \\frac{\\sum_d \\log(d + 1) \\, h_d}{\\sum_d h_d}
    """
    if not isinstance(deg, Tensor) or deg.dim() != 1 or deg.numel() == 0:
        raise ValueError("DegreeScalerAggregation: 'deg' must be a non-empty 1-D histogram "
                         "of in-degrees (deg[d] = number of nodes with degree d)")
    hist = deg.detach().to(torch.float64).cpu()
    total = float(hist.sum())
    if total <= 0:
        raise ValueError("DegreeScalerAggregation: the degree histogram 'deg' counts no nodes")
    bins = torch.arange(hist.numel(), dtype=torch.float64)
    return float((bins * hist).sum()) / total, float(((bins + 1).log() * hist).sum()) / total


@register_aggregation()
class DegreeScalerAggregation(Aggregation):
    """Aggregators combined with degree scalers, as in PNA.

    With aggregated features :math:`\\mathbf{a}_i` (the aggregators' outputs
    concatenated) and :math:`d_i = \\max(\\deg(i), 1)` the number of elements in group
    :math:`i`, the output concatenates, in the order of ``scaler``,

    .. math::
        \\mathrm{identity}: \\mathbf{a}_i, \\quad
        \\mathrm{amplification}: \\frac{\\log(d_i + 1)}{\\delta_{\\log}} \\mathbf{a}_i,
        \\quad \\mathrm{attenuation}: \\frac{\\delta_{\\log}}{\\log(d_i + 1)} \\mathbf{a}_i,
        \\quad \\mathrm{linear}: \\frac{d_i}{\\delta_{\\mathrm{lin}}} \\mathbf{a}_i,
        \\quad \\mathrm{inverse\\_linear}: \\frac{\\delta_{\\mathrm{lin}}}{d_i} \\mathbf{a}_i

    where :math:`\\delta_{\\mathrm{lin}}` (``avg_deg_lin``) and :math:`\\delta_{\\log}`
    (``avg_deg_log``) are the average degree and average :math:`\\log(d + 1)` of the
    training graphs, computed from the histogram ``deg`` (see
    :func:`degree_histogram_averages`).

    Args:
        aggr (str or [str] or Aggregation): the aggregator(s); a list is concatenated
            (:class:`MultiAggregation`).
        scaler (str or [str]): among ``"identity"``, ``"amplification"``,
            ``"attenuation"``, ``"linear"``, ``"inverse_linear"``.
        deg (Tensor): in-degree histogram of the training graphs.
        train_norm (bool, optional): make ``avg_deg_lin`` and ``avg_deg_log`` learnable
            parameters (initialised from ``deg``) instead of buffers. (default: ``False``)
        aggr_kwargs (list of dict, optional): constructor arguments of the aggregators.
            (default: ``None``)
    """

    def __init__(self, aggr: Union[str, List[str], Aggregation], scaler: Union[str, List[str]],
                 deg: Tensor, train_norm: bool = False,
                 aggr_kwargs: Optional[List[Dict[str, Any]]] = None):
        super().__init__()
        if isinstance(aggr, (list, tuple)):
            self.aggr = MultiAggregation(list(aggr), aggr_kwargs)
        else:
            if aggr_kwargs is not None and len(aggr_kwargs) != 1:
                raise ValueError("DegreeScalerAggregation: with a single aggregator, "
                                 "'aggr_kwargs' must be a list of one dict")
            self.aggr = aggregation_resolver(aggr, **(aggr_kwargs[0] if aggr_kwargs else {}))
        scalers = [scaler] if isinstance(scaler, str) else list(scaler)
        unknown = [s for s in scalers if s not in SCALERS]
        if unknown or not scalers:
            raise ValueError(f"DegreeScalerAggregation: unknown scaler(s) {unknown or scalers}; "
                             f"expected a non-empty list from {SCALERS}")
        self.scaler = scalers
        self.train_norm = train_norm
        self._init_lin, self._init_log = degree_histogram_averages(deg)
        if train_norm:
            self.avg_deg_lin = Parameter(torch.empty(1))
            self.avg_deg_log = Parameter(torch.empty(1))
        else:
            self.register_buffer("avg_deg_lin", torch.empty(1))
            self.register_buffer("avg_deg_log", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset the aggregators and the degree averages (from the histogram)."""
        self.aggr.reset_parameters()
        with torch.no_grad():
            self.avg_deg_lin.fill_(self._init_lin)
            self.avg_deg_log.fill_(self._init_log)

    def get_out_channels(self, in_channels: int) -> int:
        """Aggregator output size times the number of scalers."""
        return self.aggr.get_out_channels(in_channels) * len(self.scaler)

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        out = self.aggr(x, index, ptr, dim_size, dim)
        count = self.reduce(x.new_ones(x.shape[dim]), index, ptr, dim_size, 0, "sum")
        deg = count.clamp(min=1)
        # The group axis is moved last, so that the [G] scalers broadcast at any rank.
        grouped = out.movedim(dim, -1)
        outs = []
        for name in self.scaler:
            if name == "identity":
                scaled = grouped
            elif name == "amplification":
                scaled = grouped * ((deg + 1).log() / self.avg_deg_log)
            elif name == "attenuation":
                scaled = grouped * (self.avg_deg_log / (deg + 1).log())
            elif name == "linear":
                scaled = grouped * (deg / self.avg_deg_lin)
            else:
                scaled = grouped * (self.avg_deg_lin / deg)
            outs.append(scaled.movedim(-1, dim))
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)

    def extra_repr(self) -> str:
        return f"aggr={self.aggr!r}, scaler={self.scaler}, train_norm={self.train_norm}"


__all__ = ["DegreeScalerAggregation"]
