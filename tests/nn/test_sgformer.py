"""SGFormer against its two branches written out from the formulas (eval mode)."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn.models import SGFormer
from tests.graphs import edge_lists


def gcn_dense(conv, h, edge_index, n):
    """GCN with self-loops and symmetric normalisation, as a dense matrix product."""
    a = torch.eye(n, dtype=h.dtype)
    for j, i in edge_index.t().tolist():
        if i != j:
            a[i, j] += 1.0
    deg = a.sum(1)
    norm = deg.pow(-0.5)[:, None] * a * deg.pow(-0.5)[None, :]
    return norm @ (h @ conv.lin.weight.t()) + conv.bias


def sg_attention(att, h, real):
    """The simple global attention of one padded set ``h`` ``[n, C]`` (one head); only
    the values of padding rows (``real`` False) are zeroed."""
    n = h.size(0)
    q, k, v = att.q(h), att.k(h), att.v(h) * real[:, None]
    q, k = q / q.norm(dim=1, keepdim=True), k / k.norm(dim=1, keepdim=True)
    return torch.stack([(q[i] @ (k.t() @ v) + n * v[i]) / (q[i] @ k.sum(0) + n)
                        for i in range(n)])


@settings(max_examples=8, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12), st.integers(1, 3), st.integers(0, 2**16),
       st.sampled_from(["add", "cat"]))
def test_sgformer_eval_formula(graph, num_graphs, seed, aggregate):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=torch.float64)
    batch = torch.randint(0, num_graphs, (n,), generator=g)
    model = SGFormer(3, 4, 2, trans_num_layers=2, gnn_num_layers=2, graph_weight=0.3,
                     aggregate=aggregate).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    tc, gc = model.trans_conv, model.graph_conv
    # every graph is zero-padded to the largest one; padding rows go through the layers
    # too and act as keys (the reference's semantics)
    width = max(int((batch == b).sum()) for b in range(num_graphs))
    z_trans = torch.zeros(n, 4, dtype=x.dtype)
    for graph_id in range(num_graphs):
        rows = batch == graph_id
        if not rows.any():
            continue
        count = int(rows.sum())
        real = torch.arange(width) < count
        padded_x = torch.cat([x[rows], torch.zeros(width - count, 3, dtype=x.dtype)])
        h = F.relu(tc.bns[0](tc.fcs[0](padded_x)))
        for att, ln in zip(tc.attns, tc.bns[1:]):
            h = F.relu(ln(0.5 * (sg_attention(att, h, real) + h)))
        z_trans[rows] = h[:count]
    h0 = F.relu(gc.bns[0](gc.fcs[0](x)))
    h = h0
    for conv, bn in zip(gc.convs, gc.bns[1:]):
        h = F.relu(bn(gcn_dense(conv, h, edge_index, n))) + h0
    z = 0.3 * h + 0.7 * z_trans if aggregate == "add" else torch.cat([z_trans, h], 1)
    expected = F.log_softmax(model.fc(z), dim=-1)
    torch.testing.assert_close(model(x, edge_index, batch), expected)


def test_sgformer_keys_and_errors():
    keys = set(SGFormer(3, 4, 2, trans_num_layers=1, gnn_num_layers=1).state_dict())
    assert {"trans_conv.attns.0.q.weight", "graph_conv.convs.0.lin.weight",
            "graph_conv.bns.1.running_var", "fc.weight"} <= keys
    with pytest.raises(ValueError, match="'aggregate'"):
        SGFormer(3, 4, 2, aggregate="mean")


def test_sgformer_compiles():
    import gfx
    model = SGFormer(4, 8, 3).eval()
    compiled = gfx.compile(model, backend="cpp")
    g = torch.Generator().manual_seed(0)
    for n, graphs in ((7, 3), (5, 2)):  # the padded width is read when the graph runs
        x = torch.randn(n, 4, generator=g)
        edge_index = torch.randint(0, n, (2, 9), generator=g)
        batch = torch.randint(0, graphs, (n,), generator=g)
        torch.testing.assert_close(compiled(x, edge_index, batch), model(x, edge_index, batch))
