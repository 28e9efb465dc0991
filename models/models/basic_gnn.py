"""Full models built from one convolution type: GCN, GraphSAGE, GIN, GAT, PNA, EdgeCNN.

# NOTE [basic gnn layer]
Every model is :class:`BasicGNN`: ``num_layers`` convolutions, and after each but the
last (after every one when ``jk`` is set) a normalisation, an activation and dropout.
With ``jk`` the per-layer embeddings are combined (:class:`JumpingKnowledge`, or the
last one for ``"last"``) and mapped by a final linear layer; without it, the last
convolution maps straight to ``out_channels``.  Subclasses only say how to build a
convolution (:meth:`BasicGNN.init_conv`) and which edge inputs it takes.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
from torch import Tensor

from gfx.message_passing import MessagePassing
from gfx.nn.conv.edge_conv import EdgeConv
from gfx.nn.conv.gat_conv import GATConv
from gfx.nn.conv.gatv2_conv import GATv2Conv
from gfx.nn.conv.gcn_conv import GCNConv
from gfx.nn.conv.gin_conv import GINConv
from gfx.nn.conv.pna_conv import PNAConv
from gfx.nn.conv.sage_conv import SAGEConv
from gfx.nn.dense.linear import Linear
from gfx.nn.models.jumping_knowledge import JumpingKnowledge
from gfx.nn.models.mlp import MLP, takes_batch
from gfx.nn.resolver import activation_resolver, normalization_resolver
from gfx.ops._checks import is_tracing

JK_MODES = (None, "last", "cat", "max", "lstm")


class BasicGNN(torch.nn.Module):
    """Base class of the full models (see NOTE [basic gnn layer]).

    For :math:`\\ell = 1, \\ldots, L` (``num_layers``):

    .. math::
        \\mathbf{X}^{(\\ell)} = \\mathrm{Dropout}\\left(\\sigma\\left(\\mathrm{Norm}\\left(
        \\mathrm{Conv}_\\ell(\\mathbf{X}^{(\\ell-1)}, \\mathbf{A})\\right)\\right)\\right)

    (:math:`\\sigma` before the normalisation with ``act_first=True``), where the last
    layer is only :math:`\\mathrm{Conv}_L` when ``jk`` is ``None``; with ``jk`` the output
    is :math:`\\mathrm{Lin}(\\mathrm{JK}(\\mathbf{X}^{(1)}, \\ldots, \\mathbf{X}^{(L)}))`.

    Args:
        in_channels (int or (int, int)): input features, ``-1`` for lazy (a pair for
            bipartite first layers where the convolution supports them).
        hidden_channels (int): features of each hidden embedding.
        num_layers (int): number of convolutions (at least 1).
        out_channels (int, optional): output features; ``None`` keeps
            ``hidden_channels``. (default: ``None``)
        dropout (float, optional): dropout probability after each hidden layer.
            (default: ``0.0``)
        act (str or Callable, optional): activation, see
            :func:`gfx.nn.models.mlp.activation_resolver`. (default: ``"relu"``)
        act_first (bool, optional): activation before normalisation. (default: ``False``)
        act_kwargs (dict, optional): arguments of the activation. (default: ``None``)
        norm (str or Callable, optional): normalisation, see
            :func:`gfx.nn.models.mlp.normalization_resolver`; a module instance is
            copied for every layer. (default: ``None``)
        norm_kwargs (dict, optional): arguments of the normalisation. (default: ``None``)
        jk (str, optional): jumping knowledge mode: ``None``, ``"last"``, ``"cat"``,
            ``"max"`` or ``"lstm"``; any but ``None`` adds a final linear layer.
            (default: ``None``)
        **kwargs: arguments of the convolution.

    Shapes: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]`` -> ``[N, out_channels]``
    (fewer rows when trimming, see :meth:`forward`).
    """

    supports_edge_weight: bool = False
    supports_edge_attr: bool = False

    def __init__(self, in_channels: Union[int, Tuple[int, int]], hidden_channels: int,
                 num_layers: int, out_channels: Optional[int] = None, dropout: float = 0.0,
                 act: Union[str, Callable, None] = "relu", act_first: bool = False,
                 act_kwargs: Optional[Dict[str, Any]] = None,
                 norm: Union[str, Callable, None] = None,
                 norm_kwargs: Optional[Dict[str, Any]] = None, jk: Optional[str] = None,
                 **kwargs):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{name}: 'num_layers' must be a positive int, got {num_layers!r}")
        if jk not in JK_MODES:
            raise ValueError(f"{name}: unknown jk mode {jk!r}; expected one of "
                             f"{', '.join(map(repr, JK_MODES))}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.dropout = torch.nn.Dropout(p=dropout)
        self.act = activation_resolver(act, **(act_kwargs or {}))
        self.jk_mode = jk
        self.act_first = act_first
        # Kept for init_conv (GIN and EdgeCNN pass it on to their MLPs); stored outside
        # the module registry so that a norm given as a module adds no state_dict keys.
        self.__dict__["norm"] = norm
        self.norm_kwargs = norm_kwargs
        self.out_channels = hidden_channels if out_channels is None else out_channels

        to_out = out_channels is not None and jk is None
        self.convs = torch.nn.ModuleList()
        for i in range(num_layers):
            last = i == num_layers - 1
            self._is_conv_to_out = last and to_out
            cin = in_channels if i == 0 else hidden_channels
            cout = out_channels if self._is_conv_to_out else hidden_channels
            self.convs.append(self.init_conv(cin, cout, **kwargs))

        self.norms = torch.nn.ModuleList()
        for i in range(num_layers):
            layer = None
            if i < num_layers - 1 or jk is not None:
                layer = normalization_resolver(norm, hidden_channels, **(norm_kwargs or {}))
            self.norms.append(layer if layer is not None else torch.nn.Identity())
        self.supports_norm_batch = takes_batch(self.norms[0])

        if jk is not None and jk != "last":
            self.jk = JumpingKnowledge(jk, hidden_channels, num_layers)
        if jk is not None:
            jk_out = num_layers * hidden_channels if jk == "cat" else hidden_channels
            self.lin = Linear(jk_out, self.out_channels)

    def init_conv(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                  **kwargs) -> MessagePassing:
        """Build one convolution; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define init_conv()")

    def reset_parameters(self) -> None:
        for module in (*self.convs, *self.norms):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        if hasattr(self.act, "reset_parameters"):
            self.act.reset_parameters()
        if hasattr(self, "jk"):
            self.jk.reset_parameters()
        if hasattr(self, "lin"):
            self.lin.reset_parameters()

    # ------------------------------------------------------------------ forward
    def _check_inputs(self, x: Tensor, edge_weight, edge_attr) -> None:
        name = type(self).__name__
        if edge_weight is not None and not self.supports_edge_weight:
            raise ValueError(f"{name}: 'edge_weight' is not supported by "
                             f"{type(self.convs[0]).__name__}; pass edge_weight=None")
        if edge_attr is not None and not self.supports_edge_attr:
            raise ValueError(f"{name}: 'edge_attr' is not supported by "
                             f"{type(self.convs[0]).__name__}; pass edge_attr=None")
        cin = self.in_channels
        if isinstance(cin, int) and cin > 0 and isinstance(x, Tensor) and \
                not is_tracing(x) and x.shape[-1] != cin:
            raise ValueError(f"{name}: 'x' must have in_channels={cin} features in the last "
                             f"dimension, got shape {list(x.shape)}")

    @staticmethod
    def _trim(layer: int, nodes_per_hop: List[int], edges_per_hop: List[int], x: Tensor,
              edge_index: Tensor, edge_values: List[Optional[Tensor]]):
        """Drop the nodes and edges of the outermost hop that layer ``layer`` no longer needs."""
        if layer == 0:
            return x, edge_index, edge_values
        num_nodes = x.shape[0] - nodes_per_hop[-layer]
        num_edges = edge_index.shape[1] - edges_per_hop[-layer]
        edge_values = [None if v is None else v[:num_edges] for v in edge_values]
        return x[:num_nodes], edge_index[:, :num_edges], edge_values

    def _conv(self, conv, x, edge_index, edge_weight, edge_attr) -> Tensor:
        if self.supports_edge_weight and self.supports_edge_attr:
            return conv(x, edge_index, edge_weight=edge_weight, edge_attr=edge_attr)
        if self.supports_edge_weight:
            return conv(x, edge_index, edge_weight=edge_weight)
        if self.supports_edge_attr:
            return conv(x, edge_index, edge_attr=edge_attr)
        return conv(x, edge_index)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                edge_attr: Optional[Tensor] = None, batch: Optional[Tensor] = None,
                batch_size: Optional[int] = None,
                num_sampled_nodes_per_hop: Optional[List[int]] = None,
                num_sampled_edges_per_hop: Optional[List[int]] = None) -> Tensor:
        """Run the model.

        Args:
            x (Tensor): ``[N, in_channels]`` node features.
            edge_index (Tensor): ``[2, E]`` connectivity (or a torch.sparse ``adj_t``).
            edge_weight (Tensor, optional): ``[E]`` weights, where the convolution
                takes them (``supports_edge_weight``). (default: ``None``)
            edge_attr (Tensor, optional): ``[E, D]`` features, where the convolution
                takes them (``supports_edge_attr``). (default: ``None``)
            batch (Tensor, optional): graph id per node, for graph-wise normalisations.
                (default: ``None``)
            batch_size (int, optional): number of graphs. (default: ``None``)
            num_sampled_nodes_per_hop (list of int, optional): nodes per hop of a
                hop-ordered sampled subgraph; layer :math:`\\ell` then drops the
                :math:`\\ell` outermost hops, which no longer reach the seeds.
                (default: ``None``)
            num_sampled_edges_per_hop (list of int, optional): edges per hop, needed
                with ``num_sampled_nodes_per_hop``. (default: ``None``)
        """
        name = type(self).__name__
        self._check_inputs(x, edge_weight, edge_attr)
        trim = num_sampled_nodes_per_hop is not None
        if trim and num_sampled_edges_per_hop is None:
            raise ValueError(f"{name}: 'num_sampled_edges_per_hop' must be given together "
                             f"with 'num_sampled_nodes_per_hop'")
        xs: List[Tensor] = []
        last = self.num_layers - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            if trim:
                x, edge_index, (edge_weight, edge_attr) = self._trim(
                    i, num_sampled_nodes_per_hop, num_sampled_edges_per_hop, x, edge_index,
                    [edge_weight, edge_attr])
            x = self._conv(conv, x, edge_index, edge_weight, edge_attr)
            if i < last or self.jk_mode is not None:
                if self.act is not None and self.act_first:
                    x = self.act(x)
                x = norm(x, batch, batch_size) if self.supports_norm_batch else norm(x)
                if self.act is not None and not self.act_first:
                    x = self.act(x)
                x = self.dropout(x)
            if hasattr(self, "jk"):
                xs.append(x)
        if hasattr(self, "jk"):
            if trim:  # earlier layers kept more nodes: align on the surviving prefix
                xs = [h[:x.shape[0]] for h in xs]
            x = self.jk(xs)
        if hasattr(self, "lin"):
            x = self.lin(x)
        return x

    @torch.no_grad()
    def inference(self, loader: Any, device: Optional[Union[str, torch.device]] = None,
                  embedding_device: Union[str, torch.device] = "cpu",
                  progress_bar: bool = False, cache: bool = False) -> Tensor:
        """Layer-wise inference over a loader of one-hop subgraphs, for large graphs.

        Layer :math:`\\ell` is run for every node before layer :math:`\\ell + 1` starts:
        for each batch, the embeddings :math:`\\mathbf{X}^{(\\ell-1)}` of the batch's nodes
        (``batch.n_id``) are gathered from the full table, the convolution runs on
        ``batch.edge_index``, and the first ``batch.batch_size`` rows (the seed nodes,
        which must come first in ``n_id``) are written back at their global indices.
        With one-hop batches that hold every in-edge of their seeds, the result equals
        :meth:`forward` on the full graph for convolutions that only read their target's
        in-edges (not :class:`GCN`, whose normalisation also reads source degrees).

        Args:
            loader: an iterable of batches with ``n_id``, ``batch_size`` and
                ``edge_index`` (plus ``edge_weight`` / ``edge_attr`` when the model
                takes them), whose seeds together cover every node once, and a
                ``data`` attribute holding the full graph's ``x`` (a one-hop
                ``NeighborLoader``).
            device (torch.device, optional): where the layers run; ``None`` keeps each
                batch where it is. (default: ``None``)
            embedding_device (torch.device, optional): where the full embedding table
                is kept between layers. (default: ``"cpu"``)
            progress_bar (bool, optional): show a ``tqdm`` progress bar.
                (default: ``False``)
            cache (bool, optional): keep the batches (moved to ``device``) after the
                first layer instead of iterating the loader again. (default: ``False``)

        Returns:
            Tensor: ``[N, out_channels]`` embeddings, on ``embedding_device``.
        """
        name = type(self).__name__
        if self.jk_mode not in (None, "last"):
            raise ValueError(f"{name}.inference: jk={self.jk_mode!r} combines layers and "
                             f"cannot run layer-wise; only jk=None or 'last' are supported")
        if self.training:
            raise RuntimeError(f"{name}.inference: call model.eval() first (layer-wise "
                               f"inference runs without dropout and batch statistics)")
        data = getattr(loader, "data", None)
        if data is None or getattr(data, "x", None) is None:
            raise ValueError(f"{name}.inference: 'loader' must have a 'data' attribute "
                             f"with the full graph's node features 'x'")
        sampler = getattr(loader, "node_sampler", loader)
        hops = getattr(sampler, "num_neighbors", None)
        if hops is not None and not isinstance(hops, dict) and len(hops) != 1:
            raise ValueError(f"{name}.inference: 'loader' must sample one hop "
                             f"(num_neighbors of length 1), got {list(hops)}")
        x_all = data.x.to(embedding_device)
        num_nodes = x_all.shape[0]
        bar = None
        if progress_bar:
            from tqdm import tqdm
            bar = tqdm(total=self.num_layers * len(loader), desc="Inference")
        batches = None
        last = self.num_layers - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            out = None
            seen = torch.zeros(num_nodes, dtype=torch.bool, device=x_all.device)
            source = batches if batches is not None else loader
            kept = [] if cache and batches is None else None
            for batch in source:
                if kept is not None:
                    batch = batch.to(device) if device is not None else batch
                    kept.append(batch)
                n_id = batch.n_id.to(x_all.device)
                seeds = n_id[:batch.batch_size]
                x = x_all[n_id]
                if device is not None:
                    x = x.to(device)
                edge_index = batch.edge_index.to(x.device)
                edge_weight = getattr(batch, "edge_weight", None) \
                    if self.supports_edge_weight else None
                edge_attr = getattr(batch, "edge_attr", None) \
                    if self.supports_edge_attr else None
                edge_weight = None if edge_weight is None else edge_weight.to(x.device)
                edge_attr = None if edge_attr is None else edge_attr.to(x.device)
                x = self._conv(conv, x, edge_index, edge_weight, edge_attr)[:batch.batch_size]
                if i < last or self.jk_mode is not None:
                    if self.act is not None and self.act_first:
                        x = self.act(x)
                    x = norm(x)
                    if self.act is not None and not self.act_first:
                        x = self.act(x)
                if i == last and hasattr(self, "lin"):
                    x = self.lin(x)
                if out is None:
                    out = x.new_zeros(num_nodes, x.shape[-1], device=x_all.device)
                out[seeds] = x.to(x_all.device)
                seen[seeds] = True
                if bar is not None:
                    bar.update(1)
            if kept is not None:
                batches = kept
            if out is None or not bool(seen.all()):
                missing = (~seen).nonzero().view(-1)[:5].tolist()
                raise ValueError(f"{name}.inference: the loader's seed nodes must cover all "
                                 f"{num_nodes} nodes; nodes {missing} (and maybe more) "
                                 f"were never a seed")
            x_all = out
        if bar is not None:
            bar.close()
        return x_all

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"num_layers={self.num_layers})")


class GCN(BasicGNN):
    """The model of "Semi-supervised Classification with Graph Convolutional Networks":
    :class:`BasicGNN` with :class:`gfx.nn.GCNConv` layers (takes ``edge_weight``).

    :math:`\\mathrm{Conv}_\\ell(\\mathbf{X}) = \\hat{\\mathbf{D}}^{-1/2} \\hat{\\mathbf{A}}
    \\hat{\\mathbf{D}}^{-1/2} \\mathbf{X} \\mathbf{\\Theta}_\\ell`; the arguments are those of
    :class:`BasicGNN`, ``**kwargs`` go to :class:`gfx.nn.GCNConv`.
    """

    supports_edge_weight = True
    supports_edge_attr = False

    def init_conv(self, in_channels: int, out_channels: int, **kwargs) -> MessagePassing:
        return GCNConv(in_channels, out_channels, **kwargs)


class GraphSAGE(BasicGNN):
    """The model of "Inductive Representation Learning on Large Graphs":
    :class:`BasicGNN` with :class:`gfx.nn.SAGEConv` layers.

    :math:`\\mathrm{Conv}_\\ell(\\mathbf{X})_i = \\mathbf{W}_1 \\mathbf{x}_i + \\mathbf{W}_2
    \\,\\mathrm{mean}_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j`; the arguments are those of
    :class:`BasicGNN` (``in_channels`` may be a ``(source, target)`` pair), ``**kwargs``
    go to :class:`gfx.nn.SAGEConv`.
    """

    supports_edge_weight = False
    supports_edge_attr = False

    def init_conv(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                  **kwargs) -> MessagePassing:
        return SAGEConv(in_channels, out_channels, **kwargs)


class GIN(BasicGNN):
    """The model of "How Powerful are Graph Neural Networks?": :class:`BasicGNN` with
    :class:`gfx.nn.GINConv` layers.

    :math:`\\mathrm{Conv}_\\ell(\\mathbf{X})_i = h_\\ell\\left((1 + \\epsilon)\\mathbf{x}_i +
    \\sum_{j \\in \\mathcal{N}(i)} \\mathbf{x}_j\\right)` with :math:`h_\\ell` a two-layer
    :class:`MLP` ``[in, out, out]`` that uses the model's ``act``, ``act_first``, ``norm``
    and ``norm_kwargs``; ``**kwargs`` go to :class:`gfx.nn.GINConv`.
    """

    supports_edge_weight = False
    supports_edge_attr = False

    def init_conv(self, in_channels: int, out_channels: int, **kwargs) -> MessagePassing:
        mlp = MLP([in_channels, out_channels, out_channels], act=self.act,
                  act_first=self.act_first, norm=self.norm,
                  norm_kwargs=self.norm_kwargs)
        return GINConv(mlp, **kwargs)


class GAT(BasicGNN):
    """The model of "Graph Attention Networks" (or, with ``v2=True``, of "How Attentive
    are Graph Attention Networks?"): :class:`BasicGNN` with :class:`gfx.nn.GATConv` (or
    :class:`gfx.nn.GATv2Conv`) layers, which take ``edge_attr``.

    :math:`\\mathrm{Conv}_\\ell(\\mathbf{X})_i = \\Vert_{h=1}^{H} \\sum_{j \\in
    \\mathcal{N}(i) \\cup \\{i\\}} \\alpha^h_{ij} \\mathbf{\\Theta}^h \\mathbf{x}_j`.  Each
    hidden layer has ``heads`` heads of ``hidden_channels // heads`` features,
    concatenated (``hidden_channels`` must be divisible by ``heads`` unless
    ``concat=False``); a last layer that maps to ``out_channels`` averages its heads
    instead.  The attention dropout of every layer is the model's ``dropout``.

    Args:
        v2 (bool, optional): use :class:`gfx.nn.GATv2Conv`. (default: ``False``)
        heads (int, optional): attention heads. (default: ``1``)
        concat (bool, optional): concatenate the heads of hidden layers.
            (default: ``True``)
        **kwargs: the arguments of :class:`BasicGNN`, then those of the convolution.
    """

    supports_edge_weight = False
    supports_edge_attr = True

    def init_conv(self, in_channels: Union[int, Tuple[int, int]], out_channels: int,
                  **kwargs) -> MessagePassing:
        v2 = kwargs.pop("v2", False)
        heads = kwargs.pop("heads", 1)
        concat = kwargs.pop("concat", True)
        if self._is_conv_to_out:  # the output layer averages its heads
            concat = False
        if concat:
            if out_channels % heads != 0:
                raise ValueError(f"GAT: hidden_channels={out_channels} must be divisible by "
                                 f"heads={heads} when the heads are concatenated")
            out_channels //= heads
        conv = GATv2Conv if v2 else GATConv
        return conv(in_channels, out_channels, heads=heads, concat=concat,
                    dropout=self.dropout.p, **kwargs)


class PNA(BasicGNN):
    """The model of "Principal Neighbourhood Aggregation for Graph Nets":
    :class:`BasicGNN` with :class:`gfx.nn.PNAConv` layers, which take ``edge_attr``.

    :math:`\\mathrm{Conv}_\\ell(\\mathbf{X})_i = \\gamma\\left(\\mathbf{x}_i, \\bigoplus_{j
    \\in \\mathcal{N}(i)} h(\\mathbf{x}_i, \\mathbf{x}_j, \\mathbf{e}_{ji})\\right)`, with
    :math:`\\bigoplus` the ``aggregators`` combined with the degree ``scalers``;
    ``**kwargs`` (``aggregators``, ``scalers``, ``deg``, ``edge_dim``, ``towers``, ...)
    go to :class:`gfx.nn.PNAConv`.
    """

    supports_edge_weight = False
    supports_edge_attr = True

    def init_conv(self, in_channels: int, out_channels: int, **kwargs) -> MessagePassing:
        return PNAConv(in_channels, out_channels, **kwargs)


class EdgeCNN(BasicGNN):
    """The model of "Dynamic Graph CNN for Learning on Point Clouds": :class:`BasicGNN`
    with :class:`gfx.nn.EdgeConv` layers.

    :math:`\\mathrm{Conv}_\\ell(\\mathbf{X})_i = \\max_{j \\in \\mathcal{N}(i)} h_\\ell(
    \\mathbf{x}_i \\,\\Vert\\, \\mathbf{x}_j - \\mathbf{x}_i)` with :math:`h_\\ell` a two-layer
    :class:`MLP` ``[2 * in, out, out]`` that uses the model's ``act``, ``act_first``,
    ``norm`` and ``norm_kwargs``; ``**kwargs`` go to :class:`gfx.nn.EdgeConv`.
    """

    supports_edge_weight = False
    supports_edge_attr = False

    def init_conv(self, in_channels: int, out_channels: int, **kwargs) -> MessagePassing:
        mlp_in = -1 if in_channels == -1 else 2 * in_channels
        mlp = MLP([mlp_in, out_channels, out_channels], act=self.act,
                  act_first=self.act_first, norm=self.norm, norm_kwargs=self.norm_kwargs)
        return EdgeConv(mlp, **kwargs)


__all__ = ["BasicGNN", "EdgeCNN", "GAT", "GCN", "GIN", "GraphSAGE", "PNA"]
