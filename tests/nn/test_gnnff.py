"""GNNFF: node and edge blocks against loops, force covariance."""
import pytest
import torch
from hypothesis import given, settings

from gfx.nn import GNNFF
from gfx.nn.models.dimenet import triplets
from gfx.nn.models.gnnff import EdgeBlock, NodeBlock
from tests.graphs import edge_lists


def gated(v, bn):
    a, b = bn(v.unsqueeze(0)).squeeze(0).chunk(2)
    return torch.sigmoid(a) * torch.tanh(b)


@settings(max_examples=10, deadline=None)
@given(edge_lists(5, 12, False))
def test_blocks_by_loop(graph):
    edge_index, n, _ = graph
    n = max(n, 1)
    torch.manual_seed(0)
    node, edge = NodeBlock(3, 2).double().eval(), EdgeBlock(3, 2).double().eval()
    for bn in (node.bn_c1, node.bn, edge.bn_c2, edge.bn_c3, edge.bn_c2_2, edge.bn_c3_2):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    h = torch.randn(n, 3, dtype=torch.float64)
    e = torch.randn(edge_index.shape[1], 2, dtype=torch.float64)
    i, j, idx_i, idx_j, idx_k, idx_kj, idx_ji = triplets(edge_index, n)
    src, dst = edge_index.tolist() if edge_index.numel() else ([], [])

    expected_h = []
    for a in range(n):
        total = torch.zeros(3, dtype=torch.float64)
        for q in range(len(src)):
            if dst[q] == a:
                total = total + gated(node.lin_c1(torch.cat([h[a], e[q]])), node.bn_c1)
        expected_h.append(torch.tanh(h[a] + node.bn(total.unsqueeze(0)).squeeze(0)))
    expected_h = torch.stack(expected_h)
    got_h = node(h, e, i)
    torch.testing.assert_close(got_h, expected_h)

    got_e = edge(got_h, e, i, j, idx_i, idx_j, idx_k, idx_ji, idx_kj)
    for q in range(len(src)):
        jj, ii = src[q], dst[q]
        c2 = edge.bn_c2_2(gated(edge.lin_c2(got_h[ii] * got_h[jj]), edge.bn_c2)
                          .unsqueeze(0)).squeeze(0)
        total = torch.zeros(2, dtype=torch.float64)
        for p in range(len(src)):  # k -> j with k != i
            if dst[p] == jj and src[p] != ii:
                c3 = torch.cat([got_h[ii], got_h[jj], got_h[src[p]], e[q], e[p]])
                total = total + gated(edge.lin_c3(c3), edge.bn_c3)
        c3 = edge.bn_c3_2(total.unsqueeze(0)).squeeze(0)
        torch.testing.assert_close(got_e[q], torch.tanh(e[q] + c2 + c3))


def test_forces_rotate_with_the_molecule():
    torch.manual_seed(0)
    model = GNNFF(4, 5, num_layers=2, cutoff=3.0).double().eval()
    z = torch.tensor([1, 6, 8, 1, 7])
    pos = torch.rand(5, 3, dtype=torch.float64) * 2
    forces = model(z, pos)
    assert forces.shape == (5, 3)
    rot, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    torch.testing.assert_close(model(z, pos @ rot.t() + 2.0), forces @ rot.t())
    perm = torch.tensor([3, 1, 4, 0, 2])
    torch.testing.assert_close(model(z[perm], pos[perm]), forces[perm])
    # an isolated atom feels no force and still gets its row
    far = torch.cat([pos, torch.tensor([[50.0, 0.0, 0.0]], dtype=torch.float64)])
    out = model(torch.cat([z, torch.tensor([1])]), far)
    assert out.shape == (6, 3) and not out[5].any()


def test_errors():
    model = GNNFF(4, 5, num_layers=1)
    with pytest.raises(ValueError, match="'z'"):
        model(torch.randn(3), torch.randn(3, 3))
    with pytest.raises(ValueError, match="'pos'"):
        model(torch.tensor([1, 2, 3]), torch.randn(3, 2))
