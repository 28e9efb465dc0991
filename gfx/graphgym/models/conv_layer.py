"""GraphGym wrappers of message passing layers: ``layer(batch)`` updates ``batch.x``.

Each wrapper builds one gfx layer from a :class:`LayerConfig` and keeps it as
``self.model``, so parameter names are ``<wrapper>.model.<layer parameter>``.  The
catalogue layers are imported when a wrapper is built, not when this module loads.

# NOTE [compiled graphgym layers]
With ``cfg.gfx.compile`` the model builder calls :meth:`MessagePassingLayer.gfx_compile` on
every wrapper: the wrapper keeps a :func:`gfx.compile` d version of ``self.model``
outside the module tree and calls it instead.  The compiled module shares the
parameters, so ``state_dict`` keys, checkpoints, optimisers and DDP see the same model
as without compilation; only the tensor-level layer is compiled, the batch plumbing
around it stays eager.
"""
from __future__ import annotations

import torch

from gfx.graphgym.models.general_conv import GeneralConvLayer, GeneralEdgeConvLayer
from gfx.graphgym.models.layer import LayerConfig
from gfx.graphgym.register import register_layer


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


@register_layer("gcnconv")
class GCNConv(MessagePassingLayer):
    """A graph convolution (:class:`gfx.nn.GCNConv`) on ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        from gfx.nn.conv.gcn_conv import GCNConv as Conv
        self.model = Conv(layer_config.dim_in, layer_config.dim_out,
                          bias=layer_config.has_bias)

    def forward(self, batch):
        batch.x = self.conv(batch.x, batch.edge_index)
        return batch


@register_layer("sageconv")
class SAGEConv(MessagePassingLayer):
    """A GraphSAGE layer (:class:`gfx.nn.SAGEConv`, mean aggregation) on ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        from gfx.nn.conv.sage_conv import SAGEConv as Conv
        self.model = Conv(layer_config.dim_in, layer_config.dim_out,
                          bias=layer_config.has_bias)

    def forward(self, batch):
        batch.x = self.conv(batch.x, batch.edge_index)
        return batch


@register_layer("gatconv")
class GATConv(MessagePassingLayer):
    """A graph attention layer (:class:`gfx.nn.GATConv`, one head) on ``batch.x``.

    Args:
        layer_config (LayerConfig): ``dim_in``, ``dim_out``, ``has_bias``.
        **kwargs (optional): unused.
    """

    def __init__(self, layer_config: LayerConfig, **kwargs):
        super().__init__()
        from gfx.nn.conv.gat_conv import GATConv as Conv
        self.model = Conv(layer_config.dim_in, layer_config.dim_out,
                          bias=layer_config.has_bias)

    def forward(self, batch):
        batch.x = self.conv(batch.x, batch.edge_index)
        return batch


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

    def forward(self, batch):
        batch.x = self.conv(batch.x, batch.edge_index)
        return batch


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

    def forward(self, batch):
        batch.x = self.conv(batch.x, batch.edge_index)
        return batch


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
