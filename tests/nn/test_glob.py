"""Global pooling: per-graph sum, mean and max readouts."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
import gfx.nn as gnn
from gfx.nn import global_add_pool, global_max_pool, global_mean_pool

POOLS = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}


def loop_readout(x, batch, size, reduce):
    """The documented readout with an explicit loop over graphs (empty graph -> 0)."""
    out = torch.zeros(size, x.shape[-1], dtype=x.dtype)
    for b in range(size):
        rows = [x[n] for n in range(x.shape[0]) if int(batch[n]) == b]
        if rows:
            stacked = torch.stack(rows)
            out[b] = {"sum": stacked.sum(0), "mean": stacked.mean(0),
                      "max": stacked.max(0).values}[reduce]
    return out


def assert_lowered_matches_eager(model, *inputs, lowered=None):
    """Outputs (a tensor or a tuple of them) and the gradients of floating-point inputs
    and parameters of ``gfx.lower(gfx.capture(model))`` equal eager, in eval mode.

    Shared by the tests of the pooling, normalisation and family-C convolution layers.
    """
    model.eval()
    low = lowered if lowered is not None else gfx.lower(gfx.capture(model))
    survivors = [n.target for n in low.graph.nodes if n.op == "call_module" and isinstance(
        low.get_submodule(n.target), (gnn.MessagePassing, gnn.Aggregation))]
    assert not survivors, f"not lowered: {survivors}"
    results = []
    for module in (low, model):
        args = [t.clone().requires_grad_() if isinstance(t, torch.Tensor)
                and t.is_floating_point() else t for t in inputs]
        model.zero_grad()
        out = module(*args)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        sum(o.pow(2).sum() for o in outs).backward()
        results.append((outs, [a.grad for a in args if isinstance(a, torch.Tensor)
                               and a.is_floating_point()],
                        [None if p.grad is None else p.grad.clone() for p in model.parameters()]))
    (out_l, in_l, par_l), (out_e, in_e, par_e) = results
    for got, want in zip(out_l + in_l + par_l, out_e + in_e + par_e):
        torch.testing.assert_close(got, want)
    return low


@st.composite
def batches(draw):
    """A batch vector (possibly with empty graphs, also at the end) and the graph count."""
    size = draw(st.integers(1, 5))
    nodes = draw(st.integers(0, 10))
    batch = draw(st.lists(st.integers(0, size - 1), min_size=nodes, max_size=nodes))
    return torch.tensor(sorted(batch), dtype=torch.long), size


@given(batches(), st.sampled_from(sorted(POOLS)))
def test_pool_matches_loop(data, reduce):
    batch, size = data
    x = torch.randn(batch.numel(), 3, dtype=torch.float64)
    torch.testing.assert_close(POOLS[reduce](x, batch, size), loop_readout(x, batch, size, reduce))
    inferred = int(batch.max()) + 1 if batch.numel() else 0
    torch.testing.assert_close(POOLS[reduce](x, batch),
                               loop_readout(x, batch, inferred, reduce))


@pytest.mark.parametrize("reduce", sorted(POOLS))
def test_pool_without_batch_is_one_graph(reduce):
    x = torch.randn(6, 4, dtype=torch.float64)
    expected = loop_readout(x, torch.zeros(6, dtype=torch.long), 1, reduce)
    torch.testing.assert_close(POOLS[reduce](x, None), expected)
    # No nodes at all: 0 for every readout (never NaN or -inf).
    assert torch.equal(POOLS[reduce](torch.zeros(0, 4), None), torch.zeros(1, 4))
    # A dense batch [B, N, F] reads out to [B, F]; a vector [N] to [1].
    dense = torch.randn(2, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(POOLS[reduce](dense, None), torch.cat(
        [loop_readout(d, torch.zeros(5, dtype=torch.long), 1, reduce) for d in dense]))
    vec = torch.randn(5, dtype=torch.float64)
    torch.testing.assert_close(POOLS[reduce](vec, torch.tensor([0, 0, 1, 1, 1])),
                               loop_readout(vec.view(-1, 1), torch.tensor([0, 0, 1, 1, 1]),
                                            2, reduce).view(-1))


def test_max_pool_of_negative_features_and_ties():
    x = torch.tensor([[-3.0], [-1.0], [-1.0], [-2.0]], requires_grad=True)
    out = global_max_pool(x, torch.tensor([0, 0, 0, 1]), 3)
    assert out.view(-1).tolist() == [-1.0, -2.0, 0.0]
    out.sum().backward()
    assert x.grad.view(-1).tolist() == [0.0, 0.5, 0.5, 1.0]


def test_pool_errors():
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match="global_mean_pool: 'batch' has 3 entries but 'x' has 4"):
        global_mean_pool(x, torch.tensor([0, 0, 1]))
    with pytest.raises(TypeError, match="global_add_pool: 'batch' must be int64 or int32"):
        global_add_pool(x, torch.zeros(4))
    with pytest.raises(ValueError, match="global_max_pool: 'batch' must be 1-D"):
        global_max_pool(x, torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(IndexError, match="dim_size"):
        global_add_pool(x, torch.tensor([0, 1, 2, 3]), size=2)


class Readout(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = gnn.SAGEConv(3, 4)

    def forward(self, x, edge_index, batch):
        h = self.conv(x, edge_index)
        return torch.cat([global_add_pool(h, batch), global_mean_pool(h, batch),
                          global_max_pool(x, batch)], dim=-1)


def test_pool_captures_at_graph_level_and_lowers():
    torch.manual_seed(0)
    model = Readout().double().eval()
    x = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 5, 6], [1, 2, 0, 4, 6, 5]])
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2])
    captured = gfx.capture(model)
    output = next(n for n in captured.graph.nodes if n.op == "output")
    assert output.args[0].meta["level"] == "graph"
    low = gfx.lower(captured)
    assert all(n.op != "call_module" or type(low.get_submodule(n.target)).__name__ == "Linear"
               for n in low.graph.nodes)
    out_l = low(x, edge_index, batch)
    out_l.pow(2).sum().backward()
    grad_l, x.grad = x.grad, None
    out_e = model(x, edge_index, batch)
    out_e.pow(2).sum().backward()
    torch.testing.assert_close(out_l, out_e)
    torch.testing.assert_close(grad_l, x.grad)
    # The graph count is computed when the lowered graph runs, not frozen at trace time.
    more = torch.tensor([0, 0, 1, 1, 2, 3, 3])
    torch.testing.assert_close(low(x, edge_index, more), model(x, edge_index, more))
