"""MessageNorm: messages rescaled to the norm of the node features."""
import pytest
import torch

from gfx.nn import MessageNorm
from tests.nn.test_glob import assert_lowered_matches_eager


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_message_norm_matches_formula(p):
    norm = MessageNorm(learn_scale=True).double()
    with torch.no_grad():
        norm.scale.fill_(1.3)
    x, msg = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 6, dtype=torch.float64)
    msg[2] = 0.0  # a node without messages stays 0
    expected = torch.zeros_like(msg)
    for i in range(5):
        m_norm = msg[i].abs().pow(p).sum() ** (1 / p)
        if m_norm > 0:
            expected[i] = 1.3 * (x[i].abs().pow(p).sum() ** (1 / p)) * msg[i] / m_norm
    torch.testing.assert_close(norm(x, msg, p), expected)


def test_message_norm_scale_parameter():
    fixed, learned = MessageNorm(), MessageNorm(True)
    assert set(fixed.state_dict()) == {"scale"} and not fixed.scale.requires_grad
    assert learned.scale.requires_grad
    with pytest.raises(ValueError, match="MessageNorm: 'x'.*must have the same number of rows"):
        fixed(torch.randn(3, 2), torch.randn(4, 2))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = MessageNorm(learn_scale=True)

    def forward(self, x, msg):
        return self.norm(x, msg)


def test_message_norm_lowers():
    assert_lowered_matches_eager(Model().double(), torch.randn(5, 3, dtype=torch.float64),
                                 torch.randn(5, 3, dtype=torch.float64))
