"""Polynormer against its layers written out from the formulas (eval mode)."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn.models import Polynormer
from tests.graphs import edge_lists

from .test_sgformer import gcn_dense


def poly_attention(att, h, real):
    """Polynormer attention of one padded set ``h`` ``[n, C]`` with one head; padding
    rows (``real`` False) keep their keys, their values are zeroed."""
    k = torch.sigmoid(att.k(h))
    q = k if att.qk_shared else torch.sigmoid(att.q(h))
    v = att.v(h) * real[:, None]
    z = torch.stack([(q[i] @ (k.t() @ v)) / (q[i] @ k.sum(0)) for i in range(h.size(0))])
    gated = att.lns(z) * (att.h_lins(h) + att.beta)
    return torch.relu(att.lin_out(gated))


@settings(max_examples=8, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), st.integers(1, 3), st.integers(0, 2**16),
       st.booleans())
def test_polynormer_eval_formula(graph, num_graphs, seed, global_phase):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    batch = torch.randint(0, num_graphs, (n,), generator=g)
    model = Polynormer(3, 4, 2, local_layers=2, global_layers=2, beta=0.6).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    model._global = global_phase
    h_in, x_local = x, 0
    for i in range(2):
        h = torch.relu(model.h_lins[i](h_in))
        y = gcn_dense(model.local_convs[i], h_in, edge_index, n) + model.lins[i](h_in)
        y = torch.relu(model.post_bns[i](y))
        h_in = 0.4 * model.lns[i](h * y) + 0.6 * y
        x_local = x_local + h_in
    if not global_phase:
        expected = F.log_softmax(model.pred_local(x_local), dim=-1)
    else:
        z = model.ln(x_local)
        width = max(int((batch == b).sum()) for b in range(num_graphs))
        out = torch.zeros_like(z)
        for b in range(num_graphs):
            rows = batch == b
            count = int(rows.sum())
            if count == 0:
                continue
            # padding rows are zero inputs of the first attention layer
            h = torch.cat([z[rows], torch.zeros(width - count, z.size(1), dtype=z.dtype)])
            real = torch.arange(width) < count
            for att in model.global_attn:
                h = poly_attention(att, h, real)
            out[rows] = h[:count]
        expected = F.log_softmax(model.pred_global(out), dim=-1)
    torch.testing.assert_close(model(x, edge_index, batch), expected)


def test_polynormer_heads_keys_and_errors():
    model = Polynormer(3, 4, 2, local_layers=2, global_layers=1, heads=2).eval()
    x, edge_index = torch.randn(5, 3), torch.tensor([[0, 1], [1, 2]])
    batch = torch.tensor([0, 0, 1, 1, 1])
    assert model(x, edge_index, batch).shape == (5, 2)  # the local phase takes any heads
    model._global = True
    with pytest.raises(ValueError, match="heads=1"):
        model(x, edge_index, batch)
    keys = set(model.state_dict())
    assert {"h_lins.1.weight", "local_convs.0.lin.weight", "post_bns.1.running_var",
            "global_attn.0.lin_out.weight", "pred_global.bias"} <= keys
    assert tuple(model.global_attn[0].h_lins.weight.shape) == (8, 4)  # the reference's
    with pytest.raises(ValueError, match="'heads'"):
        Polynormer(3, 4, 2, heads=0)


@pytest.mark.parametrize("global_phase", [False, True])
def test_polynormer_compiles(global_phase):
    import gfx
    model = Polynormer(4, 8, 3, local_layers=2).eval()
    model._global = global_phase
    compiled = gfx.compile(model, backend="cpp")
    g = torch.Generator().manual_seed(0)
    for n, graphs in ((7, 3), (5, 2)):
        x = torch.randn(n, 4, generator=g)
        edge_index = torch.randint(0, n, (2, 9), generator=g)
        batch = torch.randint(0, graphs, (n,), generator=g)
        torch.testing.assert_close(compiled(x, edge_index, batch), model(x, edge_index, batch))
