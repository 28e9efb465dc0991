"""``GPSE``, the Graph Positional and Structural Encoder, and ``GPSENodeEncoder``, which
appends its encodings to node features ("Graph Positional and Structural Encoder",
Cantürk et al., ICML 2024).

Call tree of :class:`GPSE` (the module names are the reference's, so checkpoints load)::

    GPSE
    |-- pre_mp:  GeneralMultiLayer   layers_pre_mp x GeneralLayer(Linear)
    |-- mp:      GNNStackStage       layers_mp x GeneralLayer(ResGatedGCNConv),
    |                                joined by stage_type, then optional L2 norm
    `-- post_mp: GNNInductiveHybridMultiHead
                 |-- node_post_mps   one MLP per node target (width multi_head_dim_inner)
                 `-- graph_post_mp   one MLP on the pooled (or virtual node) embedding

    GeneralLayer = layer -> [BatchNorm1d] -> [Dropout] -> [activation] -> [L2 norm]
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import BatchNorm1d, Dropout, ModuleList, ReLU, Sequential
from torch.nn import Linear as TorchLinear

from gfx.nn.conv.res_gated_graph_conv import ResGatedGraphConv
from gfx.nn.resolver import activation_resolver
from gfx.utils import scatter

__all__ = ["GPSENodeEncoder", "GPSE"]

_NORM_TYPES = ("batchnorm", None)
_MODEL_TYPES = ("mlp", "linear")


class GPSENodeEncoder(torch.nn.Module):
    """Encodes precomputed GPSE encodings and concatenates them to the node features.

    With :math:`\\mathbf{P} \\in \\mathbb{R}^{N \\times d_{pe,in}}` the encodings (e.g.
    ``batch.pestat_GPSE``) and :math:`\\mathbf{X}` the node features,

    .. math::
        \\mathbf{X}' = f_x(\\mathbf{X}) \\,\\Vert\\,
        \\mathrm{drop}_{ae}\\big(\\mathrm{enc}(\\mathrm{norm}(
        \\mathrm{drop}_{be}(\\mathbf{P})))\\big),

    where :math:`f_x` is a linear map to ``dim_emb - dim_pe_out`` features if
    ``expand_x`` (the identity otherwise), ``norm`` a batch norm of the raw encodings
    (``norm_type="batchnorm"``), and ``enc`` either one linear layer or an MLP of
    ``n_layers`` ``Linear -> ReLU`` layers with hidden width ``2 * dim_pe_out``
    (``n_layers < 2`` other than ``1`` gives two layers).

    Unlike the reference, an unknown ``norm_type`` raises an error instead of silently
    disabling the normalisation.

    Args:
        dim_emb (int): size of the final node embedding (features plus encoding).
        dim_pe_in (int): size of the input encodings.
        dim_pe_out (int): size of the encoded encodings, smaller than ``dim_emb``.
        dim_in (int, optional): size of the input node features, used if ``expand_x``.
            (default: ``None``)
        expand_x (bool, optional): map the node features linearly to
            ``dim_emb - dim_pe_out`` features. (default: ``False``)
        norm_type (str, optional): ``"batchnorm"`` or ``None``. (default:
            ``"batchnorm"``)
        model_type (str, optional): ``"mlp"`` or ``"linear"``. (default: ``"mlp"``)
        n_layers (int, optional): layers of the MLP encoder. (default: ``2``)
        dropout_be (float, optional): dropout on the encodings before the encoder.
            (default: ``0.5``)
        dropout_ae (float, optional): dropout on the encodings after the encoder.
            (default: ``0.2``)
    """

    def __init__(self, dim_emb: int, dim_pe_in: int, dim_pe_out: int,
                 dim_in: Optional[int] = None, expand_x: bool = False,
                 norm_type: Optional[str] = "batchnorm", model_type: str = "mlp",
                 n_layers: int = 2, dropout_be: float = 0.5, dropout_ae: float = 0.2):
        super().__init__()
        if dim_pe_out >= dim_emb:
            raise ValueError(f"GPSENodeEncoder: 'dim_pe_out' ({dim_pe_out}) must be smaller "
                             f"than 'dim_emb' ({dim_emb})")
        if norm_type not in _NORM_TYPES:
            raise ValueError(f"GPSENodeEncoder: 'norm_type' must be one of {_NORM_TYPES}, "
                             f"got {norm_type!r}")
        if model_type not in _MODEL_TYPES:
            raise ValueError(f"GPSENodeEncoder: 'model_type' must be one of "
                             f"{_MODEL_TYPES}, got {model_type!r}")
        if expand_x and dim_in is None:
            raise ValueError("GPSENodeEncoder: 'dim_in' is required when 'expand_x' is set")
        self.expand_x = expand_x
        if expand_x:
            self.linear_x = TorchLinear(dim_in, dim_emb - dim_pe_out)
        self.raw_norm = BatchNorm1d(dim_pe_in) if norm_type == "batchnorm" else None
        self.dropout_be = Dropout(p=dropout_be)
        self.dropout_ae = Dropout(p=dropout_ae)
        if model_type == "linear":
            self.pe_encoder = TorchLinear(dim_pe_in, dim_pe_out)
        elif n_layers == 1:
            self.pe_encoder = Sequential(TorchLinear(dim_pe_in, dim_pe_out), ReLU())
        else:
            hidden = 2 * dim_pe_out
            layers = [TorchLinear(dim_pe_in, hidden), ReLU()]
            for _ in range(n_layers - 2):
                layers += [TorchLinear(hidden, hidden), ReLU()]
            layers += [TorchLinear(hidden, dim_pe_out), ReLU()]
            self.pe_encoder = Sequential(*layers)

    def reset_parameters(self) -> None:
        """Re-initialises the linear layers and the batch norm."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Tensor, pos_enc: Tensor) -> Tensor:
        """``[N, F] x [N, dim_pe_in] -> [N, F' + dim_pe_out]`` (``F' = dim_emb -
        dim_pe_out`` if ``expand_x``, else ``F``)."""
        if pos_enc.dim() != 2 or pos_enc.size(0) != x.size(0):
            raise ValueError(f"GPSENodeEncoder: 'pos_enc' must have shape [N, dim_pe_in] "
                             f"with N = x.size(0) = {x.size(0)}, got "
                             f"{tuple(pos_enc.shape)}")
        pos_enc = self.dropout_be(pos_enc)
        if self.raw_norm is not None:
            pos_enc = self.raw_norm(pos_enc)
        pos_enc = self.dropout_ae(self.pe_encoder(pos_enc))
        h = self.linear_x(x) if self.expand_x else x
        return torch.cat([h, pos_enc], dim=-1)


# ------------------------------------------------------------------------------- GPSE
class Linear(torch.nn.Module):
    """A dense layer (``torch.nn.Linear``) kept as ``self.model``."""

    def __init__(self, dim_in: int, dim_out: int, bias: bool):
        super().__init__()
        self.model = TorchLinear(dim_in, dim_out, bias=bias)

    def forward(self, x: Tensor, edge_index: Optional[Tensor] = None) -> Tensor:
        return self.model(x)


class ResGatedGCNConv(torch.nn.Module):
    """A :class:`~gfx.nn.conv.ResGatedGraphConv` kept as ``self.model``."""

    def __init__(self, dim_in: int, dim_out: int, bias: bool):
        super().__init__()
        self.model = ResGatedGraphConv(dim_in, dim_out, bias=bias)

    def forward(self, x: Tensor, edge_index: Optional[Tensor] = None) -> Tensor:
        return self.model(x, edge_index)


class GeneralLayer(torch.nn.Module):
    """``layer -> [BatchNorm1d] -> [Dropout] -> [act] -> [L2 norm]``; the layer has a
    bias only without batch norm."""

    def __init__(self, layer: type, dim_in: int, dim_out: int, has_bn: bool,
                 dropout: float, act: Optional[str], has_l2norm: bool):
        super().__init__()
        self.has_l2_norm = has_l2norm
        self.layer = layer(dim_in, dim_out, bias=not has_bn)
        post = []
        if has_bn:
            post.append(BatchNorm1d(dim_out))
        if dropout > 0:
            post.append(Dropout(p=dropout))
        if act is not None:
            post.append(activation_resolver(act))
        self.post_layer = Sequential(*post)

    def forward(self, x: Tensor, edge_index: Optional[Tensor] = None) -> Tensor:
        x = self.post_layer(self.layer(x, edge_index))
        return F.normalize(x, p=2.0, dim=-1) if self.has_l2_norm else x


class GeneralMultiLayer(torch.nn.Module):
    """``num_layers`` dense :class:`GeneralLayer` s, widths ``dim_in -> dim_inner -> ...
    -> dim_out``; all but the last have the activation, the last one if ``final_act``."""

    def __init__(self, num_layers: int, dim_in: int, dim_out: int, dim_inner: int,
                 has_bn: bool, dropout: float, act: str, final_act: bool,
                 has_l2norm: bool):
        super().__init__()
        for i in range(num_layers):
            last = i == num_layers - 1
            self.add_module(f"Layer_{i}", GeneralLayer(
                Linear, dim_in if i == 0 else dim_inner,
                dim_out if last else dim_inner, has_bn, dropout,
                act if final_act or not last else None, has_l2norm))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.children():
            x = layer(x)
        return x


class MLP(torch.nn.Module):
    """``num_layers - 1`` hidden :class:`GeneralLayer` s of width ``dim_inner``, then a
    linear layer (with bias) to ``dim_out``."""

    def __init__(self, num_layers: int, dim_in: int, dim_out: int, dim_inner: int,
                 has_bn: bool, dropout: float, act: str, has_l2norm: bool):
        super().__init__()
        layers = []
        if num_layers > 1:
            layers.append(GeneralMultiLayer(num_layers - 1, dim_in, dim_inner, dim_inner,
                                            has_bn, dropout, act, True, has_l2norm))
            dim_in = dim_inner
        layers.append(Linear(dim_in, dim_out, bias=True))
        self.model = Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class GNNStackStage(torch.nn.Module):
    """``num_layers`` :class:`ResGatedGCNConv` layers joined as ``stage_type`` says:
    ``stack`` (:math:`h \\leftarrow f(h)`), ``skipsum`` (:math:`h \\leftarrow h + f(h)`)
    or ``skipconcat`` (:math:`h \\leftarrow h \\Vert f(h)` but after the last layer)."""

    def __init__(self, dim: int, num_layers: int, stage_type: str, final_l2norm: bool,
                 **layer_kwargs):
        super().__init__()
        self.num_layers = num_layers
        self.stage_type = stage_type
        self.final_l2_norm = final_l2norm
        for i in range(num_layers):
            d_in = dim + i * dim if stage_type == "skipconcat" else dim
            self.add_module(f"layer{i}", GeneralLayer(ResGatedGCNConv, d_in, dim,
                                                      **layer_kwargs))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for i, layer in enumerate(self.children()):
            h = layer(x, edge_index)
            if self.stage_type == "skipsum":
                h = x + h
            elif self.stage_type == "skipconcat" and i < self.num_layers - 1:
                h = torch.cat([x, h], dim=-1)
            x = h
        return F.normalize(x, p=2.0, dim=-1) if self.final_l2_norm else x


class GNNInductiveHybridMultiHead(torch.nn.Module):
    """One MLP per node target on the node embeddings and one MLP for the graph targets
    on the virtual node's embedding (``virtual_node``) or the pooled embeddings."""

    def __init__(self, dim_in: int, num_node_targets: int, num_graph_targets: int,
                 num_layers: int, multi_head_dim_inner: int, virtual_node: bool,
                 graph_pooling: str, has_bn: bool, dropout: float, act: str,
                 has_l2norm: bool):
        super().__init__()
        self.node_target_dim = num_node_targets
        self.graph_target_dim = num_graph_targets
        self.virtual_node = virtual_node
        self.graph_pooling = graph_pooling
        self.node_post_mps = ModuleList([
            MLP(num_layers, dim_in, 1, multi_head_dim_inner, has_bn, dropout, act,
                has_l2norm)
            for _ in range(num_node_targets)])
        self.graph_post_mp = MLP(num_layers, dim_in, num_graph_targets, dim_in, has_bn,
                                 dropout, act, has_l2norm)

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tuple[Tensor, Tensor]:
        """``(node_pred [N, num_node_targets], graph_pred [B, num_graph_targets])``."""
        node_pred = torch.cat([mlp(x) for mlp in self.node_post_mps], dim=-1)
        pooled = scatter(x, batch, dim=0, dim_size=num_graphs,
                         reduce=_POOLING[self.graph_pooling])
        return node_pred, self.graph_post_mp(pooled)


_POOLING = {"add": "sum", "mean": "mean", "max": "max"}
_STAGE_TYPES = ("stack", "skipsum", "skipconcat")


class GPSE(torch.nn.Module):
    """The Graph Positional and Structural Encoder: a deep residual gated GNN trained to
    predict many positional and structural encodings of every node (and some graph
    properties) from random node features, whose hidden node embeddings then serve as
    positional/structural encodings (PSE) for downstream models.

    With :math:`\\mathbf{X}` (e.g. random) input features,

    .. math::
        \\mathbf{H}^{(0)} &= \\mathrm{MLP}_{pre}(\\mathbf{X}) \\\\
        \\mathbf{H}^{(l+1)} &= \\mathbf{H}^{(l)} + \\mathrm{L2}\\big(\\sigma(
        \\mathrm{BN}(\\mathrm{ResGatedGraphConv}_l(\\mathbf{H}^{(l)})))\\big)
        \\quad(\\texttt{skipsum}) \\\\
        \\hat{y}_{v,k} &= \\mathrm{MLP}_k(\\mathrm{L2}(\\mathbf{h}_v^{(L)})), \\quad
        \\hat{\\mathbf{y}}_G = \\mathrm{MLP}_G\\Big(\\textstyle\\bigoplus_{v \\in G}
        \\mathrm{L2}(\\mathbf{h}_v^{(L)})\\Big)

    with one head :math:`\\mathrm{MLP}_k` per node target (its hidden layers also
    L2-normalised when ``has_l2norm``) and :math:`\\bigoplus` the
    ``graph_pooling``.  With ``virtual_node`` the last node of every graph is the
    virtual node (added by the data transform, connected to every node): it is pooled
    with the others but its node predictions and targets are left out.

    :meth:`forward` takes a batch with ``x``, ``edge_index``, ``batch`` (optional for a
    single graph), node targets ``y`` ``[N, num_node_targets]`` and graph targets
    ``y_graph`` ``[B, num_graph_targets]``, and returns ``(pred, true)``, both
    ``[N' + B, num_node_targets + num_graph_targets]`` and block diagonal: the node rows
    (without virtual nodes) in the first columns, the graph rows in the last.

    ``dim_out``, ``use_repr``, ``repr_type`` and ``bernoulli_threshold`` are stored for
    the code that extracts the encodings; they do not change :meth:`forward`.  Unlike the
    reference, an unknown ``stage_type`` or a ``layer_type`` other than
    ``"resgatedgcnconv"`` raises an error (the reference silently stacks, or fails with a
    bare ``KeyError``), and so do layer counts the reference cannot run
    (``layers_mp < 1``, ``layers_post_mp < 2``, ``layers_pre_mp < 1``).

    Args:
        dim_in (int, optional): input feature size. (default: ``20``)
        dim_out (int, optional): size of the encodings. (default: ``51``)
        dim_inner (int, optional): hidden size. (default: ``512``)
        layer_type (str, optional): message passing layer, ``"resgatedgcnconv"``.
            (default: ``"resgatedgcnconv"``)
        layers_pre_mp (int, optional): dense layers before message passing.
            (default: ``1``)
        layers_mp (int, optional): message passing layers. (default: ``20``)
        layers_post_mp (int, optional): layers of each head MLP. (default: ``2``)
        num_node_targets (int, optional): node targets (one head each). (default: ``51``)
        num_graph_targets (int, optional): graph targets. (default: ``11``)
        stage_type (str, optional): ``"stack"``, ``"skipsum"`` or ``"skipconcat"``.
            (default: ``"skipsum"``)
        has_bn (bool, optional): batch norm in the pre-MP and MP layers.
            (default: ``True``)
        head_bn (bool, optional): batch norm in the heads' hidden layers.
            (default: ``False``)
        final_l2norm (bool, optional): L2-normalise the output of the MP stage.
            (default: ``True``)
        has_l2norm (bool, optional): L2-normalise the output of every pre-MP and MP
            layer. (default: ``True``)
        dropout (float, optional): dropout after every hidden layer. (default: ``0.2``)
        has_act (bool, optional): activation after each MP layer. (default: ``True``)
        final_act (bool, optional): activation after the last pre-MP layer.
            (default: ``True``)
        act (str, optional): the activation, by name. (default: ``"relu"``)
        virtual_node (bool, optional): the last node of each graph is a virtual node.
            (default: ``True``)
        multi_head_dim_inner (int, optional): hidden size of the node heads.
            (default: ``32``)
        graph_pooling (str, optional): ``"add"``, ``"mean"`` or ``"max"``.
            (default: ``"add"``)
        use_repr (bool, optional): stored. (default: ``True``)
        repr_type (str, optional): stored. (default: ``"no_post_mp"``)
        bernoulli_threshold (float, optional): stored. (default: ``0.5``)
    """

    def __init__(self, dim_in: int = 20, dim_out: int = 51, dim_inner: int = 512,
                 layer_type: str = "resgatedgcnconv", layers_pre_mp: int = 1,
                 layers_mp: int = 20, layers_post_mp: int = 2, num_node_targets: int = 51,
                 num_graph_targets: int = 11, stage_type: str = "skipsum",
                 has_bn: bool = True, head_bn: bool = False, final_l2norm: bool = True,
                 has_l2norm: bool = True, dropout: float = 0.2, has_act: bool = True,
                 final_act: bool = True, act: str = "relu", virtual_node: bool = True,
                 multi_head_dim_inner: int = 32, graph_pooling: str = "add",
                 use_repr: bool = True, repr_type: str = "no_post_mp",
                 bernoulli_threshold: float = 0.5):
        super().__init__()
        if layer_type != "resgatedgcnconv":
            raise ValueError(f"GPSE: 'layer_type' must be 'resgatedgcnconv', got "
                             f"{layer_type!r}")
        if stage_type not in _STAGE_TYPES:
            raise ValueError(f"GPSE: 'stage_type' must be one of {_STAGE_TYPES}, got "
                             f"{stage_type!r}")
        if graph_pooling not in _POOLING:
            raise ValueError(f"GPSE: 'graph_pooling' must be one of {tuple(_POOLING)}, "
                             f"got {graph_pooling!r}")
        for name, value, least in (("layers_pre_mp", layers_pre_mp, 1),
                                   ("layers_mp", layers_mp, 1),
                                   ("layers_post_mp", layers_post_mp, 2)):
            if value < least:
                raise ValueError(f"GPSE: '{name}' must be at least {least}, got {value}")
        activation_resolver(act)    # an unknown name fails here, naming the choices
        self.dim_out = dim_out
        self.use_repr = use_repr
        self.repr_type = repr_type
        self.bernoulli_threshold = bernoulli_threshold
        self.pre_mp = GeneralMultiLayer(layers_pre_mp, dim_in, dim_inner, dim_inner,
                                        has_bn, dropout, act, final_act, has_l2norm)
        self.mp = GNNStackStage(dim_inner, layers_mp, stage_type, final_l2norm,
                                has_bn=has_bn, dropout=dropout,
                                act=act if has_act else None, has_l2norm=has_l2norm)
        self.post_mp = GNNInductiveHybridMultiHead(
            dim_inner, num_node_targets, num_graph_targets, layers_post_mp,
            multi_head_dim_inner, virtual_node, graph_pooling, head_bn, dropout, act,
            has_l2norm)

    def reset_parameters(self) -> None:
        """Re-initialises every linear, convolution and batch norm layer."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, batch) -> Tuple[Tensor, Tensor]:
        """``(pred, true)`` for a batch with ``x``, ``edge_index``, ``y``, ``y_graph``
        (see the class docstring)."""
        for name in ("x", "edge_index", "y", "y_graph"):
            if getattr(batch, name, None) is None:
                raise ValueError(f"GPSE: the input batch has no '{name}' (forward needs x, "
                                 f"edge_index, node targets y and graph targets y_graph)")
        x, edge_index = batch.x, batch.edge_index
        index = getattr(batch, "batch", None)
        if index is None:
            index = x.new_zeros(x.size(0), dtype=torch.long)
        num_graphs = int(index.max()) + 1 if index.numel() else 0
        h = self.mp(self.pre_mp(x), edge_index)
        node_pred, graph_pred = self.post_mp(h, index, num_graphs)
        node_true, graph_true = batch.y, batch.y_graph
        if self.post_mp.virtual_node:
            keep = torch.ones(x.size(0), dtype=torch.bool, device=x.device)
            last = torch.full((num_graphs,), -1, dtype=torch.long, device=x.device)
            last = last.scatter_reduce(0, index, torch.arange(x.size(0), device=x.device),
                                       reduce="amax")
            keep[last] = False
            node_pred, node_true = node_pred[keep], node_true[keep]
        return (_block_diagonal(node_pred, graph_pred),
                _block_diagonal(node_true, graph_true.view(num_graphs, -1)))


def _block_diagonal(nodes: Tensor, graphs: Tensor) -> Tensor:
    """``[[nodes, 0], [0, graphs]]``."""
    top = torch.cat([nodes, nodes.new_zeros(nodes.size(0), graphs.size(1))], dim=1)
    bottom = torch.cat([graphs.new_zeros(graphs.size(0), nodes.size(1)), graphs], dim=1)
    return torch.cat([top, bottom], dim=0)
