"""``GraphUNet``: the U-Net of graph pooling and unpooling (Gao and Ji, ICML 2019)."""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.utils.loops import add_self_loops, remove_self_loops


def _coalesce(key: Tensor, weight: Tensor, num_nodes: int) -> Tuple[Tensor, Tensor]:
    """Sum the weights of equal ``row * num_nodes + col`` keys; row-major order."""
    unique, inverse = torch.unique(key, sorted=True, return_inverse=True)
    summed = weight.new_zeros(unique.numel()).index_add(0, inverse, weight)
    return torch.stack([unique // num_nodes, unique % num_nodes]), summed


def _square_graph(edge_index: Tensor, edge_weight: Tensor, num_nodes: int
                  ) -> Tuple[Tensor, Tensor]:
    """:math:`(\\mathbf{A} + \\mathbf{I})^2` without its diagonal, edges in row-major order.

    A sparse product by index arithmetic: edge :math:`(i, k)` meets every edge
    :math:`(k, j)` (found through the row offsets), giving :math:`(i, j)` with the
    product of the weights; equal pairs are summed.
    """
    edge_index, edge_weight = remove_self_loops(edge_index, edge_weight)
    edge_index, edge_weight = add_self_loops(edge_index, edge_weight, num_nodes=num_nodes)
    (rows, cols), weight = _coalesce(edge_index[0] * num_nodes + edge_index[1],
                                     edge_weight, num_nodes)
    counts = torch.bincount(rows, minlength=num_nodes)
    starts = torch.cumsum(counts, 0) - counts
    fan = counts[cols]  # partners of each edge
    first = torch.repeat_interleave(torch.arange(rows.numel(), device=rows.device), fan)
    offset = torch.arange(first.numel(), device=rows.device) - \
        torch.repeat_interleave(torch.cumsum(fan, 0) - fan, fan)
    second = starts[cols[first]] + offset
    (rows, cols), weight = _coalesce(rows[first] * num_nodes + cols[second],
                                     weight[first] * weight[second], num_nodes)
    return remove_self_loops(torch.stack([rows, cols]), weight)


torch.fx.wrap("_square_graph")  # graph structure: one run-time call when captured


class GraphUNet(torch.nn.Module):
    r"""The Graph U-Net: GCN layers with top-:math:`k` pooling down, unpooling up.

    Down path: :math:`\mathbf{X}_0 = \sigma(\mathrm{GCN}_0(\mathbf{X}, \mathbf{A}))`;
    for level :math:`i = 1, \ldots, d` the graph is first augmented to
    :math:`\mathbf{A}_{i-1} \leftarrow (\mathbf{A}_{i-1} + \mathbf{I})^2` without
    self-loops (:meth:`augment_adj`, so pooling keeps 2-hop connectivity), then
    :class:`gfx.nn.TopKPooling` with ratio :math:`r_i` keeps nodes ``perm_i`` and
    :math:`\mathbf{X}_i = \sigma(\mathrm{GCN}_i(\mathbf{X}_{i-1}[\mathrm{perm}_i],
    \mathbf{A}_i))`.  Up path, for :math:`j = d-1, \ldots, 0`: the coarse features are
    scattered back to the kept nodes of level :math:`j` (zeros elsewhere), combined with
    the skip :math:`\mathbf{X}_j` by sum (``sum_res``) or concatenation, and passed
    through :math:`\mathrm{GCN}` on the level's original (un-augmented) graph, with
    :math:`\sigma` after every up layer but the last.  All GCN layers use
    ``improved=True`` and unit edge weights at the input.

    Args:
        in_channels (int): input features.
        hidden_channels (int): features of every hidden level.
        out_channels (int): output features.
        depth (int): number of pooling levels :math:`d \ge 1`.
        pool_ratios (float or List[float], optional): :math:`r_i` per level (one value
            is repeated). (default: ``0.5``)
        sum_res (bool, optional): sum the skip connections (else concatenate).
            (default: ``True``)
        act (callable, optional): :math:`\sigma`. (default: ``torch.nn.functional.relu``)

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``, ``batch`` ``[N]`` ->
    ``[N, out_channels]``.  Pooling changes node counts inside the model: a captured
    model calls the pooling and :meth:`augment_adj` at run time.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 depth: int, pool_ratios: Union[float, List[float]] = 0.5,
                 sum_res: bool = True, act: Callable = F.relu):
        super().__init__()
        from gfx.nn.conv.gcn_conv import GCNConv  # gfx.nn.conv is imported after models
        from gfx.nn.pool.topk_pool import TopKPooling
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"'depth' must be an int >= 1, got {depth!r}")
        if isinstance(pool_ratios, Sequence):
            if len(pool_ratios) != depth:
                raise ValueError(f"'pool_ratios' must hold one ratio per level ({depth}), "
                                 f"got {len(pool_ratios)}")
            ratios = list(pool_ratios)
        else:
            ratios = [pool_ratios] * depth
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.depth = depth
        self.pool_ratios = ratios
        self.sum_res = sum_res
        self.act = act
        channels = hidden_channels
        self.down_convs = torch.nn.ModuleList([GCNConv(in_channels, channels,
                                                       improved=True)])
        self.pools = torch.nn.ModuleList()
        for ratio in ratios:
            self.pools.append(TopKPooling(channels, ratio))
            self.down_convs.append(GCNConv(channels, channels, improved=True))
        up_in = channels if sum_res else 2 * channels
        self.up_convs = torch.nn.ModuleList(
            [GCNConv(up_in, channels, improved=True) for _ in range(depth - 1)]
            + [GCNConv(up_in, out_channels, improved=True)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset every convolution and pooling layer."""
        for module in list(self.down_convs) + list(self.pools) + list(self.up_convs):
            module.reset_parameters()

    def augment_adj(self, edge_index: Tensor, edge_weight: Tensor, num_nodes: int
                    ) -> Tuple[Tensor, Tensor]:
        """The weighted graph :math:`(\\mathbf{A} + \\mathbf{I})^2` minus its diagonal.

        Existing self-loops are replaced by loops of weight 1 before squaring.
        """
        return _square_graph(edge_index, edge_weight, num_nodes)

    def forward(self, x: Tensor, edge_index: Tensor, batch: Optional[Tensor] = None
                ) -> Tensor:
        """Run the U-Net; see the class docstring."""
        if batch is None:
            batch = edge_index.new_zeros(x.size(0))
        edge_weight = x.new_ones(edge_index.size(1))
        x = self.act(self.down_convs[0](x, edge_index, edge_weight))
        xs, edge_indices, edge_weights, perms = [x], [edge_index], [edge_weight], []
        for i in range(1, self.depth + 1):
            edge_index, edge_weight = self.augment_adj(edge_index, edge_weight, x.size(0))
            x, edge_index, edge_weight, batch, perm, _ = self.pools[i - 1](
                x, edge_index, edge_weight, batch)
            x = self.act(self.down_convs[i](x, edge_index, edge_weight))
            if i < self.depth:
                xs.append(x)
                edge_indices.append(edge_index)
                edge_weights.append(edge_weight)
            perms.append(perm)
        for i in range(self.depth):
            j = self.depth - 1 - i
            res = xs[j]
            up = torch.zeros_like(res).index_copy(0, perms[j], x)
            x = res + up if self.sum_res else torch.cat((res, up), dim=-1)
            x = self.up_convs[i](x, edge_indices[j], edge_weights[j])
            if i < self.depth - 1:
                x = self.act(x)
        return x

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, depth={self.depth}, "
                f"pool_ratios={self.pool_ratios})")


__all__ = ["GraphUNet"]
