"""Prediction heads: from node embeddings to ``(prediction, label)`` pairs.

``cfg.gnn.head`` (``default``: the name of ``cfg.dataset.task``) picks one: ``node``,
``edge`` / ``link_pred`` or ``graph``.  Each ends in an MLP of
``cfg.gnn.layers_post_mp`` layers.

Node and edge heads read the split being trained or evaluated from ``batch.split``
(``"train"``, ``"val"``, ``"test"``): the node head keeps the nodes of
``batch.<split>_mask`` (all nodes if the batch has no such mask), the edge head scores
the node pairs ``batch.<split>_edge_index`` against ``batch.<split>_edge_label``.
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gfx.graphgym.config import cfg
from gfx.graphgym.models.layer import MLP, new_layer_config
from gfx.graphgym.register import pooling_dict, register_head, resolve

EDGE_DECODINGS = ("dot", "cosine_similarity", "concat")


def _post_mp(dim_in: int, dim_out: int) -> MLP:
    return MLP(new_layer_config(dim_in, dim_out, max(cfg.gnn.layers_post_mp, 1),
                                has_act=False, has_bias=True, cfg=cfg))


def _split(batch) -> str:
    return batch["split"] if "split" in batch else "train"


@register_head("node")
class GNNNodeHead(torch.nn.Module):
    """Node-level prediction: an MLP on every node, then the nodes of the current split.

    Args:
        dim_in (int): the input feature dimension.
        dim_out (int): the output feature dimension.
    """

    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.layer_post_mp = _post_mp(dim_in, dim_out)

    def forward(self, batch) -> Tuple[Tensor, Tensor]:
        batch = self.layer_post_mp(batch)
        mask = f"{_split(batch)}_mask"
        if mask in batch:
            return batch.x[batch[mask]], batch.y[batch[mask]]
        return batch.x, batch.y


@register_head("edge")
@register_head("link_pred")
class GNNEdgeHead(torch.nn.Module):
    """Edge-level (link) prediction: a score for each node pair of the current split.

    ``cfg.model.edge_decoding`` decides how two node embeddings make a score: ``dot``
    (inner product) and ``cosine_similarity`` after an MLP that keeps the width (binary
    tasks only, ``dim_out == 1``), or ``concat``: an MLP on the concatenated pair.

    Args:
        dim_in (int): the input feature dimension.
        dim_out (int): the output feature dimension.
    """

    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.decoding = cfg.model.edge_decoding
        if self.decoding not in EDGE_DECODINGS:
            raise ValueError(f"cfg.model.edge_decoding must be one of {EDGE_DECODINGS}, "
                             f"got '{self.decoding}'")
        if self.decoding == "concat":
            self.layer_post_mp = _post_mp(2 * dim_in, dim_out)
        else:
            if dim_out > 1:
                raise ValueError(f"cfg.model.edge_decoding '{self.decoding}' gives one "
                                 f"score per pair; it cannot predict {dim_out} classes "
                                 "(use 'concat')")
            self.layer_post_mp = _post_mp(dim_in, dim_in)

    def decode(self, first: Tensor, second: Tensor) -> Tensor:
        """The score of each pair ``(first[k], second[k])``."""
        if self.decoding == "concat":
            return self.layer_post_mp(torch.cat([first, second], dim=-1))
        if self.decoding == "dot":
            return (first * second).sum(dim=-1)
        return F.cosine_similarity(first, second, dim=-1)

    def forward(self, batch) -> Tuple[Tensor, Tensor]:
        if self.decoding != "concat":
            batch = self.layer_post_mp(batch)
        split = _split(batch)
        index, label = batch[f"{split}_edge_index"], batch[f"{split}_edge_label"]
        return self.decode(batch.x[index[0]], batch.x[index[1]]), label


@register_head("graph")
class GNNGraphHead(torch.nn.Module):
    """Graph-level prediction: pool the nodes of each graph (``cfg.model.graph_pooling``),
    then an MLP.

    Args:
        dim_in (int): the input feature dimension.
        dim_out (int): the output feature dimension.
    """

    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.layer_post_mp = _post_mp(dim_in, dim_out)
        self.pooling_fun = resolve(pooling_dict, cfg.model.graph_pooling,
                                   "cfg.model.graph_pooling")

    def forward(self, batch) -> Tuple[Tensor, Tensor]:
        graph_ids = batch.batch
        if graph_ids is None:  # a single graph that did not go through a loader
            graph_ids = torch.zeros(batch.x.shape[0], dtype=torch.long, device=batch.x.device)
        size = batch.num_graphs if hasattr(type(batch), "num_graphs") else None
        graph_emb = self.pooling_fun(batch.x, graph_ids, size)
        return self.layer_post_mp(graph_emb), batch.y
