"""The general GNN of GraphGym: encoder -> pre-processing MLP -> message passing stage ->
head, every part chosen by ``cfg``.

Call tree of :class:`GNN` (each box replaceable through the registries)::

    GNN(dim_in, dim_out)
    |-- encoder:  FeatureEncoder        node/edge encoders (cfg.dataset.*_encoder)
    |-- pre_mp:   GNNPreMP              cfg.gnn.layers_pre_mp dense layers
    |-- mp:       stage_dict[stage_type]  cfg.gnn.layers_mp GNNLayers
    |                                   (stack | skipsum | skipconcat)
    `-- post_mp:  head_dict[head]       node | edge | link_pred | graph head

``forward(batch)`` passes the batch through the children in that order and returns the
head's ``(prediction, label)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gfx.graphgym.config import cfg
from gfx.graphgym.init import init_weights
from gfx.graphgym.models.layer import (BatchNorm1dEdge, BatchNorm1dNode, GeneralLayer,
                                              GeneralMultiLayer, new_layer_config)
from gfx.graphgym.register import (edge_encoder_dict, head_dict, node_encoder_dict,
                                          register_network, register_stage, resolve,
                                          stage_dict)

STAGE_TYPES = ("stack", "skipsum", "skipconcat")


def GNNLayer(dim_in: int, dim_out: int, has_act: bool = True) -> GeneralLayer:
    """One message passing layer of type ``cfg.gnn.layer_type`` with the configured batch
    norm, dropout and activation.

    Args:
        dim_in (int): the input dimension.
        dim_out (int): the output dimension.
        has_act (bool, optional): whether to apply an activation function after the
            layer. (default: ``True``)
    """
    return GeneralLayer(cfg.gnn.layer_type,
                        new_layer_config(dim_in, dim_out, 1, has_act=has_act,
                                         has_bias=False, cfg=cfg))


def GNNPreMP(dim_in: int, dim_out: int, num_layers: int) -> GeneralMultiLayer:
    """``num_layers`` dense layers applied to node features before message passing.

    Args:
        dim_in (int): the input dimension.
        dim_out (int): the output dimension.
        num_layers (int): the number of layers.
    """
    return GeneralMultiLayer("linear",
                             new_layer_config(dim_in, dim_out, num_layers, has_act=False,
                                              has_bias=False, cfg=cfg))


@register_stage("stack")
@register_stage("skipsum")
@register_stage("skipconcat")
class GNNStackStage(torch.nn.Module):
    """``num_layers`` GNN layers in a row, joined as ``cfg.gnn.stage_type`` says.

    * ``stack``: :math:`h^{(l+1)} = f_l(h^{(l)})`;
    * ``skipsum``: :math:`h^{(l+1)} = h^{(l)} + f_l(h^{(l)})` (needs
      ``dim_in == dim_out``);
    * ``skipconcat``: :math:`h^{(l+1)} = h^{(l)} \\,\\|\\, f_l(h^{(l)})` for all but the
      last layer, so layer :math:`l` reads ``dim_in + l * dim_out`` features.

    With ``cfg.gnn.l2norm`` the output rows are L2-normalised.

    Args:
        dim_in (int): the input dimension.
        dim_out (int): the output dimension.
        num_layers (int): the number of layers.
    """

    def __init__(self, dim_in: int, dim_out: int, num_layers: int):
        super().__init__()
        self.stage_type = cfg.gnn.stage_type
        if self.stage_type not in STAGE_TYPES:
            raise ValueError(f"GNNStackStage: cfg.gnn.stage_type must be one of "
                             f"{STAGE_TYPES}, got '{self.stage_type}'")
        if self.stage_type == "skipsum" and dim_in != dim_out:
            raise ValueError(f"GNNStackStage: stage_type 'skipsum' adds each layer's input "
                             f"to its output, so dim_in ({dim_in}) must equal dim_out "
                             f"({dim_out}); add a pre-processing layer (layers_pre_mp)")
        self.num_layers = num_layers
        self.l2norm = cfg.gnn.l2norm
        for i in range(num_layers):
            if self.stage_type == "skipconcat":
                d_in = dim_in + i * dim_out
            else:
                d_in = dim_in if i == 0 else dim_out
            self.add_module(f"layer{i}", GNNLayer(d_in, dim_out))
        self.dim_out = dim_out

    def forward(self, batch):
        for i, layer in enumerate(self.children()):
            x = batch.x
            batch = layer(batch)
            if self.stage_type == "skipsum":
                batch.x = x + batch.x
            elif self.stage_type == "skipconcat" and i < self.num_layers - 1:
                batch.x = torch.cat([x, batch.x], dim=1)
        if self.l2norm:
            batch.x = F.normalize(batch.x, p=2.0, dim=-1)
        return batch


class FeatureEncoder(torch.nn.Module):
    """Encodes node features (``cfg.dataset.node_encoder``) and edge features
    (``cfg.dataset.edge_encoder``) with the registered encoders, each optionally followed
    by batch norm.  Node features become ``cfg.gnn.dim_inner`` wide, edge features
    ``cfg.dataset.edge_dim`` wide.

    Args:
        dim_in (int): the input feature dimension.
    """

    def __init__(self, dim_in: int):
        super().__init__()
        self.dim_in = dim_in
        if cfg.dataset.node_encoder:
            encoder = resolve(node_encoder_dict, cfg.dataset.node_encoder_name,
                              "cfg.dataset.node_encoder_name")
            self.node_encoder = encoder(cfg.gnn.dim_inner)
            if cfg.dataset.node_encoder_bn:
                self.node_encoder_bn = BatchNorm1dNode(new_layer_config(
                    cfg.gnn.dim_inner, -1, -1, has_act=False, has_bias=False, cfg=cfg))
            self.dim_in = cfg.gnn.dim_inner
        if cfg.dataset.edge_encoder:
            encoder = resolve(edge_encoder_dict, cfg.dataset.edge_encoder_name,
                              "cfg.dataset.edge_encoder_name")
            self.edge_encoder = encoder(cfg.dataset.edge_dim)
            if cfg.dataset.edge_encoder_bn:
                self.edge_encoder_bn = BatchNorm1dEdge(new_layer_config(
                    cfg.dataset.edge_dim, -1, -1, has_act=False, has_bias=False, cfg=cfg))

    def forward(self, batch):
        for module in self.children():
            batch = module(batch)
        return batch


@register_network("gnn")
class GNN(torch.nn.Module):
    """A general GNN: encoder, pre-processing layers, message passing stage, head (see
    the module docstring for the call tree).  Built from ``cfg``; weights initialised
    with :func:`~gfx.graphgym.init_weights`.

    Args:
        dim_in (int): the input feature dimension.
        dim_out (int): the output feature dimension.
        **kwargs (optional): unused.
    """

    def __init__(self, dim_in: int, dim_out: int, **kwargs):
        super().__init__()
        stage = resolve(stage_dict, cfg.gnn.stage_type, "cfg.gnn.stage_type")
        head = resolve(head_dict, cfg.dataset.task if cfg.gnn.head == "default"
                       else cfg.gnn.head, "cfg.gnn.head")
        self.encoder = FeatureEncoder(dim_in)
        dim = self.encoder.dim_in
        if cfg.gnn.layers_pre_mp > 0:
            self.pre_mp = GNNPreMP(dim, cfg.gnn.dim_inner, cfg.gnn.layers_pre_mp)
            dim = cfg.gnn.dim_inner
        if cfg.gnn.layers_mp > 0:
            self.mp = stage(dim_in=dim, dim_out=cfg.gnn.dim_inner,
                            num_layers=cfg.gnn.layers_mp)
            dim = cfg.gnn.dim_inner
        self.post_mp = head(dim_in=dim, dim_out=dim_out)
        self.apply(init_weights)

    def forward(self, batch):
        for module in self.children():
            batch = module(batch)
        return batch
