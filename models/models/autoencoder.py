"""Graph auto-encoders: ``InnerProductDecoder``, ``GAE``, ``VGAE``, ``ARGA``, ``ARGVA``.

Kipf and Welling, "Variational Graph Auto-Encoders" (2016), and Pan et al.,
"Adversarially Regularized Graph Autoencoder for Graph Embedding" (IJCAI 2018).  The
encoder is any module that maps a graph to node embeddings :math:`\\mathbf{Z}`; the
decoder scores node pairs; training reconstructs the edges against sampled non-edges.

Call tree (every class adds to the one above it)::

    GAE.forward = encode -> encoder(*args)        GAE.decode -> decoder(z, edge_index)
    GAE.recon_loss(z, pos, neg=None)              GAE.test(z, pos, neg) -> (AUC, AP)
    VGAE.encode -> encoder -> (mu, logstd) -> reparametrize       VGAE.kl_loss
    ARGA.reg_loss(z), ARGA.discriminator_loss(z)                  (discriminator on z)
    ARGVA = ARGA + VGAE's encode / reparametrize / kl_loss
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from gfx.utils import negative_sampling

EPS = 1e-15
MAX_LOGSTD = 10


def roc_auc_score(label: Tensor, score: Tensor) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a
    random negative (ties count one half)."""
    label, score = label.view(-1).bool(), score.view(-1).double()
    num_pos, num_neg = int(label.sum()), int((~label).sum())
    if num_pos == 0 or num_neg == 0:
        raise ValueError("roc_auc_score: needs both positive and negative pairs")
    _, inverse, counts = torch.unique(score, return_inverse=True, return_counts=True)
    mean_rank = (torch.cumsum(counts, 0).double() - (counts.double() - 1) / 2)[inverse]
    return float((mean_rank[label].sum() - num_pos * (num_pos + 1) / 2) / (num_pos * num_neg))


def average_precision_score(label: Tensor, score: Tensor) -> float:
    """Average precision :math:`\\sum_n (R_n - R_{n-1}) P_n` over the distinct score
    thresholds, highest first (tied scores enter together)."""
    label, score = label.view(-1).double(), score.view(-1).double()
    if label.sum() == 0:
        raise ValueError("average_precision_score: needs at least one positive pair")
    values, inverse = torch.unique(score, return_inverse=True)
    num = values.numel()
    # Positives and pairs per distinct score, walked from the highest score down.
    pos = torch.zeros(num, dtype=torch.double).index_add_(0, inverse, label).flip(0)
    cnt = torch.zeros(num, dtype=torch.double).index_add_(
        0, inverse, torch.ones_like(label)).flip(0)
    true_pos, predicted = pos.cumsum(0), cnt.cumsum(0)
    precision, recall = true_pos / predicted, true_pos / label.sum()
    step = torch.diff(recall, prepend=recall.new_zeros(1))
    return float((step * precision).sum())


class InnerProductDecoder(torch.nn.Module):
    """The inner product decoder of "Variational Graph Auto-Encoders".

    .. math::
        \\sigma(\\mathbf{Z}\\mathbf{Z}^{\\top}), \\qquad
        p(i \\to j) = \\sigma(\\mathbf{z}_i^{\\top} \\mathbf{z}_j)

    No parameters.
    """

    def forward(self, z: Tensor, edge_index: Tensor, sigmoid: bool = True) -> Tensor:
        """The score :math:`\\mathbf{z}_i^{\\top}\\mathbf{z}_j` of each pair ``(i, j)`` in
        ``edge_index`` (``[E]``), through a sigmoid when ``sigmoid`` (default: ``True``)."""
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"InnerProductDecoder: 'edge_index' must have shape [2, E], "
                             f"got {list(edge_index.shape)}")
        value = (z[edge_index[0]] * z[edge_index[1]]).sum(dim=1)
        return torch.sigmoid(value) if sigmoid else value

    def forward_all(self, z: Tensor, sigmoid: bool = True) -> Tensor:
        """The dense ``[N, N]`` matrix :math:`\\mathbf{Z}\\mathbf{Z}^{\\top}`, through a
        sigmoid when ``sigmoid`` (default: ``True``)."""
        adj = torch.matmul(z, z.t())
        return torch.sigmoid(adj) if sigmoid else adj


class GAE(torch.nn.Module):
    """The graph auto-encoder of "Variational Graph Auto-Encoders".

    The encoder gives :math:`\\mathbf{Z}`; :meth:`recon_loss` is the binary
    cross-entropy of the decoder's edge probabilities,

    .. math::
        -\\frac{1}{|\\mathcal{E}^+|}\\sum_{(i,j)\\in\\mathcal{E}^+} \\log p(i \\to j)
        -\\frac{1}{|\\mathcal{E}^-|}\\sum_{(i,j)\\in\\mathcal{E}^-} \\log (1 - p(i \\to j))

    with negatives :math:`\\mathcal{E}^-` drawn by :func:`gfx.utils.negative_sampling`
    when not given.

    Args:
        encoder (torch.nn.Module): the encoder.
        decoder (torch.nn.Module, optional): the decoder; an
            :class:`InnerProductDecoder` when ``None``. (default: ``None``)
    """

    def __init__(self, encoder: torch.nn.Module, decoder: Optional[torch.nn.Module] = None):
        super().__init__()
        if not callable(encoder):
            raise ValueError(f"{type(self).__name__}: 'encoder' must be a module, "
                             f"got {type(encoder).__name__}")
        self.encoder = encoder
        self.decoder = InnerProductDecoder() if decoder is None else decoder
        GAE.reset_parameters(self)

    def reset_parameters(self) -> None:
        """Reset the encoder's and the decoder's parameters (where they have any)."""
        for module in (self.encoder, self.decoder):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, *args, **kwargs) -> Tensor:
        """Alias for :meth:`encode`."""
        return self.encoder(*args, **kwargs)

    def encode(self, *args, **kwargs) -> Tensor:
        """Run the encoder: the node embeddings :math:`\\mathbf{Z}`."""
        return self.encoder(*args, **kwargs)

    def decode(self, *args, **kwargs) -> Tensor:
        """Run the decoder: scores of node pairs."""
        return self.decoder(*args, **kwargs)

    def recon_loss(self, z: Tensor, pos_edge_index: Tensor,
                   neg_edge_index: Optional[Tensor] = None) -> Tensor:
        """The edge reconstruction loss (see the class docstring).

        Args:
            z (Tensor): ``[N, d]`` node embeddings.
            pos_edge_index (Tensor): ``[2, E+]`` true edges.
            neg_edge_index (Tensor, optional): ``[2, E-]`` non-edges; sampled from the
                complement of ``pos_edge_index`` when ``None``. (default: ``None``)
        """
        pos_loss = -torch.log(self.decoder(z, pos_edge_index, sigmoid=True) + EPS).mean()
        if neg_edge_index is None:
            neg_edge_index = negative_sampling(pos_edge_index, z.size(0))
        neg_loss = -torch.log(1 - self.decoder(z, neg_edge_index, sigmoid=True) + EPS).mean()
        return pos_loss + neg_loss

    @torch.no_grad()
    def test(self, z: Tensor, pos_edge_index: Tensor,
             neg_edge_index: Tensor) -> Tuple[float, float]:
        """``(AUC, AP)``: area under the ROC curve and average precision of the decoder's
        scores, true edges labelled 1 and non-edges 0 (computed here, no scikit-learn).

        Args:
            z (Tensor): ``[N, d]`` node embeddings.
            pos_edge_index (Tensor): ``[2, E+]`` true edges.
            neg_edge_index (Tensor): ``[2, E-]`` non-edges.
        """
        pos = self.decoder(z, pos_edge_index, sigmoid=True)
        neg = self.decoder(z, neg_edge_index, sigmoid=True)
        label = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
        score = torch.cat([pos, neg])
        return roc_auc_score(label, score), average_precision_score(label, score)


class VGAE(GAE):
    """The variational graph auto-encoder of "Variational Graph Auto-Encoders".

    The encoder returns :math:`(\\boldsymbol{\\mu}, \\log\\boldsymbol{\\sigma})`;
    :meth:`encode` samples :math:`\\mathbf{Z} = \\boldsymbol{\\mu} +
    \\boldsymbol{\\sigma} \\odot \\boldsymbol{\\epsilon}` in training mode (and returns
    :math:`\\boldsymbol{\\mu}` in evaluation mode), with :math:`\\log\\sigma` clamped at
    10.  :meth:`kl_loss` is the KL divergence to the standard normal,

    .. math::
        -\\frac{1}{2N}\\sum_{i=1}^{N}\\sum_{k}\\left(1 + 2\\log\\sigma_{ik}
        - \\mu_{ik}^2 - \\sigma_{ik}^2\\right)

    Args:
        encoder (torch.nn.Module): the encoder, returning ``(mu, logstd)``.
        decoder (torch.nn.Module, optional): the decoder; an
            :class:`InnerProductDecoder` when ``None``. (default: ``None``)
    """

    def __init__(self, encoder: torch.nn.Module, decoder: Optional[torch.nn.Module] = None):
        super().__init__(encoder, decoder)
        self.__mu__: Optional[Tensor] = None
        self.__logstd__: Optional[Tensor] = None

    def reparametrize(self, mu: Tensor, logstd: Tensor) -> Tensor:
        """:math:`\\mu + \\epsilon e^{\\log\\sigma}` in training mode, :math:`\\mu` otherwise."""
        if self.training:
            return mu + torch.randn_like(logstd) * torch.exp(logstd)
        return mu

    def encode(self, *args, **kwargs) -> Tensor:
        out = self.encoder(*args, **kwargs)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ValueError(f"{type(self).__name__}: the 'encoder' must return a pair "
                             f"(mu, logstd), got {type(out).__name__}")
        self.__mu__, logstd = out
        self.__logstd__ = logstd.clamp(max=MAX_LOGSTD)
        return self.reparametrize(self.__mu__, self.__logstd__)

    def kl_loss(self, mu: Optional[Tensor] = None, logstd: Optional[Tensor] = None) -> Tensor:
        """The KL loss of ``mu`` and ``logstd``, or of the last :meth:`encode` when
        they are ``None`` (default: ``None``)."""
        mu = self.__mu__ if mu is None else mu
        logstd = self.__logstd__ if logstd is None else logstd.clamp(max=MAX_LOGSTD)
        if mu is None or logstd is None:
            raise ValueError(f"{type(self).__name__}.kl_loss: pass 'mu' and 'logstd', or "
                             f"call encode() first")
        return -0.5 * torch.mean(torch.sum(1 + 2 * logstd - mu ** 2 - logstd.exp() ** 2,
                                           dim=1))


class ARGA(GAE):
    """The adversarially regularised graph auto-encoder of "Adversarially Regularized
    Graph Autoencoder for Graph Embedding".

    A discriminator :math:`D` (returning logits) learns to tell samples of the prior
    :math:`\\mathcal{N}(0, I)` from embeddings; the encoder is regularised to fool it:

    .. math::
        \\mathcal{L}_{reg} = -\\mathrm{mean}\\, \\log \\sigma(D(\\mathbf{Z})), \\qquad
        \\mathcal{L}_{D} = -\\mathrm{mean}\\, \\log \\sigma(D(\\mathbf{Z}_{prior}))
        - \\mathrm{mean}\\, \\log (1 - \\sigma(D(\\mathbf{Z})))

    Args:
        encoder (torch.nn.Module): the encoder.
        discriminator (torch.nn.Module): the discriminator.
        decoder (torch.nn.Module, optional): the decoder; an
            :class:`InnerProductDecoder` when ``None``. (default: ``None``)
    """

    def __init__(self, encoder: torch.nn.Module, discriminator: torch.nn.Module,
                 decoder: Optional[torch.nn.Module] = None):
        super().__init__(encoder, decoder)
        self.discriminator = discriminator
        if hasattr(discriminator, "reset_parameters"):
            discriminator.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if hasattr(self.discriminator, "reset_parameters"):
            self.discriminator.reset_parameters()

    def reg_loss(self, z: Tensor) -> Tensor:
        """The encoder's regularisation loss :math:`\\mathcal{L}_{reg}`."""
        real = torch.sigmoid(self.discriminator(z))
        return -torch.log(real + EPS).mean()

    def discriminator_loss(self, z: Tensor) -> Tensor:
        """The discriminator's loss :math:`\\mathcal{L}_{D}` (``z`` detached, the prior
        sample drawn like ``z``)."""
        real = torch.sigmoid(self.discriminator(torch.randn_like(z)))
        fake = torch.sigmoid(self.discriminator(z.detach()))
        return -torch.log(real + EPS).mean() - torch.log(1 - fake + EPS).mean()


class ARGVA(ARGA):
    """The adversarially regularised variational graph auto-encoder of "Adversarially
    Regularized Graph Autoencoder for Graph Embedding": :class:`ARGA` whose encoder
    returns :math:`(\\boldsymbol{\\mu}, \\log\\boldsymbol{\\sigma})` as in :class:`VGAE`
    (encoding, reparametrisation and KL loss are the inner ``VGAE``'s).

    Args:
        encoder (torch.nn.Module): the encoder, returning ``(mu, logstd)``.
        discriminator (torch.nn.Module): the discriminator.
        decoder (torch.nn.Module, optional): the decoder; an
            :class:`InnerProductDecoder` when ``None``. (default: ``None``)
    """

    def __init__(self, encoder: torch.nn.Module, discriminator: torch.nn.Module,
                 decoder: Optional[torch.nn.Module] = None):
        super().__init__(encoder, discriminator, decoder)
        self.VGAE = VGAE(encoder, decoder)

    @property
    def __mu__(self) -> Optional[Tensor]:
        return self.VGAE.__mu__

    @property
    def __logstd__(self) -> Optional[Tensor]:
        return self.VGAE.__logstd__

    def reparametrize(self, mu: Tensor, logstd: Tensor) -> Tensor:
        return self.VGAE.reparametrize(mu, logstd)

    def encode(self, *args, **kwargs) -> Tensor:
        return self.VGAE.encode(*args, **kwargs)

    def kl_loss(self, mu: Optional[Tensor] = None, logstd: Optional[Tensor] = None) -> Tensor:
        return self.VGAE.kl_loss(mu, logstd)


__all__ = ["InnerProductDecoder", "GAE", "VGAE", "ARGA", "ARGVA"]
