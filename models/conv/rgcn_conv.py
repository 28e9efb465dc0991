"""``RGCNConv`` and ``FastRGCNConv``: relational graph convolution (Schlichtkrull et al., 2018)."""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.nn import inits
from gfx.ops import gather, scatter
from gfx.ops._checks import is_tracing
from gfx.utils.sparse import is_torch_sparse_tensor, adj_t_to_edge_index

AGGRS = ("add", "sum", "mean", "max")


def relation_edges(edge_index: Tensor, edge_type: Tensor, num_relations: int,
                   is_sorted: bool) -> List[Tensor]:
    """The ``edge_index`` of each relation ``0 .. num_relations - 1``, edge order kept.

    With ``is_sorted`` the edges of one relation are contiguous and are sliced out
    (``edge_type`` must be non-decreasing); otherwise they are selected with a mask.
    """
    if is_sorted:
        if edge_type.numel() > 1 and bool((edge_type[1:] < edge_type[:-1]).any()):
            raise ValueError("RGCNConv: is_sorted=True, but 'edge_type' is not sorted in "
                             "non-decreasing order; sort the edges or pass is_sorted=False")
        counts = torch.bincount(edge_type, minlength=num_relations)
        return list(edge_index.split(counts.tolist(), dim=1))
    return [edge_index[:, edge_type == r] for r in range(num_relations)]


# Splitting the edges by relation is graph structure: one call in captured graphs.
torch.fx.wrap("relation_edges")


def _holds_ids(x: Optional[Tensor]) -> bool:
    """``x`` stands for one-hot features: ``None``, or (eagerly) a 1-D integer tensor.

    While tracing, a tensor's dtype is unknown and it is taken for features.
    """
    if x is None:
        return True
    return not is_tracing(x) and not x.is_floating_point() and x.dim() == 1


class RGCNConv(MessagePassing):
    """The relational graph convolutional operator of "Modeling Relational Data with
    Graph Convolutional Networks".

    .. math::
        \\mathbf{x}'_i = \\mathbf{\\Theta}_{\\mathrm{root}} \\mathbf{x}_i +
        \\sum_{r \\in \\mathcal{R}} \\mathbf{\\Theta}_r
        \\bigoplus_{j \\in \\mathcal{N}_r(i)} \\mathbf{x}_j + \\mathbf{b}

    where :math:`\\mathcal{N}_r(i)` are the neighbours of :math:`i` under relation
    :math:`r` and :math:`\\bigoplus` is ``aggr`` applied per relation (``"mean"`` gives
    the paper's :math:`\\sum_j \\frac{1}{|\\mathcal{N}_r(i)|} \\mathbf{\\Theta}_r
    \\mathbf{x}_j`; a relation without neighbours contributes 0).  Features are
    aggregated first and transformed once per node (for ``"add"`` and ``"mean"`` this
    equals transforming each message; for ``"max"`` the maximum is taken over the raw
    features, as in the reference library).  With ``num_bases`` :math:`B`, each
    :math:`\\mathbf{\\Theta}_r = \\sum_{b} a_{rb} \\mathbf{V}_b` (``comp`` holds
    :math:`a`, ``weight`` the :math:`\\mathbf{V}_b`); with ``num_blocks``,
    :math:`\\mathbf{\\Theta}_r` is block-diagonal.  ``x`` may also be ``None`` or a 1-D
    tensor of node ids, meaning one-hot features: :math:`\\mathbf{\\Theta}_r
    \\mathbf{x}_j` is then row ``x_j`` of ``weight[r]`` (learned node embeddings), and
    ``in_channels`` is the number of nodes.

    This layer loops over the relations (memory-light); :class:`FastRGCNConv` computes
    all messages at once.

    Args:
        in_channels (int or (int, int)): input features (number of nodes for one-hot
            input), or ``(source, target)`` sizes.
        out_channels (int): output features per node.
        num_relations (int): number of relations :math:`|\\mathcal{R}|`.
        num_bases (int, optional): use the basis decomposition with this many bases.
            (default: ``None``)
        num_blocks (int, optional): use the block-diagonal decomposition with this many
            blocks (it must divide ``in_channels`` and ``out_channels``).
            (default: ``None``)
        aggr (str, optional): ``"add"``, ``"mean"`` or ``"max"``, applied per relation.
            (default: ``"mean"``)
        root_weight (bool, optional): add :math:`\\mathbf{\\Theta}_{\\mathrm{root}}
            \\mathbf{x}_i`. (default: ``True``)
        is_sorted (bool, optional): the edges are sorted by ``edge_type``; each
            relation's edges are then sliced instead of masked. (default: ``False``)
        bias (bool, optional): learn an additive bias. (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing`.

    Shapes: ``x`` ``[N, in]``, ``[N]`` node ids, ``None``, or a ``(source, target)``
    pair of those; ``edge_index`` ``[2, E]`` or a torch.sparse ``adj_t`` whose values
    are the relations (it must hold each edge once: coalescing adds the values of
    duplicates); ``edge_type`` ``[E]`` -> ``[N_dst, out_channels]``.  While ``gfx``
    traces the layer, a tensor ``x`` is taken for features (node ids cannot be told
    from features without reading the dtype); ``None`` works in both.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 num_relations: int, num_bases: Optional[int] = None,
                 num_blocks: Optional[int] = None, aggr: str = "mean",
                 root_weight: bool = True, is_sorted: bool = False, bias: bool = True,
                 **kwargs):
        name = type(self).__name__
        if aggr not in AGGRS:
            raise ValueError(f"{name}: unknown aggr '{aggr}'; expected one of {AGGRS}")
        kwargs.setdefault("node_dim", 0)
        super().__init__(aggr=aggr, **kwargs)
        self.in_channels = in_channels  # as given (str() and attribute as the reference)
        if isinstance(in_channels, int):
            in_channels = (in_channels, in_channels)
        if min(in_channels) < 1 or out_channels < 1 or num_relations < 1:
            raise ValueError(f"{name}: in_channels, out_channels and num_relations must be "
                             f"positive (lazy -1 sizes are not supported), got "
                             f"{in_channels}, {out_channels}, {num_relations}")
        if num_bases is not None and num_blocks is not None:
            raise ValueError(f"{name}: use either num_bases or num_blocks, not both")
        if num_blocks is not None and (in_channels[0] % num_blocks or out_channels % num_blocks):
            raise ValueError(f"{name}: num_blocks={num_blocks} must divide in_channels="
                             f"{in_channels[0]} and out_channels={out_channels}")
        self._in_pair = in_channels
        self.out_channels = out_channels
        self.num_relations = num_relations
        self.num_bases = num_bases
        self.num_blocks = num_blocks
        self.root_weight = root_weight
        self.is_sorted = is_sorted
        if num_bases is not None:
            self.weight = Parameter(torch.empty(num_bases, in_channels[0], out_channels))
            self.comp = Parameter(torch.empty(num_relations, num_bases))
        elif num_blocks is not None:
            self.weight = Parameter(torch.empty(num_relations, num_blocks,
                                                in_channels[0] // num_blocks,
                                                out_channels // num_blocks))
            self.register_parameter("comp", None)
        else:
            self.weight = Parameter(torch.empty(num_relations, in_channels[0], out_channels))
            self.register_parameter("comp", None)
        if root_weight:
            self.root = Parameter(torch.empty(in_channels[1], out_channels))
        else:
            self.register_parameter("root", None)
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        inits.glorot(self.weight)
        inits.glorot(self.comp)
        inits.glorot(self.root)
        inits.zeros(self.bias)

    # ------------------------------------------------------------------ helpers
    def relation_weights(self) -> Tensor:
        """:math:`\\mathbf{\\Theta}_r` for every relation (``[R, in, out]``, or blocks)."""
        if self.num_bases is None:
            return self.weight
        return (self.comp @ self.weight.view(self.num_bases, -1)).view(
            self.num_relations, self._in_pair[0], self.out_channels)

    def _prepare(self, x, edge_index, edge_type):
        """Split ``x`` into sides (node ids for ``None``), read a sparse ``adj_t``, and
        validate (eagerly).  Returns the sides, whether each holds ids, the
        connectivity, the relations and the size."""
        name = type(self).__name__
        x_src, x_dst = (x[0], x[1]) if isinstance(x, (tuple, list)) else (x, x)
        ids = (_holds_ids(x_src), _holds_ids(x_dst))
        device = self.weight.device
        if x_src is None:
            x_src = torch.arange(self._in_pair[0], device=device)
        if x_dst is None:
            x_dst = torch.arange(self._in_pair[1], device=device)
        if is_torch_sparse_tensor(edge_index):
            edge_index, values = adj_t_to_edge_index(edge_index)
            edge_type = values.long() if edge_type is None else edge_type
        if edge_type is None:
            raise ValueError(f"{name}: 'edge_type' is required (one relation id per edge), "
                             f"unless edge_index is a sparse adj_t holding the relations")
        if self.num_blocks is not None and ids[0]:
            raise ValueError(f"{name}: the block-diagonal decomposition needs feature "
                             f"vectors, not node ids as 'x'")
        if not is_tracing(edge_type, edge_index):
            self._check(x_src, x_dst, ids, edge_index, edge_type)
        return x_src, x_dst, ids, edge_index, edge_type, (x_src.shape[0], x_dst.shape[0])

    def _check(self, x_src, x_dst, ids, edge_index, edge_type) -> None:
        name = type(self).__name__
        for side, value, is_ids, expected in (("source", x_src, ids[0], self._in_pair[0]),
                                              ("target", x_dst, ids[1], self._in_pair[1])):
            if is_tracing(value):
                continue
            if is_ids:
                if value.numel() and (int(value.min()) < 0 or int(value.max()) >= expected):
                    raise IndexError(f"{name}: the {side} node ids 'x' must lie in "
                                     f"[0, {expected}) (in_channels), got {int(value.max())}")
            elif value.shape[-1] != expected:
                raise ValueError(f"{name}: the {side} node features 'x' have "
                                 f"{value.shape[-1]} channels, but in_channels={expected}")
        if edge_type.dim() != 1 or edge_type.numel() != edge_index.shape[-1] \
                or edge_type.is_floating_point():
            raise ValueError(f"{name}: 'edge_type' must be an integer tensor [num_edges] "
                             f"({edge_index.shape[-1]}), got {edge_type.dtype} of shape "
                             f"{list(edge_type.shape)}")
        if edge_type.numel() and (int(edge_type.min()) < 0
                                  or int(edge_type.max()) >= self.num_relations):
            raise ValueError(f"{name}: 'edge_type' values must lie in [0, {self.num_relations})"
                             f" (num_relations), got {int(edge_type.min())}.."
                             f"{int(edge_type.max())}")

    def _transform(self, x: Tensor, ids: bool, weight: Tensor) -> Tensor:
        """:math:`\\mathbf{\\Theta} \\mathbf{x}` for every node: a row lookup for node ids."""
        if ids:
            return gather(weight, x, 0)
        if self.num_blocks is not None:
            blocks = x.view(-1, self.num_blocks, weight.shape[-2])
            return torch.einsum("nbi,bio->nbo", blocks, weight).reshape(-1, self.out_channels)
        return x @ weight

    def _root(self, out: Tensor, x_dst: Tensor, ids: bool) -> Tensor:
        if self.root is not None:
            out = out + (gather(self.root, x_dst, 0) if ids else x_dst @ self.root)
        if self.bias is not None:
            out = out + self.bias
        return out

    # ------------------------------------------------------------------ forward
    def forward(self, x: Union[Optional[Tensor], Tuple[Optional[Tensor], Optional[Tensor]]],
                edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        x_src, x_dst, ids, edge_index, edge_type, size = self._prepare(x, edge_index, edge_type)
        weights = self.relation_weights()
        parts = relation_edges(edge_index, edge_type, self.num_relations, self.is_sorted)
        out = None
        for r in range(self.num_relations):
            if ids[0]:  # no features to aggregate: aggregate the rows of weight[r]
                part = self.propagate(parts[r], x=self._transform(x_src, True, weights[r]),
                                      size=size)
            else:
                part = self._transform(self.propagate(parts[r], x=x_src, size=size), False,
                                       weights[r])
            out = part if out is None else out + part
        return self._root(out, x_dst, ids[1])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_relations={self.num_relations})")


class FastRGCNConv(RGCNConv):
    """:class:`RGCNConv` computing the messages of all relations at once.

    Each edge's message is :math:`\\mathbf{\\Theta}_{r(e)} \\mathbf{x}_j` with the
    weight of its own relation, computed in one batched product (memory grows with
    ``num_edges * in_channels * out_channels``), then reduced once; the mean divides
    by the number of neighbours of the same relation, so the result equals
    :class:`RGCNConv`'s.  Same arguments as :class:`RGCNConv`, except that ``aggr``
    must be ``"add"``/``"sum"`` or ``"mean"``.
    """

    def __init__(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                 num_relations: int, num_bases: Optional[int] = None,
                 num_blocks: Optional[int] = None, aggr: str = "mean",
                 root_weight: bool = True, is_sorted: bool = False, bias: bool = True,
                 **kwargs):
        if aggr not in ("add", "sum", "mean"):
            raise ValueError(f"FastRGCNConv: aggr must be 'add', 'sum' or 'mean', got "
                             f"'{aggr}' (use RGCNConv for 'max')")
        super().__init__(in_channels, out_channels, num_relations, num_bases, num_blocks,
                         aggr, root_weight, is_sorted, bias, **kwargs)

    def forward(self, x: Union[Optional[Tensor], Tuple[Optional[Tensor], Optional[Tensor]]],
                edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        x_src, x_dst, ids, edge_index, edge_type, size = self._prepare(x, edge_index, edge_type)
        out = self.propagate(edge_index, x=x_src, edge_type=edge_type, ids=ids[0], size=size)
        return self._root(out, x_dst, ids[1])

    def message(self, x_j: Tensor, edge_type: Tensor, ids: bool) -> Tensor:
        weights = self.relation_weights()
        if ids:
            flat = weights.reshape(-1, self.out_channels)
            return gather(flat, edge_type * self._in_pair[0] + x_j, 0)
        weight = gather(weights, edge_type, 0)
        if self.num_blocks is not None:
            blocks = x_j.view(-1, self.num_blocks, weight.shape[-2])
            return torch.einsum("ebi,ebio->ebo", blocks, weight).reshape(-1, self.out_channels)
        return torch.bmm(x_j.unsqueeze(-2), weight).squeeze(-2)

    def aggregate(self, inputs: Tensor, edge_type: Tensor, index: Tensor,
                  dim_size: Optional[int] = None) -> Tensor:
        if self.aggr != "mean":
            return scatter(inputs, index, 0, dim_size, "sum")
        # 1 / |N_r(i)| for each edge (j, i) of relation r.
        group = index * self.num_relations + edge_type
        ones = torch.ones_like(group, dtype=inputs.dtype)
        count = scatter(ones, group, 0, dim_size * self.num_relations, "sum")
        norm = 1.0 / gather(count, group, 0)
        return scatter(inputs * norm.view(-1, 1), index, 0, dim_size, "sum")


__all__ = ["FastRGCNConv", "RGCNConv"]
