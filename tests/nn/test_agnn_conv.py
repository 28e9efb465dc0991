import pytest
import torch
from hypothesis import given

import gfx
from gfx.nn import AGNNConv
from tests.graphs import edge_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager, replace_loops


def agnn_reference(beta, x, edges):
    """P X with P_ij the softmax over incoming edges of beta * cos(x_i, x_j)."""
    n = x.shape[0]
    out = torch.zeros_like(x)
    for i in range(n):
        sources = [j for j, t in edges if t == i]
        if not sources:
            continue
        cos = []
        for j in sources:
            ni, nj = x[i].norm(), x[j].norm()
            cos.append(0.0 * beta if ni == 0 or nj == 0 else beta * (x[i] @ x[j]) / (ni * nj))
        weights = torch.softmax(torch.stack(cos).view(-1), dim=0)
        out[i] = sum(w * x[j] for w, j in zip(weights, sources))
    return out


@given(edge_lists())
def test_agnn_matches_formula(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = AGNNConv().double()
    with torch.no_grad():
        conv.beta.fill_(1.7)
    x = torch.randn(n, 3, dtype=torch.float64)
    x[0] = 0.0  # a zero vector has cosine 0 with every neighbour
    edges = replace_loops(edge_index, n, n)[0]
    torch.testing.assert_close(conv(x, edge_index), agnn_reference(conv.beta, x, edges))


@given(edge_lists())
def test_agnn_without_self_loops(graph):
    edge_index, n, _ = graph
    conv = AGNNConv(requires_grad=False, add_self_loops=False).double()
    x = torch.randn(n, 4, dtype=torch.float64)
    edges = [tuple(e) for e in edge_index.t().tolist()]
    torch.testing.assert_close(conv(x, edge_index), agnn_reference(conv.beta, x, edges))


def test_agnn_beta_parameter_or_buffer():
    learned = AGNNConv()
    assert [name for name, _ in learned.named_parameters()] == ["beta"]
    fixed = AGNNConv(requires_grad=False)
    assert list(fixed.parameters()) == [] and list(fixed.state_dict()) == ["beta"]
    with torch.no_grad():
        learned.beta.fill_(3.0)
    learned.reset_parameters()
    assert learned.beta.item() == 1.0


def test_agnn_lowered_equals_eager():
    torch.manual_seed(0)
    conv = AGNNConv().double()
    x, ei = torch.randn(6, 3, dtype=torch.float64), torch.randint(0, 6, (2, 20))
    assert_lowered_matches_eager(conv, x, ei)
    low = gfx.lower(gfx.capture(conv))
    assert "gfx.segment_softmax.default" in {str(n.target) for n in low.graph.nodes}


def test_agnn_refuses_pairs():
    with pytest.raises(ValueError, match="AGNNConv.*bipartite"):
        AGNNConv()((torch.randn(2, 3), torch.randn(2, 3)), torch.tensor([[0], [1]]))
