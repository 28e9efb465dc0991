import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import FusedGATConv, GATConv
from tests.graphs import edge_lists


def loop_gat(x, edge_index, weight, att_src, att_dst, heads, concat, bias, slope=0.2,
             num_dst=None):
    """GAT without added loops, edge by edge: softmax over each target's incoming edges."""
    num_dst = x.shape[0] if num_dst is None else num_dst
    C = weight.shape[0] // heads
    h = (x @ weight.t()).view(-1, heads, C)
    a_src, a_dst = (h * att_src.view(1, heads, C)).sum(-1), (h * att_dst.view(1, heads, C)).sum(-1)
    out = torch.zeros(num_dst, heads, C, dtype=x.dtype)
    src, dst = edge_index.tolist()
    for i in range(num_dst):
        incoming = [j for j, t in zip(src, dst) if t == i]
        if not incoming:
            continue
        s = torch.stack([a_src[j] + a_dst[i] for j in incoming])  # [k, heads]
        w = torch.softmax(torch.where(s > 0, s, slope * s), dim=0)
        out[i] = sum(w[n].view(heads, 1) * h[j] for n, j in enumerate(incoming))
    out = out.reshape(num_dst, -1) if concat else out.mean(1)
    return out if bias is None else out + bias


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.integers(1, 3), st.booleans())
def test_fused_gat_matches_loop_formula(graph, heads, concat):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = FusedGATConv(3, 2, heads=heads, concat=concat, add_self_loops=False).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(n, 3, dtype=torch.float64)
    csr, csc, perm = FusedGATConv.to_graph_format(edge_index, size=(n, n))
    expected = loop_gat(x, edge_index, conv.lin.weight, conv.att_src, conv.att_dst, heads,
                        concat, conv.bias)
    torch.testing.assert_close(conv(x, csr, csc, perm), expected)


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_to_graph_format_layouts(graph):
    edge_index, n, _ = graph
    (rowptr, col), (row, colptr), perm = FusedGATConv.to_graph_format(edge_index, (n, n))
    assert rowptr.dtype == col.dtype == row.dtype == colptr.dtype == perm.dtype == torch.int32
    assert rowptr.numel() == colptr.numel() == n + 1
    csr_src = torch.repeat_interleave(torch.arange(n), (rowptr[1:] - rowptr[:-1]).long())
    csc_dst = torch.repeat_interleave(torch.arange(n), (colptr[1:] - colptr[:-1]).long())
    key = lambda a, b: sorted(zip(a.tolist(), b.tolist()))  # noqa: E731
    assert key(csr_src, col) == key(edge_index[0], edge_index[1])  # same multiset of edges
    assert key(row, csc_dst) == key(edge_index[0], edge_index[1])
    assert csr_src.tolist() == sorted(csr_src.tolist())
    assert torch.equal(csr_src[perm.long()], row.long())  # perm: CSC position -> CSR position
    assert torch.equal(col[perm.long()].long(), csc_dst)


def test_fused_gat_equals_gat_without_loops_and_layout():
    torch.manual_seed(0)
    fused = FusedGATConv(4, 3, heads=2, add_self_loops=False)
    plain = GATConv(4, 3, heads=2, add_self_loops=False)
    plain.load_state_dict(fused.state_dict())
    assert str(fused) == "FusedGATConv(4, 3, heads=2)"
    edge_index = torch.tensor([[0, 1, 2, 3, 3], [1, 2, 0, 0, 3]])
    x = torch.randn(4, 4)
    out = fused(x, *FusedGATConv.to_graph_format(edge_index))
    torch.testing.assert_close(out, plain(x, edge_index))


def test_fused_gat_errors():
    with pytest.raises(ValueError, match="self-loops"):
        FusedGATConv(4, 3)
    with pytest.raises(ValueError, match="edge_dim"):
        FusedGATConv(4, 3, add_self_loops=False, edge_dim=2)
    conv = FusedGATConv(4, 3, add_self_loops=False)
    csr, csc, perm = FusedGATConv.to_graph_format(torch.tensor([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="perm"):
        conv(torch.randn(2, 4), csr, csc, perm[:1])
    with pytest.raises(TypeError, match="'x'"):
        conv((torch.randn(2, 4), torch.randn(2, 4)), csr, csc, perm)
    with pytest.raises(ValueError, match="edge_index"):
        FusedGATConv.to_graph_format(torch.tensor([0, 1]))
