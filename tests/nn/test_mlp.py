import pytest
import torch

import gfx
from gfx.nn.resolver import activation_resolver, normalization_resolver
from gfx.nn import MLP


def manual_mlp(mlp, x, act, norm_fn=None, act_first=False):
    """The documented layer loop written out with the layer's matrices."""
    layers = len(mlp.lins)
    hidden = layers - 1 if mlp.plain_last else layers
    for i in range(layers):
        lin = mlp.lins[i]
        x = x @ lin.weight.t() + (lin.bias if lin.bias is not None else 0.0)
        if i < hidden:
            if act_first:
                x = act(x)
            if norm_fn is not None:
                x = norm_fn(x)
            if not act_first:
                x = act(x)
    return x


def standardise(x, eps=1e-5):
    return (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False,
                                                              keepdim=True) + eps)


@pytest.mark.parametrize("plain_last", [True, False])
@pytest.mark.parametrize("act_first", [True, False])
def test_mlp_formula_with_layer_norm(plain_last, act_first):
    torch.manual_seed(0)
    mlp = MLP([3, 6, 5, 4], act="leaky_relu", act_kwargs={"negative_slope": 0.2},
              norm=torch.nn.LayerNorm, plain_last=plain_last, act_first=act_first).double()
    for norm in mlp.norms:  # make the affine part visible
        for p in norm.parameters():
            p.data.uniform_(0.5, 1.5)
    x = torch.randn(7, 3, dtype=torch.float64)
    calls = iter(mlp.norms)

    def norm_fn(h):
        norm = next(calls)
        return standardise(h) * norm.weight + norm.bias

    act = torch.nn.LeakyReLU(0.2)
    expected = manual_mlp(mlp, x, act, norm_fn, act_first)
    torch.testing.assert_close(mlp(x), expected)


def test_mlp_batch_norm_eval_uses_running_statistics():
    torch.manual_seed(1)
    mlp = MLP(in_channels=4, hidden_channels=8, out_channels=2, num_layers=3).double()
    x = torch.randn(16, 4, dtype=torch.float64)
    mlp.train()
    mlp(x)  # updates running statistics
    mlp.eval()
    stats = []
    for norm in mlp.norms:
        buffers = dict(norm.named_buffers())
        mean = next(v for k, v in buffers.items() if k.endswith("running_mean"))
        var = next(v for k, v in buffers.items() if k.endswith("running_var"))
        params = dict(norm.named_parameters())
        weight = next(v for k, v in params.items() if k.endswith("weight"))
        bias = next(v for k, v in params.items() if k.endswith("bias"))
        stats.append((mean, var, weight, bias))
    calls = iter(stats)

    def norm_fn(h):
        mean, var, weight, bias = next(calls)
        return (h - mean) / torch.sqrt(var + 1e-5) * weight + bias

    torch.testing.assert_close(mlp(x), manual_mlp(mlp, x, torch.relu, norm_fn))


def test_mlp_dropout_schedule():
    assert MLP([3, 5, 2], dropout=0.3).dropout == [0.3, 0.0]
    assert MLP([3, 5, 2], dropout=0.3, plain_last=False).dropout == [0.3, 0.3]
    assert MLP([3, 5, 2], dropout=[0.1, 0.2]).dropout == [0.1, 0.2]
    torch.manual_seed(0)
    mlp = MLP([3, 5, 50], dropout=[0.0, 0.9], norm=None).train()
    zero = (mlp(torch.randn(40, 3)) == 0).float().mean()
    assert 0.8 < zero < 0.97  # the last entry applies after a plain last layer


def test_mlp_channel_arguments_bias_and_return_emb():
    assert MLP(in_channels=3, out_channels=2, num_layers=1).channel_list == [3, 2]
    assert MLP(4, hidden_channels=6, out_channels=2, num_layers=3).channel_list == [4, 6, 6, 2]
    mlp = MLP([3, 5, 2], bias=[False, True], norm=None)
    assert set(mlp.state_dict()) == {"lins.0.weight", "lins.1.weight", "lins.1.bias"}
    assert (mlp.in_channels, mlp.out_channels, mlp.num_layers) == (3, 2, 2)
    x = torch.randn(4, 3)
    out, emb = mlp(x, return_emb=True)
    torch.testing.assert_close(emb, torch.relu(x @ mlp.lins[0].weight.t()))
    torch.testing.assert_close(out, mlp(x))
    lazy = MLP([-1, 5, 2])
    assert lazy(torch.randn(4, 7)).shape == (4, 2) and lazy.lins[0].weight.shape == (5, 7)


def test_mlp_deprecated_arguments():
    mlp = MLP([3, 5, 2], relu_first=True, batch_norm=False)
    assert mlp.act_first and isinstance(mlp.norms[0], torch.nn.Identity)


def test_mlp_lowered_equals_eager_with_gradients():
    torch.manual_seed(2)
    mlp = MLP([3, 8, 8, 2], norm="batch_norm", act="elu", dropout=0.5)
    mlp.train()
    mlp(torch.randn(10, 3))
    mlp.eval()
    low = gfx.lower(gfx.capture(mlp))
    x1 = torch.randn(6, 3, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    out1, out2 = mlp(x1), low(x2)
    torch.testing.assert_close(out2, out1)
    out1.sum().backward()
    out2.sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad)


def test_resolvers():
    assert isinstance(activation_resolver("leaky_relu", negative_slope=0.1), torch.nn.LeakyReLU)
    assert isinstance(activation_resolver("LeakyReLU"), torch.nn.LeakyReLU)
    for name, cls in [("relu", torch.nn.ReLU), ("elu", torch.nn.ELU), ("gelu", torch.nn.GELU),
                      ("tanh", torch.nn.Tanh), ("swish", torch.nn.SiLU),
                      ("prelu", torch.nn.PReLU)]:
        assert isinstance(activation_resolver(name), cls)
    assert activation_resolver(None) is None and activation_resolver(torch.tanh) is torch.tanh
    with pytest.raises(ValueError, match="unknown activation 'nope'.*leakyrelu"):
        activation_resolver("nope")
    with pytest.raises(ValueError, match="unknown normalization 'nope'.*batchnorm"):
        normalization_resolver("nope", 4)
    norm = torch.nn.LayerNorm(4)
    copied = normalization_resolver(norm, 4)
    assert isinstance(copied, torch.nn.LayerNorm) and copied is not norm


def test_mlp_errors():
    with pytest.raises(ValueError, match="'num_layers' must be given"):
        MLP(in_channels=3, out_channels=2)
    with pytest.raises(ValueError, match="'hidden_channels' must be given"):
        MLP(in_channels=3, out_channels=2, num_layers=2)
    with pytest.raises(ValueError, match="'channel_list' must list at least"):
        MLP([3])
    with pytest.raises(ValueError, match="got 1 dropout values for 2 layers"):
        MLP([3, 4, 2], dropout=[0.1])
    with pytest.warns(UserWarning, match=r"ignoring unknown arguments \['colour'\]"):
        MLP([3, 4, 2], colour="red")
    with pytest.raises(ValueError, match="MLP: 'x' must have 3 features"):
        MLP([3, 4, 2])(torch.randn(2, 5))
