"""DeepGraphInfomax: corruption plumbing, the bilinear discriminator and the loss
against their formulas; the logistic-regression probe on separable data."""
import pytest
import torch

from gfx.nn import DeepGraphInfomax
from gfx.nn.models._logistic_regression import logistic_regression_accuracy

EPS = 1e-15


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 4)

    def forward(self, x, shift=None):
        out = self.lin(x)
        return out if shift is None else out + shift


def summary(z, *args, **kwargs):
    return torch.sigmoid(z.mean(dim=0))


def corruption(x, shift=None):
    return (x.flip(0), ) if shift is None else (x.flip(0), 2 * shift)


def test_forward_discriminate_loss():
    torch.manual_seed(0)
    enc = Encoder()
    model = DeepGraphInfomax(4, enc, summary, corruption)
    x, shift = torch.randn(6, 3), torch.randn(6, 4)
    pos, neg, s = model(x, shift=shift)
    torch.testing.assert_close(pos, enc(x, shift))
    torch.testing.assert_close(neg, enc(x.flip(0), 2 * shift))
    torch.testing.assert_close(s, summary(enc(x, shift)))
    w = model.weight
    logits = torch.stack([pos[i] @ w @ s for i in range(6)])
    torch.testing.assert_close(model.discriminate(pos, s, sigmoid=False), logits)
    torch.testing.assert_close(model.discriminate(pos, s), torch.sigmoid(logits))
    many = torch.randn(2, 4)
    torch.testing.assert_close(model.discriminate(pos, many, sigmoid=False), pos @ w @ many.t())
    neg_logits = torch.stack([neg[i] @ w @ s for i in range(6)])
    want = -torch.log(torch.sigmoid(logits) + EPS).mean() \
        - torch.log(1 - torch.sigmoid(neg_logits) + EPS).mean()
    torch.testing.assert_close(model.loss(pos, neg, s), want)
    assert str(model) == "DeepGraphInfomax(4)"
    assert model.weight.abs().max() <= 0.5  # U(-1/sqrt(4), 1/sqrt(4))


def test_probe_accuracy_and_errors():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
    y = torch.randint(0, 3, (90,), generator=g) + 5
    z = centres[y - 5] + 0.5 * torch.randn(90, 2, generator=g)
    assert logistic_regression_accuracy(z[:60], y[:60], z[60:], y[60:]) == 1.0
    model = DeepGraphInfomax(4, Encoder(), summary, corruption)
    assert model.test(z[:60], y[:60], z[60:], y[60:], max_iter=50) == 1.0
    with pytest.raises(ValueError, match="solver"):
        model.test(z, y, z, y, solver="liblinear")
    with pytest.raises(ValueError, match="penalty"):
        model.test(z, y, z, y, penalty="l1")
    with pytest.raises(ValueError, match="train_y"):
        model.test(z, y.float(), z, y)
    with pytest.raises(ValueError, match="hidden_channels"):
        DeepGraphInfomax(0, Encoder(), summary, corruption)
    with pytest.raises(ValueError, match="corruption"):
        DeepGraphInfomax(4, Encoder(), summary, None)
