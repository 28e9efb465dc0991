"""``LSTMAggregation``: read each group as a sequence and keep the LSTM's last output."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._dense import check_two_dimensional, to_dense_groups
from .base import Aggregation, register_aggregation

torch.fx.wrap("to_dense_groups")  # see NOTE [dense groups while tracing]


class RecurrentAggregation(Aggregation):
    """Shared body of the LSTM and GRU aggregations: pad, run the network, last step.

    Each group becomes a sequence in order of appearance, zero-padded at the end to the
    size of the largest group; the output is the network's output at the last padded
    step (so shorter groups also read some zero steps, as in the reference).
    """

    network: str = ""

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(self._error(f"'{name}' must be a positive int, got {value!r}"))
        if kwargs.get("bidirectional", False):
            raise ValueError(self._error("'bidirectional=True' is not supported: the output "
                                         "must have out_channels features"))
        self.in_channels = in_channels
        self.out_channels = out_channels
        cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[self.network]
        setattr(self, self.network, cls(in_channels, out_channels, batch_first=True, **kwargs))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the recurrent network."""
        getattr(self, self.network).reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """``out_channels``."""
        return self.out_channels

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2) -> Tensor:
        check_two_dimensional(self, x, dim)
        dense, _ = to_dense_groups(x, index, ptr, dim_size)
        out = getattr(self, self.network)(dense)[0]
        return out[:, -1]

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"


@register_aggregation("lstm")
class LSTMAggregation(RecurrentAggregation):
    """LSTM aggregation (Hamilton et al., "Inductive Representation Learning on Large
    Graphs"): the elements of a group, in order, are the input sequence of an LSTM.

    .. math::
        \\mathbf{r}_g = \\mathrm{LSTM}(\\mathbf{x}_{g,1}, \\dots, \\mathbf{x}_{g,M})_M

    where :math:`M` is the size of the largest group and shorter groups are padded with
    zero vectors at the end.  The result depends on the order of the elements; ``index``
    need not be sorted (the order of appearance is used; the reference requires sorted
    indices and raises otherwise).

    Args:
        in_channels (int): the size of each element.
        out_channels (int): the size of the result (the LSTM's hidden size).
        **kwargs: further arguments of :class:`torch.nn.LSTM` (e.g. ``num_layers``).
    """

    network = "lstm"
