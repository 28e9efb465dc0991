"""``PNAConv``: Principal Neighbourhood Aggregation (Corso et al., NeurIPS 2020), built
on :class:`gfx.nn.aggr.DegreeScalerAggregation`."""
from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.aggr.scaler import DegreeScalerAggregation
from gfx.nn.dense.linear import Linear
from gfx.ops._checks import is_tracing
from gfx.utils.degree import degree
from gfx.utils.sparse import is_torch_sparse_tensor



class _Call(torch.nn.Module):
    """Wraps a plain callable (e.g. ``torch.tanh``) so it can sit in a Sequential."""

    def __init__(self, fn: Callable[[Tensor], Tensor]):
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))


def resolve_activation(act: Union[str, Callable, None], act_kwargs: Optional[Dict[str, Any]],
                       owner: str) -> torch.nn.Module:
    """A fresh activation module from a name (``"relu"``, ``"leaky_relu"``, ``"gelu"``,
    any :mod:`torch.nn` activation, case and underscores ignored), a module (copied), a
    callable (wrapped), or ``None`` (identity)."""
    if act is None:
        return torch.nn.Identity()
    if isinstance(act, torch.nn.Module):
        return copy.deepcopy(act)
    if isinstance(act, str):
        wanted = act.replace("_", "").lower()
        choices = {name.lower(): getattr(torch.nn.modules.activation, name)
                   for name in torch.nn.modules.activation.__all__}
        if wanted not in choices:
            raise ValueError(f"{owner}: unknown activation {act!r}; expected a torch.nn "
                             f"activation name such as 'relu', 'leaky_relu', 'elu', 'gelu', "
                             f"'tanh', a module or a callable")
        return choices[wanted](**(act_kwargs or {}))
    if callable(act):
        return _Call(act)
    raise TypeError(f"{owner}: 'act' must be a name, a module, a callable or None, got "
                    f"{type(act).__name__}")


class PNAConv(MessagePassing):
    """The Principal Neighbourhood Aggregation operator of "Principal Neighbourhood
    Aggregation for Graph Nets".

    .. math::
        \\mathbf{x}'_i = \\gamma_{\\Theta}\\Big(\\mathbf{x}_i,
        \\bigoplus_{j \\in \\mathcal{N}(i)} h_{\\Theta}(\\mathbf{x}_i, \\mathbf{x}_j,
        \\mathbf{e}_{j,i})\\Big), \\qquad
        \\bigoplus = \\underbrace{\\begin{bmatrix} 1 \\\\ S(d, \\alpha) \\\\ \\vdots
        \\end{bmatrix}}_{\\text{scalers}} \\otimes
        \\underbrace{\\begin{bmatrix} \\mu \\\\ \\sigma \\\\ \\max \\\\ \\min
        \\end{bmatrix}}_{\\text{aggregators}}

    computed in ``towers`` independent parts: tower :math:`t` sees
    :math:`\\mathbf{x}^{(t)}` (a slice of :math:`F/T` channels with ``divide_input``,
    else all of :math:`\\mathbf{x}`), its pre-MLP :math:`h^{(t)}` maps
    :math:`[\\mathbf{x}^{(t)}_i \\| \\mathbf{x}^{(t)}_j \\| \\mathbf{W}_e
    \\mathbf{e}_{j,i}]` (edge part only with ``edge_dim``), the messages are aggregated
    by :class:`DegreeScalerAggregation`, its post-MLP :math:`\\gamma^{(t)}` maps
    :math:`[\\mathbf{x}^{(t)}_i \\| \\bigoplus_j \\cdots]` to ``out_channels / towers``
    features, and a final linear layer ``lin`` mixes the concatenated towers.

    Args:
        in_channels (int): input features per node, :math:`F`.
        out_channels (int): output features per node.
        aggregators ([str]): aggregator names: ``"sum"``, ``"mean"``, ``"min"``,
            ``"max"``, ``"var"``, ``"std"`` (any name :func:`aggregation_resolver`
            knows).
        scalers ([str]): ``"identity"``, ``"amplification"``, ``"attenuation"``,
            ``"linear"``, ``"inverse_linear"``.
        deg (Tensor): in-degree histogram of the training graphs (see
            :meth:`get_degree_histogram`).
        edge_dim (int, optional): edge feature size; ``edge_attr`` is then required.
            (default: ``None``)
        towers (int, optional): number of towers :math:`T`; must divide
            ``out_channels`` (and ``in_channels`` with ``divide_input``). (default: ``1``)
        pre_layers (int, optional): linear layers in each pre-MLP. (default: ``1``)
        post_layers (int, optional): linear layers in each post-MLP. (default: ``1``)
        divide_input (bool, optional): split the input channels between the towers.
            (default: ``False``)
        act (str or callable, optional): activation between MLP layers.
            (default: ``"relu"``)
        act_kwargs (dict, optional): arguments of a named activation. (default: ``None``)
        train_norm (bool, optional): learn the degree averages of the scalers.
            (default: ``False``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``, ``edge_attr``
    ``[E, edge_dim]`` -> ``[N, out_channels]``.  The ``std`` aggregator gives 0 for
    neighbourhoods whose variance is at most ``1e-5`` (see :class:`StdAggregation`),
    where the reference library gives :math:`\\sqrt{10^{-5}}`.
    """

    def __init__(self, in_channels: int, out_channels: int, aggregators: List[str],
                 scalers: List[str], deg: Tensor, edge_dim: Optional[int] = None,
                 towers: int = 1, pre_layers: int = 1, post_layers: int = 1,
                 divide_input: bool = False, act: Union[str, Callable, None] = "relu",
                 act_kwargs: Optional[Dict[str, Any]] = None, train_norm: bool = False,
                 **kwargs):
        super().__init__(aggr=None, node_dim=0, **kwargs)
        # Set after the base constructor: given an Aggregation instance, the base also
        # registers it as ``aggr``, which would duplicate its buffers in the checkpoint.
        self.aggr_module = DegreeScalerAggregation(aggregators, scalers, deg, train_norm)
        self.aggr = str(self.aggr_module)
        if in_channels <= 0:
            raise ValueError(f"PNAConv: in_channels must be positive (lazy sizes are not "
                             f"supported), got {in_channels}")
        if towers < 1 or out_channels % towers != 0:
            raise ValueError(f"PNAConv: out_channels={out_channels} must be divisible by "
                             f"towers={towers}")
        if divide_input and in_channels % towers != 0:
            raise ValueError(f"PNAConv: with divide_input=True, in_channels={in_channels} "
                             f"must be divisible by towers={towers}")
        if pre_layers < 1 or post_layers < 1:
            raise ValueError(f"PNAConv: pre_layers and post_layers must be at least 1, got "
                             f"{pre_layers} and {post_layers}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.edge_dim = edge_dim
        self.towers = towers
        self.divide_input = divide_input
        self.F_in = in_channels // towers if divide_input else in_channels
        self.F_out = out_channels // towers
        if edge_dim is not None:
            self.edge_encoder = Linear(edge_dim, self.F_in)
        parts = 3 if edge_dim is not None else 2
        aggr_channels = self.aggr_module.get_out_channels(self.F_in)
        self.pre_nns = torch.nn.ModuleList([
            self._mlp(parts * self.F_in, self.F_in, pre_layers, act, act_kwargs)
            for _ in range(towers)])
        self.post_nns = torch.nn.ModuleList([
            self._mlp(aggr_channels + self.F_in, self.F_out, post_layers, act, act_kwargs)
            for _ in range(towers)])
        self.lin = Linear(out_channels, out_channels)
        self.reset_parameters()

    @staticmethod
    def _mlp(in_channels: int, out_channels: int, layers: int, act, act_kwargs
             ) -> torch.nn.Sequential:
        modules: List[torch.nn.Module] = [Linear(in_channels, out_channels)]
        for _ in range(layers - 1):
            modules += [resolve_activation(act, act_kwargs, "PNAConv"),
                        Linear(out_channels, out_channels)]
        return torch.nn.Sequential(*modules)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.edge_dim is not None:
            self.edge_encoder.reset_parameters()
        for mlp in list(self.pre_nns) + list(self.post_nns):
            for module in mlp:
                if isinstance(module, Linear):
                    module.reset_parameters()
        self.lin.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, (tuple, list)):
            raise ValueError("PNAConv does not support bipartite (source, target) inputs")
        self._check_inputs(x, edge_index, edge_attr)
        if self.divide_input:
            x = x.view(-1, self.towers, self.F_in)
        else:
            x = x.view(-1, 1, self.F_in).repeat(1, self.towers, 1)
        out = self.propagate(edge_index, x=x, edge_attr=edge_attr)
        out = torch.cat([x, out], dim=-1)
        outs = [mlp(out[:, t]) for t, mlp in enumerate(self.post_nns)]
        return self.lin(torch.cat(outs, dim=1))

    def _check_inputs(self, x: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor]) -> None:
        if self.edge_dim is not None and edge_attr is None:
            raise ValueError(f"PNAConv: edge_dim={self.edge_dim} was set, so 'edge_attr' "
                             f"[num_edges, {self.edge_dim}] is required")
        if self.edge_dim is None and edge_attr is not None:
            raise ValueError("PNAConv: got 'edge_attr' but the layer was built with "
                             "edge_dim=None; pass edge_dim to use edge features")
        if is_tracing(x, edge_attr):
            return
        if x.dim() != 2 or x.shape[-1] != self.in_channels:
            raise ValueError(f"PNAConv: expected 'x' of shape [num_nodes, {self.in_channels}] "
                             f"(in_channels={self.in_channels}), got {list(x.shape)}")
        if edge_attr is not None:
            num_edges = edge_attr.shape[0] if is_torch_sparse_tensor(edge_index) \
                else edge_index.shape[-1]
            if edge_attr.dim() != 2 or edge_attr.shape[-1] != self.edge_dim \
                    or edge_attr.shape[0] != num_edges:
                raise ValueError(f"PNAConv: expected 'edge_attr' of shape [{num_edges}, "
                                 f"{self.edge_dim}] (edge_dim={self.edge_dim}), got "
                                 f"{list(edge_attr.shape)}")

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr: Optional[Tensor]) -> Tensor:
        parts = [x_i, x_j]
        if edge_attr is not None:
            encoded = self.edge_encoder(edge_attr).view(-1, 1, self.F_in)
            parts.append(encoded.repeat(1, self.towers, 1))
        h = torch.cat(parts, dim=-1)
        return torch.stack([mlp(h[:, t]) for t, mlp in enumerate(self.pre_nns)], dim=1)

    @staticmethod
    def get_degree_histogram(loader) -> Tensor:
        """In-degree histogram over the graphs of ``loader`` (``hist[d]`` = nodes of degree d).

        Args:
            loader (iterable): graphs (or batches) with ``edge_index`` and ``num_nodes``.
        """
        hist = torch.zeros(1, dtype=torch.long)
        for data in loader:
            deg = degree(data.edge_index[1].cpu(), data.num_nodes, dtype=torch.long)
            counts = torch.bincount(deg, minlength=1)
            if counts.numel() > hist.numel():
                hist = torch.cat([hist, hist.new_zeros(counts.numel() - hist.numel())])
            hist[:counts.numel()] += counts
        return hist

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"towers={self.towers}, edge_dim={self.edge_dim})")


__all__ = ["PNAConv"]
