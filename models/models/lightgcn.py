"""``LightGCN``: linear propagation of free node embeddings for recommendation
(He et al., SIGIR 2020)."""
from __future__ import annotations

from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Embedding, ModuleList
from torch.nn.modules.loss import _Loss

from gfx.nn.conv.lg_conv import LGConv
from gfx.utils import is_tracing


class BPRLoss(_Loss):
    """The Bayesian personalised ranking loss of "BPR: Bayesian Personalized Ranking from
    Implicit Feedback",

    .. math::
        -\\frac{1}{|\\mathcal{B}|}\\sum_{(u, i, j)} \\log \\sigma(\\hat{y}_{ui} -
        \\hat{y}_{uj}) + \\frac{\\lambda}{|\\mathcal{B}|} \\|\\Theta\\|_2^2

    over positive items :math:`i` and negative items :math:`j`.

    Args:
        lambda_reg (float, optional): the :math:`L_2` coefficient :math:`\\lambda`.
            (default: ``0``)
        **kwargs: arguments of :class:`torch.nn.modules.loss._Loss`.
    """

    __constants__ = ["lambda_reg"]

    def __init__(self, lambda_reg: float = 0, **kwargs):
        super().__init__(None, None, "sum", **kwargs)
        self.lambda_reg = lambda_reg

    def forward(self, positives: Tensor, negatives: Tensor,
                parameters: Optional[Tensor] = None) -> Tensor:
        """The loss of the rankings ``positives`` and ``negatives`` (``[B]`` each) and
        the regularised ``parameters``."""
        if positives.shape != negatives.shape:
            raise ValueError(f"BPRLoss: 'positives' and 'negatives' must have one shape, "
                             f"got {list(positives.shape)} and {list(negatives.shape)}")
        log_prob = F.logsigmoid(positives - negatives).mean()
        regularization = 0
        if self.lambda_reg != 0:
            if parameters is None:
                raise ValueError("BPRLoss: 'parameters' is needed when lambda_reg != 0")
            regularization = self.lambda_reg * parameters.norm(p=2).pow(2)
            regularization = regularization / positives.size(0)
        return -log_prob + regularization


class LightGCN(torch.nn.Module):
    """The LightGCN model of "LightGCN: Simplifying and Powering Graph Convolution Network
    for Recommendation".

    Free embeddings :math:`\\mathbf{x}^{(0)}` are propagated by ``num_layers``
    :class:`~gfx.nn.conv.LGConv` layers,

    .. math::
        \\mathbf{x}^{(l+1)}_i = \\sum_{j \\in \\mathcal{N}(i)}
        \\frac{1}{\\sqrt{\\deg(i)\\deg(j)}}\\mathbf{x}^{(l)}_j, \\qquad
        \\mathbf{x}_i = \\sum_{l=0}^{L} \\alpha_l \\mathbf{x}^{(l)}_i,

    and a pair :math:`(i, j)` is ranked by :math:`\\mathbf{x}_i^{\\top}\\mathbf{x}_j`.
    Link prediction uses :meth:`link_pred_loss` / :meth:`predict_link`, recommendation
    :meth:`recommendation_loss` / :meth:`recommend`.

    Args:
        num_nodes (int): the number of nodes.
        embedding_dim (int): the embedding size.
        num_layers (int): the number of :class:`~gfx.nn.conv.LGConv` layers.
        alpha (float or Tensor, optional): the coefficients :math:`\\alpha_l` (a scalar
            for all, or ``[num_layers + 1]``); ``1 / (num_layers + 1)`` each when
            ``None``. (default: ``None``)
        **kwargs: arguments of :class:`~gfx.nn.conv.LGConv`.
    """

    def __init__(self, num_nodes: int, embedding_dim: int, num_layers: int,
                 alpha: Optional[Union[float, Tensor]] = None, **kwargs):
        super().__init__()
        for arg, value in (("num_nodes", num_nodes), ("embedding_dim", embedding_dim)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"LightGCN: '{arg}' must be a positive int, got {value!r}")
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"LightGCN: 'num_layers' must be an int >= 0, got {num_layers!r}")
        self.num_nodes = num_nodes
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        if alpha is None:
            alpha = 1.0 / (num_layers + 1)
        if isinstance(alpha, Tensor):
            if alpha.numel() != num_layers + 1:
                raise ValueError(f"LightGCN: 'alpha' must have num_layers + 1 = "
                                 f"{num_layers + 1} entries, got {alpha.numel()}")
            alpha = alpha.view(-1).to(torch.float)
        else:
            alpha = torch.tensor([float(alpha)] * (num_layers + 1))
        self.register_buffer("alpha", alpha)
        self.embedding = Embedding(num_nodes, embedding_dim)
        self.convs = ModuleList([LGConv(**kwargs) for _ in range(num_layers)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform embeddings."""
        torch.nn.init.xavier_uniform_(self.embedding.weight)
        for conv in self.convs:
            conv.reset_parameters()

    def get_embedding(self, edge_index: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        """The final embeddings :math:`\\mathbf{x}_i` of all nodes (``[N, d]``)."""
        x = self.embedding.weight
        out = x * self.alpha[0]
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index, edge_weight)
            out = out + x * self.alpha[i + 1]
        return out

    def forward(self, edge_index: Tensor, edge_label_index: Optional[Tensor] = None,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """The rankings :math:`\\mathbf{x}_i^{\\top}\\mathbf{x}_j` of the pairs in
        ``edge_label_index`` (``edge_index`` when ``None``); embeddings are propagated
        over ``edge_index``."""
        if edge_label_index is None:
            if not is_tracing(edge_index) and edge_index.is_sparse:
                raise ValueError("LightGCN: pass 'edge_label_index' when 'edge_index' is "
                                 "a sparse adjacency")
            edge_label_index = edge_index
        out = self.get_embedding(edge_index, edge_weight)
        return (out[edge_label_index[0]] * out[edge_label_index[1]]).sum(dim=-1)

    def predict_link(self, edge_index: Tensor, edge_label_index: Optional[Tensor] = None,
                     edge_weight: Optional[Tensor] = None, prob: bool = False) -> Tensor:
        """Link probabilities (``prob=True``) or 0/1 predictions of the pairs in
        ``edge_label_index``. (default ``prob``: ``False``)"""
        pred = self(edge_index, edge_label_index, edge_weight).sigmoid()
        return pred if prob else pred.round()

    def recommend(self, edge_index: Tensor, edge_weight: Optional[Tensor] = None,
                  src_index: Optional[Tensor] = None, dst_index: Optional[Tensor] = None,
                  k: int = 1, sorted: bool = True) -> Tensor:
        """The ``k`` highest-ranked destinations for each source (``[S, k]``).

        Args:
            edge_index (Tensor): ``[2, E]`` connectivity to propagate over.
            edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
            src_index (Tensor, optional): sources to recommend for; all nodes when
                ``None``. (default: ``None``)
            dst_index (Tensor, optional): candidate destinations; all nodes when
                ``None``. (default: ``None``)
            k (int, optional): recommendations per source. (default: ``1``)
            sorted (bool, optional): order each row by rank. (default: ``True``)
        """
        out_src = out_dst = self.get_embedding(edge_index, edge_weight)
        if src_index is not None:
            out_src = out_src[src_index]
        if dst_index is not None:
            out_dst = out_dst[dst_index]
        if not 0 < k <= out_dst.size(0):
            raise ValueError(f"LightGCN.recommend: 'k' must be in [1, {out_dst.size(0)}], "
                             f"got {k}")
        pred = out_src @ out_dst.t()
        top_index = pred.topk(k, dim=-1, sorted=sorted).indices
        if dst_index is not None:
            top_index = dst_index[top_index.view(-1)].view(*top_index.size())
        return top_index

    def link_pred_loss(self, pred: Tensor, edge_label: Tensor, **kwargs) -> Tensor:
        """Binary cross-entropy of the rankings ``pred`` (logits) against
        ``edge_label``; ``kwargs`` go to :class:`torch.nn.BCEWithLogitsLoss`."""
        return torch.nn.BCEWithLogitsLoss(**kwargs)(pred, edge_label.to(pred.dtype))

    def recommendation_loss(self, pos_edge_rank: Tensor, neg_edge_rank: Tensor,
                            node_id: Optional[Tensor] = None, lambda_reg: float = 1e-4,
                            **kwargs) -> Tensor:
        """The :class:`BPRLoss` of positive against negative rankings, regularising the
        embeddings of ``node_id`` (all when ``None``) with ``lambda_reg``
        (default: ``1e-4``)."""
        emb = self.embedding.weight
        emb = emb if node_id is None else emb[node_id]
        return BPRLoss(lambda_reg, **kwargs)(pos_edge_rank, neg_edge_rank, emb)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.num_nodes}, {self.embedding_dim}, "
                f"num_layers={self.num_layers})")


__all__ = ["LightGCN"]
