import pytest
import torch

import gfx
from gfx.nn import HeteroJumpingKnowledge, JumpingKnowledge


def lstm_direction(lstm, xs, suffix):
    """One direction of a single-layer LSTM, step by step (i, f, g, o gate order)."""
    w_ih, w_hh = getattr(lstm, f"weight_ih_l0{suffix}"), getattr(lstm, f"weight_hh_l0{suffix}")
    b = getattr(lstm, f"bias_ih_l0{suffix}") + getattr(lstm, f"bias_hh_l0{suffix}")
    n, hidden = xs[0].shape[0], w_hh.shape[1]
    h = xs[0].new_zeros(n, hidden)
    c = xs[0].new_zeros(n, hidden)
    outs = []
    for x in xs:
        i, f, g, o = (x @ w_ih.t() + h @ w_hh.t() + b).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outs.append(h)
    return outs


def lstm_attention(jk, xs):
    forward = lstm_direction(jk.lstm, xs, "")
    backward = lstm_direction(jk.lstm, xs[::-1], "_reverse")[::-1]
    scores = torch.stack([torch.cat([f, b], -1) @ jk.att.weight.t() + jk.att.bias
                          for f, b in zip(forward, backward)], dim=1).squeeze(-1)
    alpha = torch.softmax(scores, dim=1)  # over the layers
    return sum(alpha[:, t:t + 1] * x for t, x in enumerate(xs))


def layers(n=5, c=4, t=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, c, generator=g, dtype=torch.float64) for _ in range(t)]


def test_cat_and_max():
    xs = layers()
    torch.testing.assert_close(JumpingKnowledge("cat")(xs),
                               torch.tensor([[v for x in xs for v in x[i].tolist()]
                                             for i in range(5)], dtype=torch.float64))
    expected = xs[0].clone()
    for x in xs[1:]:
        expected = torch.where(x > expected, x, expected)
    torch.testing.assert_close(JumpingKnowledge("max")(xs), expected)


def test_lstm_attention_matches_step_by_step_formula():
    torch.manual_seed(0)
    jk = JumpingKnowledge("lstm", channels=4, num_layers=3).double()
    xs = layers()
    torch.testing.assert_close(jk(xs), lstm_attention(jk, xs))
    assert {k: tuple(v.shape) for k, v in jk.state_dict().items() if "att" in k} == \
        {"att.weight": (1, 12), "att.bias": (1,)}
    assert jk.lstm.hidden_size == 6 and jk.lstm.bidirectional


@pytest.mark.parametrize("mode", ["cat", "max", "lstm"])
def test_lowered_equals_eager_with_gradients(mode):
    torch.manual_seed(1)
    jk = JumpingKnowledge(mode, 4, 2)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.jk = jk

        def forward(self, a, b):
            return self.jk([a, b])

    net = Net().eval()
    low = gfx.lower(gfx.capture(net))
    a1, b1 = torch.randn(5, 4, requires_grad=True), torch.randn(5, 4, requires_grad=True)
    a2, b2 = (t.detach().clone().requires_grad_() for t in (a1, b1))
    out1, out2 = net(a1, b1), low(a2, b2)
    torch.testing.assert_close(out2, out1)
    out1.square().sum().backward()
    out2.square().sum().backward()
    torch.testing.assert_close(a2.grad, a1.grad)
    torch.testing.assert_close(b2.grad, b1.grad)


def test_hetero_jumping_knowledge():
    torch.manual_seed(2)
    hjk = HeteroJumpingKnowledge(["a", "b"], "lstm", 4, 3).double()
    assert "jk_dict.a.lstm.weight_ih_l0" in hjk.state_dict()
    xs = {"a": layers(seed=1), "b": layers(n=2, seed=2)}
    out = hjk(xs)
    for key in xs:
        torch.testing.assert_close(out[key], lstm_attention(hjk.jk_dict[key], xs[key]))
    with pytest.raises(KeyError, match=r"no module for types \['c'\]"):
        hjk({"c": layers()})


def test_errors():
    with pytest.raises(ValueError, match="unknown mode 'sum'"):
        JumpingKnowledge("sum")
    with pytest.raises(ValueError, match="needs 'channels' and 'num_layers'"):
        JumpingKnowledge("lstm")
    with pytest.raises(ValueError, match="non-empty list"):
        JumpingKnowledge("cat")([])
    with pytest.raises(ValueError, match="needs tensors of one shape"):
        JumpingKnowledge("max")([torch.randn(3, 4), torch.randn(3, 5)])
    with pytest.raises(ValueError, match="channels=4"):
        JumpingKnowledge("lstm", 4, 2)([torch.randn(3, 5), torch.randn(3, 5)])
