"""Layer building blocks of GraphGym: the layer config, the post-layer wrapper, and dense
layers.

Every layer takes either a tensor or a graph batch.  Given a batch it updates
``batch.x`` (``batch.edge_attr`` for edge-level layers) and returns the batch; given a
tensor it returns a tensor.  The call tree of a wrapped layer::

    GeneralLayer(name, layer_config)
    |-- layer_dict[name](layer_config)       the layer itself (no bias under batch norm)
    |-- post_layer: BatchNorm1d -> Dropout -> activation   (each only if configured)
    |-- L2 normalisation of the output                     (if has_l2norm)

    GeneralMultiLayer(name, layer_config)   num_layers GeneralLayers, widths
                                            dim_in -> dim_inner -> ... -> dim_out

The message passing wrappers (``gcnconv``, ``sageconv``, ..., ``splineconv``) update
``batch.x`` with one gfx layer kept as ``self.model``.

# NOTE [compiled graphgym layers]
With ``cfg.gfx.compile`` the model builder calls :meth:`MessagePassingLayer.gfx_compile` on
every wrapper: the wrapper keeps a :func:`gfx.compile` d version of ``self.model``
outside the module tree and calls it instead.  The compiled module shares the
parameters, so ``state_dict`` keys, checkpoints, optimisers and DDP see the same model
as without compilation; only the tensor-level layer is compiled, the batch plumbing
around it stays eager.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.nn.dense.linear import Linear as DenseLinear
from gfx.graphgym.models.general_conv import GeneralConvLayer, GeneralEdgeConvLayer
from gfx.graphgym.register import act_dict, layer_dict, register_layer, resolve


@dataclass
class LayerConfig:
    """The options one GraphGym layer is built from.

    Args:
        has_batchnorm (bool): batch norm after the layer (which then has no bias).
        bn_eps (float): batch norm epsilon.
        bn_mom (float): batch norm momentum.
        mem_inplace (bool): in-place dropout and activations.
        dim_in (int): input width.
        dim_out (int): output width.
        edge_dim (int): edge feature width (edge-aware layers).
        dim_inner (int, optional): hidden width of multi-layer blocks (``None``: the
            output width).
        num_layers (int): layers of a multi-layer block.
        final_act (bool): activation after the last layer of a multi-layer block.
        has_act (bool): activation after the layer.
        has_bias (bool): learn a bias.
        has_l2norm (bool): L2-normalise the output rows.
        dropout (float): dropout probability after the layer.
        act (str): the registered activation.
        keep_edge (float): fraction of edges kept by edge-sampling layers in training.
    """

    has_batchnorm: bool = False
    bn_eps: float = 1e-5
    bn_mom: float = 0.1
    mem_inplace: bool = False
    dim_in: int = -1
    dim_out: int = -1
    edge_dim: int = -1
    dim_inner: Optional[int] = None
    num_layers: int = 2
    final_act: bool = True
    has_act: bool = True
    has_bias: bool = True
    has_l2norm: bool = False
    dropout: float = 0.0
    act: str = "relu"
    keep_edge: float = 0.5


def new_layer_config(dim_in: int, dim_out: int, num_layers: int, has_act: bool,
                     has_bias: bool, cfg) -> LayerConfig:
    """A :class:`LayerConfig` with the given sizes and everything else from ``cfg``
    (batch norm, dropout, activation, edge width, ``keep_edge``, ``dim_inner``).

    Args:
        dim_in (int): input width.
        dim_out (int): output width.
        num_layers (int): number of layers (multi-layer blocks).
        has_act (bool): activation after the layer.
        has_bias (bool): learn a bias.
        cfg (CfgNode): the configuration.
    """
    return LayerConfig(
        has_batchnorm=cfg.gnn.batchnorm, bn_eps=cfg.bn.eps, bn_mom=cfg.bn.mom,
        mem_inplace=cfg.mem.inplace, dim_in=dim_in, dim_out=dim_out,
        edge_dim=cfg.dataset.edge_dim, dim_inner=cfg.gnn.dim_inner, num_layers=num_layers,
        final_act=True, has_act=has_act, has_bias=has_bias, has_l2norm=False,
        dropout=cfg.gnn.dropout, act=cfg.gnn.act, keep_edge=cfg.gnn.keep_edge)


def _apply(batch, fn, key: str = "x"):
    """``fn(batch)`` for a tensor; ``batch.<key> = fn(batch.<key>)`` for a graph batch."""
    if isinstance(batch, Tensor):
        return fn(batch)
    batch[key] = fn(batch[key])
    return batch


class GeneralLayer(torch.nn.Module):
    """A registered layer followed by batch norm, dropout, activation and L2 norm, each
    as configured.

    Under batch norm the layer gets no bias (the norm's shift replaces it).

    Args:
        name (str): the registered name of the layer (``cfg.gnn.layer_type``).
        layer_config (LayerConfig): the layer's options.
        **kwargs (optional): further arguments of the layer.
    """

    def __init__(self, name: str, layer_config: LayerConfig, **kwargs):
        super().__init__()
        self.has_l2norm = layer_config.has_l2norm
        has_bn = layer_config.has_batchnorm
        layer_config = replace(layer_config, has_bias=not has_bn)
        self.layer = resolve(layer_dict, name, "the layer name")(layer_config, **kwargs)
        post = []
        if has_bn:
            post.append(torch.nn.BatchNorm1d(layer_config.dim_out, eps=layer_config.bn_eps,
                                             momentum=layer_config.bn_mom))
        if layer_config.dropout > 0:
            post.append(torch.nn.Dropout(p=layer_config.dropout,
                                         inplace=layer_config.mem_inplace))
        if layer_config.has_act:
            post.append(resolve(act_dict, layer_config.act, "cfg.gnn.act")())
        self.post_layer = torch.nn.Sequential(*post)

    def _post(self, x: Tensor) -> Tensor:
        x = self.post_layer(x)
        return F.normalize(x, p=2.0, dim=-1) if self.has_l2norm else x

    def forward(self, batch):
        return _apply(self.layer(batch), self._post)


class GeneralMultiLayer(torch.nn.Module):
    """``num_layers`` :class:`GeneralLayer` s in a row, widths ``dim_in -> dim_inner ->
    ... -> dim_out``; all but the last always have an activation, the last one has one
    if ``final_act``.

    Args:
        name (str): the registered name of the layers.
        layer_config (LayerConfig): the options (``num_layers``, ``dim_inner``,
            ``final_act``).
        **kwargs (optional): further arguments of the layers.
    """

    def __init__(self, name: str, layer_config: LayerConfig, **kwargs):
        super().__init__()
        if layer_config.num_layers < 1:
            raise ValueError(f"GeneralMultiLayer: num_layers must be >= 1, got "
                             f"{layer_config.num_layers}")
        dim_inner = layer_config.dim_out if layer_config.dim_inner is None \
            else layer_config.dim_inner
        last = layer_config.num_layers - 1
        for i in range(layer_config.num_layers):
            sub = replace(layer_config,
                          dim_in=layer_config.dim_in if i == 0 else dim_inner,
                          dim_out=layer_config.dim_out if i == last else dim_inner,
                          has_act=layer_config.final_act if i == last else True)
            self.add_module(f"Layer_{i}", GeneralLayer(name, sub, **kwargs))

    def forward(self, batch):
        for layer in self.children():
            batch = layer(batch)
        return batch


@register_layer("linear")
class Linear(torch.nn.Module):
    """A dense layer on node features, :math:`\\mathbf{x}' = \\mathbf{x}\\mathbf{W}^\\top
    + \\mathbf{b}`.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        self.model = DenseLinear(layer_config.dim_in, layer_config.dim_out,
                                 bias=layer_config.has_bias)

    def forward(self, batch):
        return _apply(batch, self.model)


class BatchNorm1dNode(torch.nn.Module):
    """Batch normalisation of node features ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``bn_eps``, ``bn_mom``.
    """

    def __init__(self, layer_config: LayerConfig):
        super().__init__()
        self.bn = torch.nn.BatchNorm1d(layer_config.dim_in, eps=layer_config.bn_eps,
                                       momentum=layer_config.bn_mom)

    def forward(self, batch):
        return _apply(batch, self.bn, "x")


class BatchNorm1dEdge(torch.nn.Module):
    """Batch normalisation of edge features ``batch.edge_attr``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``bn_eps``, ``bn_mom``.
    """

    def __init__(self, layer_config: LayerConfig):
        super().__init__()
        self.bn = torch.nn.BatchNorm1d(layer_config.dim_in, eps=layer_config.bn_eps,
                                       momentum=layer_config.bn_mom)

    def forward(self, batch):
        return _apply(batch, self.bn, "edge_attr")


@register_layer("mlp")
class MLP(torch.nn.Module):
    """A multi-layer perceptron: ``num_layers - 1`` hidden layers of width ``dim_inner``
    (each with ReLU, no batch norm), then a plain :class:`Linear` to ``dim_out``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``dim_inner`` (``None``:
            ``dim_in``), ``num_layers``; the layers always have a bias.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        if layer_config.num_layers < 1:
            raise ValueError(f"MLP: num_layers must be >= 1, got {layer_config.num_layers}")
        dim_inner = layer_config.dim_in if layer_config.dim_inner is None \
            else layer_config.dim_inner
        layer_config = replace(layer_config, has_bias=True)
        layers = []
        if layer_config.num_layers > 1:
            hidden = LayerConfig(num_layers=layer_config.num_layers - 1,
                                 dim_in=layer_config.dim_in, dim_out=dim_inner,
                                 dim_inner=dim_inner, final_act=True)
            layers.append(GeneralMultiLayer("linear", hidden))
            layer_config = replace(layer_config, dim_in=dim_inner)
        layers.append(Linear(layer_config))
        self.model = torch.nn.Sequential(*layers)

    def forward(self, batch):
        return self.model(batch)


# ----------------------------------------------------------------------------- message passing
class MessagePassingLayer(torch.nn.Module):
    """Base of the wrappers: holds ``self.model`` and, once compiled, its compiled twin
    (see NOTE [compiled graphgym layers])."""

    def gfx_compile(self, backend: str = "auto") -> None:
        """Run ``self.model`` through :func:`gfx.compile` from now on.

        Args:
            backend (str, optional): the :func:`gfx.compile` backend. (default: ``"auto"``)
        """
        import gfx
        # Not an attribute of the module tree: parameters stay registered once.
        object.__setattr__(self, "_compiled", gfx.compile(self.model, backend=backend))

    @property
    def is_compiled(self) -> bool:
        """Whether :meth:`gfx_compile` was called."""
        return self.__dict__.get("_compiled") is not None

    def conv(self, *args, **kwargs):
        """Call the layer (its compiled version if any) on tensors."""
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            return self.model(*args, **kwargs)
        compiled.train(self.training)
        return compiled(*args, **kwargs)

    #: ``(module, class)`` of a layer built as ``cls(dim_in, dim_out, bias=has_bias)``;
    #: wrappers that build their layer otherwise define ``__init__`` instead.
    conv_path: Optional[Tuple[str, str]] = None

    def __init__(self, layer_config: Optional[LayerConfig] = None, **kwargs):
        super().__init__()
        if self.conv_path is not None:
            module, name = self.conv_path
            conv = getattr(importlib.import_module(module), name)
            self.model = conv(layer_config.dim_in, layer_config.dim_out,
                              bias=layer_config.has_bias)

    def forward(self, batch):
        """``batch.x`` <- the layer applied to ``(batch.x, batch.edge_index)``; wrappers with
        other inputs override this."""
        batch.x = self.conv(batch.x, batch.edge_index)
        return batch


@register_layer("gcnconv")
class GCNConv(MessagePassingLayer):
    """A graph convolution (:class:`gfx.nn.GCNConv`) on ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    conv_path = ("gfx.nn.conv.gcn_conv", "GCNConv")


@register_layer("sageconv")
class SAGEConv(MessagePassingLayer):
    """A GraphSAGE layer (:class:`gfx.nn.SAGEConv`, mean aggregation) on ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    conv_path = ("gfx.nn.conv.sage_conv", "SAGEConv")


@register_layer("gatconv")
class GATConv(MessagePassingLayer):
    """A graph attention layer (:class:`gfx.nn.GATConv`, one head) on ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    conv_path = ("gfx.nn.conv.gat_conv", "GATConv")


@register_layer("ginconv")
class GINConv(MessagePassingLayer):
    """A graph isomorphism layer (:class:`gfx.nn.GINConv`) on ``batch.x`` whose network is
    ``Linear(dim_in, dim_out) -> ReLU -> Linear(dim_out, dim_out)``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        from gfx.nn.conv.gin_conv import GINConv as Conv
        from gfx.nn.dense.linear import Linear
        mlp = torch.nn.Sequential(
            Linear(layer_config.dim_in, layer_config.dim_out, bias=layer_config.has_bias),
            torch.nn.ReLU(),
            Linear(layer_config.dim_out, layer_config.dim_out, bias=layer_config.has_bias))
        self.model = Conv(mlp)


@register_layer("generalconv")
class GeneralConv(MessagePassingLayer):
    """GraphGym's general layer (:class:`GeneralConvLayer`, options from ``cfg.gnn``) on
    ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        self.model = GeneralConvLayer(layer_config.dim_in, layer_config.dim_out,
                                      bias=layer_config.has_bias)


@register_layer("generaledgeconv")
class GeneralEdgeConv(MessagePassingLayer):
    """GraphGym's general layer with edge features (:class:`GeneralEdgeConvLayer`) on
    ``batch.x`` and ``batch.edge_attr``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``edge_dim``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        self.model = GeneralEdgeConvLayer(layer_config.dim_in, layer_config.dim_out,
                                          layer_config.edge_dim, bias=layer_config.has_bias)

    def forward(self, batch):
        batch.x = self.conv(batch.x, batch.edge_index, edge_feature=batch.edge_attr)
        return batch


@register_layer("generalsampleedgeconv")
class GeneralSampleEdgeConv(MessagePassingLayer):
    """:class:`GeneralEdgeConv` that, in training, passes messages over a random
    ``keep_edge`` fraction of the edges (all edges in evaluation).

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``edge_dim``, ``has_bias``,
            ``keep_edge``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        if not 0.0 < layer_config.keep_edge <= 1.0:
            raise ValueError(f"GeneralSampleEdgeConv: keep_edge must lie in (0, 1], got "
                             f"{layer_config.keep_edge}")
        self.keep_edge = layer_config.keep_edge
        self.model = GeneralEdgeConvLayer(layer_config.dim_in, layer_config.dim_out,
                                          layer_config.edge_dim, bias=layer_config.has_bias)

    def forward(self, batch):
        edge_index, edge_attr = batch.edge_index, batch.edge_attr
        if self.training:
            keep = torch.rand(edge_index.shape[1], device=edge_index.device) < self.keep_edge
            edge_index, edge_attr = edge_index[:, keep], edge_attr[keep]
        batch.x = self.conv(batch.x, edge_index, edge_feature=edge_attr)
        return batch


@register_layer("splineconv")
class SplineConv(MessagePassingLayer):
    """A SplineCNN layer (:class:`gfx.nn.SplineConv`, ``dim=1``, ``kernel_size=2``) on
    ``batch.x`` with ``batch.edge_attr`` as the pseudo-coordinates in ``[0, 1]``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        from gfx.nn.conv.spline_conv import SplineConv as Conv
        self.model = Conv(layer_config.dim_in, layer_config.dim_out, dim=1, kernel_size=2,
                          bias=layer_config.has_bias)

    def forward(self, batch):
        batch.x = self.conv(batch.x, batch.edge_index, batch.edge_attr)
        return batch
