"""``GRUAggregation``: read each group as a sequence and keep the GRU's last output."""
from __future__ import annotations

from .base import register_aggregation
from .lstm import RecurrentAggregation


@register_aggregation("gru")
class GRUAggregation(RecurrentAggregation):
    """GRU aggregation (Buterez et al., "Graph Neural Networks with Adaptive Readouts"):
    the elements of a group, in order, are the input sequence of a GRU.

    .. math::
        \\mathbf{r}_g = \\mathrm{GRU}(\\mathbf{x}_{g,1}, \\dots, \\mathbf{x}_{g,M})_M

    where :math:`M` is the size of the largest group and shorter groups are padded with
    zero vectors at the end.  ``index`` need not be sorted (the order of appearance is
    used; the reference requires sorted indices and raises otherwise).

    Args:
        in_channels (int): the size of each element.
        out_channels (int): the size of the result (the GRU's hidden size).
        **kwargs: further arguments of :class:`torch.nn.GRU` (e.g. ``num_layers``).
    """

    network = "gru"
