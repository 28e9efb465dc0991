"""GroupAddRev: the grouped reversible formula, its inverse, gradients of the
memory-saving path against the plain one (chained blocks, random ops inside), what is
kept in memory, and errors."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn import GCNConv, GroupAddRev
from tests.graphs import edge_lists


class NoisyConv(torch.nn.Module):
    """A block with dropout, to check that the backward pass replays the random state."""

    def __init__(self, channels):
        super().__init__()
        self.conv = GCNConv(channels, channels)

    def reset_parameters(self):
        self.conv.reset_parameters()

    def forward(self, x, edge_index):
        return torch.nn.functional.dropout(self.conv(x, edge_index).tanh(), p=0.3)


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=7, max_edges=15), groups=st.integers(2, 4),
       seed=st.integers(0, 999))
def test_formula_and_inverse(graph, groups, seed):
    edge_index, n, _ = graph
    torch.manual_seed(seed)
    model = GroupAddRev(GCNConv(2, 2), num_groups=groups).double()
    x = torch.randn(n, 2 * groups, dtype=torch.float64)
    xs = list(x.chunk(groups, dim=-1))
    prev, ys = sum(xs[1:]), []
    for conv, x_i in zip(model.convs, xs):
        prev = conv(prev, edge_index) + x_i
        ys.append(prev)
    want = torch.cat(ys, dim=-1)
    torch.testing.assert_close(model(x, edge_index), want)
    torch.testing.assert_close(model.inverse(want, edge_index), x)


def test_split_dim_and_module_list():
    torch.manual_seed(0)
    lins = torch.nn.ModuleList([torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)])
    model = GroupAddRev(lins, split_dim=0)
    assert model.num_groups == 2
    x = torch.randn(6, 3)
    a, b = x[:3], x[3:]
    y1 = lins[0](b) + a
    torch.testing.assert_close(model(x), torch.cat([y1, lins[1](y1) + b], dim=0))


def chain(disable, seed=0):
    torch.manual_seed(seed)
    return torch.nn.ModuleList([GroupAddRev(NoisyConv(2), num_groups=2, disable=disable)
                                for _ in range(3)])


def test_gradients_match_the_plain_module():
    edge_index = torch.randint(0, 6, (2, 14), generator=torch.Generator().manual_seed(1))
    x0 = torch.randn(6, 4)
    results = []
    for disable in (True, False):
        layers = chain(disable)
        x = x0.clone().requires_grad_()
        torch.manual_seed(7)
        h = x
        for layer in layers:
            h = layer(h, edge_index)
        h.pow(2).sum().backward()
        results.append((h.detach(), x.grad, [p.grad for p in layers.parameters()]))
    (h_a, gx_a, gp_a), (h_b, gx_b, gp_b) = results
    torch.testing.assert_close(h_b, h_a)
    torch.testing.assert_close(gx_b, gx_a)
    for a, b in zip(gp_a, gp_b):
        torch.testing.assert_close(b, a)


def test_only_one_output_is_kept_and_inputs_untouched():
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    layers = chain(False)
    x = torch.randn(3, 4, requires_grad=True)
    h1 = layers[0](x, edge_index)
    h2 = layers[1](h1, edge_index)
    h3 = layers[2](h2, edge_index)
    # The chained outputs are emptied until the backward pass; the caller's x is not.
    assert h1.untyped_storage().nbytes() == 0 and h2.untyped_storage().nbytes() == 0
    assert x.untyped_storage().nbytes() == 3 * 4 * 4
    h3.sum().backward()
    assert h1.untyped_storage().nbytes() == 3 * 4 * 4 and x.grad is not None


def test_num_bwd_passes():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    x = torch.randn(2, 4, requires_grad=True)
    once = GroupAddRev(GCNConv(2, 2), num_groups=2)
    y = once(x, edge_index).sum()
    y.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="num_bwd_passes"):
        y.backward()
    twice = GroupAddRev(GCNConv(2, 2), num_groups=2, num_bwd_passes=2)
    y = twice(x, edge_index).sum()
    y.backward(retain_graph=True)
    y.backward()


def test_repr_and_errors():
    model = GroupAddRev(GCNConv(4, 4), num_groups=2)
    assert str(model) == "GroupAddRev(GCNConv(4, 4), num_groups=2)"
    assert sorted(model.state_dict()) == ["convs.0.bias", "convs.0.lin.weight",
                                          "convs.1.bias", "convs.1.lin.weight"]
    assert not torch.equal(model.convs[0].lin.weight, model.convs[1].lin.weight)
    with pytest.raises(ValueError, match="num_groups"):
        GroupAddRev(GCNConv(4, 4))
    with pytest.raises(ValueError, match="num_groups"):
        GroupAddRev(GCNConv(4, 4), num_groups=1)
    with pytest.raises(ValueError, match="divisible"):
        model(torch.randn(3, 7), torch.tensor([[0], [1]]))


def test_nothing_freed_without_a_backward_pass():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    layers = chain(False)
    for p in layers.parameters():
        p.requires_grad_(False)
    h1 = layers[0](torch.randn(2, 4), edge_index)
    layers[1](h1, edge_index)
    assert h1.untyped_storage().nbytes() == 2 * 4 * 4   # no backward will refill it
