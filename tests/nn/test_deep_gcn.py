import pytest
import torch

import gfx
from gfx.nn import DeepGCNLayer, GCNConv

EDGE_INDEX = torch.tensor([[0, 1, 2, 3, 4, 2, 1], [1, 2, 3, 4, 0, 0, 1]])


def parts(seed=0):
    torch.manual_seed(seed)
    conv = GCNConv(4, 4).double()
    norm = torch.nn.LayerNorm(4).double()
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    return conv, norm, torch.nn.ReLU()


@pytest.mark.parametrize("block", ["res+", "res", "dense", "plain"])
def test_blocks_follow_their_formula(block):
    conv, norm, act = parts()
    layer = DeepGCNLayer(conv, norm, act, block=block, dropout=0.5).eval()
    x = torch.randn(5, 4, dtype=torch.float64)
    if block == "res+":
        expected = x + conv(torch.relu(norm(x)), EDGE_INDEX)
    else:
        h = torch.relu(norm(conv(x, EDGE_INDEX)))
        expected = {"res": x + h, "dense": torch.cat([x, h], -1), "plain": h}[block]
    torch.testing.assert_close(layer(x, EDGE_INDEX), expected)


def test_dropout_position():
    conv, _, _ = parts()
    x = torch.randn(50, 4, dtype=torch.float64)
    torch.manual_seed(3)
    res_plus = DeepGCNLayer(None, None, None, block="res+", dropout=0.5).train()
    out = res_plus(x)  # x + dropout(x): each entry is x (dropped) or x + 2x (kept)
    kept = ~torch.isclose(out, x)
    torch.testing.assert_close(out, torch.where(kept, 3 * x, x))
    assert 0.3 < kept.double().mean() < 0.7
    plain = DeepGCNLayer(conv, None, None, block="plain", dropout=1.0).train()
    assert (plain(x, EDGE_INDEX) == 0).all()  # dropout comes last


def test_checkpointing_keeps_values_and_gradients():
    conv, norm, act = parts()
    x1 = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    for block in ("res+", "res"):
        plain = DeepGCNLayer(conv, norm, act, block=block)
        ckpt = DeepGCNLayer(conv, norm, act, block=block, ckpt_grad=True)
        out1, out2 = plain(x1, EDGE_INDEX), ckpt(x2, EDGE_INDEX)
        torch.testing.assert_close(out2, out1)
        g1 = torch.autograd.grad(out1.sum(), (x1, conv.lin.weight))
        g2 = torch.autograd.grad(out2.sum(), (x2, conv.lin.weight))
        for a, b in zip(g1, g2):
            torch.testing.assert_close(a, b)


def test_state_dict_and_reset():
    conv, norm, act = parts()
    layer = DeepGCNLayer(conv, norm, act)
    assert set(layer.state_dict()) == {"conv.bias", "conv.lin.weight", "norm.weight",
                                       "norm.bias"}
    DeepGCNLayer(conv, None, None).reset_parameters()  # missing parts are skipped
    assert repr(layer) == "DeepGCNLayer(block=res+)"


def test_lowered_equals_eager_with_gradients():
    conv, norm, act = parts()

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = DeepGCNLayer(conv, norm, act, block="res+", ckpt_grad=True)
            self.dense = DeepGCNLayer(GCNConv(4, 4).double(), None, act, block="dense")

        def forward(self, x, edge_index):
            return self.dense(self.layer(x, edge_index), edge_index)

    net = Net().eval()
    low = gfx.lower(gfx.capture(net))
    x1 = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    out1, out2 = net(x1, EDGE_INDEX), low(x2, EDGE_INDEX)
    torch.testing.assert_close(out2, out1)
    out1.square().sum().backward()
    out2.square().sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad)


def test_errors():
    with pytest.raises(ValueError, match="unknown block 'resnet'"):
        DeepGCNLayer(block="resnet")
    with pytest.raises(ValueError, match="'dropout' must be in"):
        DeepGCNLayer(dropout=2.0)
    with pytest.raises(TypeError, match="first positional argument"):
        DeepGCNLayer()(x=torch.randn(2, 2))
