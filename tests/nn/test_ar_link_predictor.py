"""ARLinkPredictor: the attract-repel score written from the paper, shapes, the repel
fraction, bad input, and a short training run on a heterophilous synthetic graph."""
import pytest
import torch
from hypothesis import given, settings

from gfx.nn.models import ARLinkPredictor
from tests.graphs import edge_lists


def test_layout_and_str():
    m = ARLinkPredictor(5, 8, out_channels=6, num_layers=3, attract_ratio=0.25)
    assert (m.attract_dim, m.repel_dim) == (1, 5)
    assert len(m.lins) == 2
    assert list(m.state_dict()) == [
        "lins.0.weight", "lins.0.bias", "lins.1.weight", "lins.1.bias",
        "lin_attract.weight", "lin_attract.bias", "lin_repel.weight", "lin_repel.bias"]
    assert str(m).startswith("ARLinkPredictor(\n  (lins): ModuleList(")
    # one hidden layer at least, even for num_layers < 2
    assert len(ARLinkPredictor(5, 8, num_layers=1).lins) == 1


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=7, max_edges=12))
def test_score_is_pseudo_euclidean_inner_product(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    m = ARLinkPredictor(4, 6, out_channels=5, num_layers=3).double().eval()
    x = torch.randn(n, 4, dtype=torch.float64)
    m.requires_grad_(False)
    # the MLP, written out: two ReLU layers, then the split heads
    h = x
    for lin in m.lins:
        h = torch.clamp(h @ lin.weight.T + lin.bias, min=0)
    a = h @ m.lin_attract.weight.T + m.lin_attract.bias
    r = h @ m.lin_repel.weight.T + m.lin_repel.bias
    # p(u, v) = sigmoid(sum_k a_uk a_vk - sum_k r_uk r_vk), one edge at a time
    expected = torch.tensor(
        [1 / (1 + torch.exp(-(sum(a[u, k] * a[v, k] for k in range(a.size(1)))
                              - sum(r[u, k] * r[v, k] for k in range(r.size(1))))))
         for u, v in edge_index.t().tolist()], dtype=torch.float64)
    out = m(x, edge_index)
    assert out.shape == (edge_index.size(1),)
    torch.testing.assert_close(out, expected)
    za, zr = m.encode(x)
    torch.testing.assert_close(za, a)
    torch.testing.assert_close(zr, r)


def test_repel_fraction():
    m = ARLinkPredictor(2, 2)
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])    # squared norm 2
    r = torch.tensor([[2.0, 0.0], [0.0, 0.0]])    # squared norm 4
    assert m.calculate_r_fraction(a, r) == pytest.approx(4 / 6)


def test_self_score_can_be_negative():
    # a node whose repel part dominates is unlikely to link to itself (heterophily)
    m = ARLinkPredictor(2, 2, out_channels=2)
    a, r = torch.tensor([[0.5]]), torch.tensor([[2.0]])
    assert m.decode(a, r, torch.tensor([[0], [0]])).item() == pytest.approx(0.25 - 4.0)


def test_bad_input():
    with pytest.raises(ValueError, match="attract_ratio"):
        ARLinkPredictor(4, 8, attract_ratio=1.5)
    with pytest.raises(ValueError, match="dropout"):
        ARLinkPredictor(4, 8, dropout=-0.1)
    m = ARLinkPredictor(4, 8)
    with pytest.raises(ValueError, match="edge_index"):
        m(torch.randn(3, 4), torch.tensor([0, 1, 2]))


def test_trains_on_bipartite_graph():
    """Heterophily: two classes with shifted features, links only across classes (a
    complete bipartite graph).  Similar nodes must score low, which the repel part can
    express.  Documented quality: after 200 Adam steps, train AUC > 0.95, BCE < 0.3."""
    torch.manual_seed(0)
    n = 20
    cls = torch.arange(n) % 2
    x = torch.randn(n, 8) + 2.0 * cls.view(-1, 1).float()
    pairs = torch.combinations(torch.arange(n)).t()
    label = (cls[pairs[0]] != cls[pairs[1]]).float()
    m = ARLinkPredictor(8, 16, out_channels=8, num_layers=2)
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    for _ in range(200):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy(m(x, pairs), label)
        loss.backward()
        opt.step()
    with torch.no_grad():
        p = m.eval()(x, pairs)
    pos, neg = p[label == 1], p[label == 0]
    auc = (pos.view(-1, 1) > neg.view(1, -1)).float().mean().item()
    assert auc > 0.95
    assert loss.item() < 0.3
