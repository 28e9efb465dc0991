"""gfx.transforms against computations written from their definitions."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

import gfx.transforms as T
from gfx.data import Data, HeteroData
from tests.graphs import dense_adjacency, edge_lists


def _graph(edge_index, n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return Data(x=torch.randn(n, 3, generator=g), edge_index=edge_index,
                edge_weight=torch.rand(edge_index.size(1), generator=g) + 0.5,
                y=torch.randint(0, 3, (n,), generator=g))


def test_same_objects_in_gfx_data_transforms():
    import gfx.data.transforms as DT
    for name in T.__all__:
        assert getattr(DT, name) is getattr(T, name)


def test_normalize_features_rows():
    x = torch.tensor([[-1.0, 1.0, 2.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]])
    out = T.NormalizeFeatures()(Data(x=x))
    shifted = x + 1.0
    expected = shifted / shifted.sum(1, keepdim=True).clamp(min=1)
    assert torch.allclose(out.x, expected) and out.x[2].tolist() == [0.0, 0.0, 0.0]
    assert repr(T.NormalizeFeatures()) == "NormalizeFeatures()"


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_self_loop_transforms(graph):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    added = T.AddSelfLoops()(data)
    assert added.edge_index.size(1) == edge_index.size(1) + n
    assert added.edge_index[:, -n:].tolist() == [list(range(n))] * 2
    assert added.edge_weight[-n:].tolist() == [1.0] * n
    assert data.edge_index is edge_index  # the input graph is not modified
    removed = T.RemoveSelfLoops()(data)
    keep = edge_index[0] != edge_index[1]
    assert torch.equal(removed.edge_index, edge_index[:, keep])
    assert torch.equal(removed.edge_weight, data.edge_weight[keep])


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_to_undirected_dense(graph):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    out = T.ToUndirected()(data)
    A = dense_adjacency(edge_index, n, n, data.edge_weight)
    expected = A + A.t()
    got = dense_adjacency(out.edge_index, n, n, out.edge_weight)
    assert torch.allclose(got, expected, atol=1e-6)
    assert out.edge_index.size(1) == int((expected != 0).sum())


def test_to_undirected_hetero_adds_reverse_types():
    h = HeteroData()
    h["a"].x = torch.randn(2, 1)
    h["b"].x = torch.randn(3, 1)
    h["a", "r", "b"].edge_index = torch.tensor([[0, 1], [2, 0]])
    h["a", "r", "b"].edge_attr = torch.tensor([[1.0], [2.0]])
    h["a", "s", "a"].edge_index = torch.tensor([[0], [1]])
    out = T.ToUndirected()(h)
    assert out["b", "rev_r", "a"].edge_index.tolist() == [[2, 0], [0, 1]]
    assert torch.equal(out["b", "rev_r", "a"].edge_attr, h["a", "r", "b"].edge_attr)
    assert out["a", "s", "a"].edge_index.tolist() == [[0, 1], [1, 0]]
    assert ("b", "rev_r", "a") not in h.edge_types


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_gcn_norm_dense(graph):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    out = T.GCNNorm()(data)
    # A_hat: existing loops keep their weight, other nodes get a loop of weight 1
    A = torch.zeros(n, n, dtype=torch.float64)
    loop = torch.ones(n, dtype=torch.float64)
    for (j, i), w in zip(edge_index.t().tolist(), data.edge_weight.tolist()):
        if i == j:
            loop[i] = w
        else:
            A[i, j] += w
    A += torch.diag(loop)
    d = A.sum(1)
    expected = A / torch.sqrt(d[:, None] * d[None, :])
    got = dense_adjacency(out.edge_index, n, n, out.edge_weight)
    assert torch.allclose(got, expected, atol=1e-5)


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.sampled_from([None, torch.sparse_coo, torch.sparse_csr,
                                      torch.sparse_csc]))
def test_to_sparse_tensor(graph, layout):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    data.edge_attr = torch.arange(edge_index.size(1)).float().view(-1, 1)
    out = T.ToSparseTensor(layout=layout)(data)
    assert "edge_index" not in out and "edge_weight" not in out
    assert out.adj_t.layout == (layout or torch.sparse_csr)
    expected = dense_adjacency(edge_index, n, n, data.edge_weight).float()
    assert torch.allclose(out.adj_t.to_dense(), expected, atol=1e-6)
    order = sorted(range(edge_index.size(1)),
                   key=lambda e: (int(edge_index[1, e]), int(edge_index[0, e]), e))
    assert out.edge_attr.view(-1).tolist() == [float(e) for e in order]


def test_constant_one_hot_degree_to_device():
    data = Data(x=torch.ones(3, 2), edge_index=torch.tensor([[0, 0, 1], [1, 2, 2]]))
    out = T.Constant(0.5)(data)
    assert out.x.tolist() == [[1.0, 1.0, 0.5]] * 3
    assert T.Constant(2.0, cat=False)(data).x.tolist() == [[2.0]] * 3
    deg = T.OneHotDegree(2)(data)
    assert deg.x[:, 2:].tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
    in_deg = T.OneHotDegree(2, in_degree=True, cat=False)(data)
    assert in_deg.x.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="max_degree"):
        T.OneHotDegree(1)(data)
    assert T.ToDevice("cpu")(data).x.device.type == "cpu"
    assert repr(T.OneHotDegree(3)) == "OneHotDegree(3)" and repr(T.Constant()) == \
        "Constant(value=1.0)" and repr(T.ToDevice("cpu")) == "ToDevice(cpu)"


def test_compose_and_repr():
    t = T.Compose([T.ToUndirected(), T.NormalizeFeatures()])
    assert repr(t) == "Compose([\n  ToUndirected(),\n  NormalizeFeatures()\n])"
    data = Data(x=torch.tensor([[1.0, 3.0]]), edge_index=torch.tensor([[0], [0]]))
    assert t(data).x.tolist() == [[0.0, 1.0]]
    assert [d.x.tolist() for d in t([data, data])] == [[[0.0, 1.0]]] * 2


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=7), st.integers(1, 3))
def test_random_walk_pe(graph, steps):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    out = T.AddRandomWalkPE(steps)(data)
    A = dense_adjacency(edge_index, n, n, data.edge_weight).t()  # rows are sources
    deg = A.sum(1, keepdim=True)
    P = torch.where(deg > 0, A / deg.clamp(min=1e-12), torch.zeros_like(A))
    expected = torch.stack([torch.linalg.matrix_power(P, k).diagonal()
                            for k in range(1, steps + 1)], dim=-1)
    assert torch.allclose(out.random_walk_pe.double(), expected, atol=1e-5)


def test_laplacian_eigenvector_pe_solves_the_eigenproblem():
    ring = torch.arange(8)
    edge_index = torch.cat([torch.stack([ring, (ring + 1) % 8]),
                            torch.stack([(ring + 1) % 8, ring])], dim=1)
    data = Data(edge_index=edge_index, num_nodes=8)
    out = T.AddLaplacianEigenvectorPE(3, is_undirected=True)(data)
    pe = out.laplacian_eigenvector_pe.double()
    A = dense_adjacency(edge_index, 8, 8)
    L = torch.eye(8, dtype=torch.float64) - A / 2  # every node has degree 2
    values = torch.linalg.eigvalsh(L)[1:4]
    assert torch.allclose(L @ pe, pe * values, atol=1e-5)
    assert torch.allclose(pe.norm(dim=0), torch.ones(3, dtype=torch.float64), atol=1e-5)
    with pytest.raises(ValueError, match="'k'"):
        T.AddLaplacianEigenvectorPE(8)(data)


@pytest.mark.parametrize("split", ["train_rest", "test_rest", "random"])
def test_random_node_split_partitions(split):
    torch.manual_seed(0)
    y = torch.arange(30) % 3
    data = T.RandomNodeSplit(split, num_train_per_class=2, num_val=5, num_test=0.2)(
        Data(x=torch.ones(30, 1), y=y))
    masks = torch.stack([data.train_mask, data.val_mask, data.test_mask])
    assert int(masks.sum(0).max()) <= 1 and data.val_mask.sum() == 5
    if split == "train_rest":
        assert bool(masks.sum(0).eq(1).all()) and data.test_mask.sum() == 6
    else:
        assert [int(data.train_mask[y == c].sum()) for c in range(3)] == [2, 2, 2]
        assert data.test_mask.sum() == (30 - 11 if split == "test_rest" else 6)
    two = T.RandomNodeSplit(num_splits=2, num_val=5, num_test=5)(Data(x=torch.ones(30, 1)))
    assert two.train_mask.shape == (30, 2)
    with pytest.raises(ValueError, match="split"):
        T.RandomNodeSplit("nope")


@pytest.mark.parametrize("undirected", [False, True])
def test_random_link_split_no_leakage(undirected):
    torch.manual_seed(0)
    n = 40
    pairs = torch.combinations(torch.arange(n), 2)
    pairs = pairs[torch.randperm(pairs.size(0))[:120]].t()
    edge_index = torch.cat([pairs, pairs.flip(0)], 1) if undirected else pairs
    data = Data(x=torch.ones(n, 1), edge_index=edge_index)
    train, val, test = T.RandomLinkSplit(0.1, 0.2, is_undirected=undirected)(data)
    everything = {tuple(p) for p in edge_index.t().tolist()}

    def positives(d):
        idx = d.edge_label_index[:, d.edge_label == 1]
        return {tuple(p) for p in idx.t().tolist()}

    def negatives(d):
        return [tuple(p) for p in d.edge_label_index[:, d.edge_label == 0].t().tolist()]

    assert len(positives(val)) == int(0.1 * 120) and len(positives(test)) == int(0.2 * 120)
    assert not positives(val) & positives(test) and not positives(train) & positives(test)
    msg = {tuple(p) for p in train.edge_index.t().tolist()}
    assert msg == {tuple(p) for p in val.edge_index.t().tolist()}
    assert not msg & positives(val) and not msg & positives(test)
    assert {tuple(p) for p in test.edge_index.t().tolist()} >= positives(val)
    for d in (train, val, test):
        neg = negatives(d)
        assert len(neg) == len(positives(d)) and not set(neg) & everything
    if undirected:
        assert msg == {(v, u) for u, v in msg}
    split = T.RandomLinkSplit(0.1, 0.2, is_undirected=undirected, split_labels=True)(data)[1]
    assert split.pos_edge_label_index.size(1) == split.neg_edge_label_index.size(1) == 12


def test_random_link_split_hetero():
    torch.manual_seed(0)
    h = HeteroData()
    h["u"].x = torch.ones(10, 1)
    h["i"].x = torch.ones(12, 1)
    ei = torch.stack([torch.arange(30) % 10, torch.arange(30) % 12])
    h["u", "rates", "i"].edge_index = ei
    h["i", "rev_rates", "u"].edge_index = ei.flip(0)
    train, val, test = T.RandomLinkSplit(0.2, 0.2, edge_types=("u", "rates", "i"),
                                         rev_edge_types=("i", "rev_rates", "u"))(h)
    assert train["u", "rates", "i"].edge_index.size(1) == 18
    assert torch.equal(train["i", "rev_rates", "u"].edge_index,
                       train["u", "rates", "i"].edge_index.flip(0))
    assert test["u", "rates", "i"].edge_label_index.size(1) == 12
    with pytest.raises(ValueError, match="edge_types"):
        T.RandomLinkSplit()(h)


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.integers(0, 3))
def test_to_dense_pads_and_sums(graph, extra):
    edge_index, n, _ = graph
    data = _graph(edge_index, n)
    data.edge_attr = data.edge_weight
    out = T.ToDense(n + extra)(data)
    expected = dense_adjacency(edge_index, n, n, data.edge_weight).t().float()
    assert torch.allclose(out.adj[:n, :n], expected, atol=1e-6)
    assert out.adj[n:].abs().sum() == 0 and out.adj[:, n:].abs().sum() == 0
    assert torch.equal(out.x[:n], data.x) and out.x[n:].abs().sum() == 0
    assert out.mask.tolist() == [True] * n + [False] * extra
    assert "edge_index" not in out and "edge_attr" not in out
    with pytest.raises(ValueError, match="num_nodes"):
        T.ToDense(n - 1)(data) if n > 1 else T.ToDense(0)(data)


def test_duplicates_isolated_remaining_loops():
    data = Data(x=torch.arange(5.).view(-1, 1),
                edge_index=torch.tensor([[0, 0, 1, 2], [1, 1, 0, 2]]),
                edge_weight=torch.tensor([1.0, 2.0, 3.0, 4.0]))
    dedup = T.RemoveDuplicatedEdges()(data)
    assert dedup.edge_index.tolist() == [[0, 1, 2], [1, 0, 2]]
    assert dedup.edge_weight.tolist() == [3.0, 3.0, 4.0]
    kept = T.RemoveIsolatedNodes()(data)  # nodes 3 and 4 touch no edge
    assert kept.x.view(-1).tolist() == [0.0, 1.0, 2.0] and torch.equal(kept.edge_index,
                                                                     data.edge_index)
    loops = T.AddRemainingSelfLoops()(data)
    assert loops.edge_index.tolist() == [[0, 0, 1, 0, 1, 2, 3, 4], [1, 1, 0, 0, 1, 2, 3, 4]]
    assert loops.edge_weight.tolist() == [1.0, 2.0, 3.0, 1.0, 1.0, 4.0, 1.0, 1.0]


def test_dense_data_loader_stacks():
    from gfx.loader import DataListLoader, DenseDataLoader
    graphs = [T.ToDense(4)(Data(x=torch.ones(n, 2), edge_index=torch.tensor([[0], [1]]),
                                y=torch.tensor([n]))) for n in (2, 3)]
    batch = next(iter(DenseDataLoader(graphs, batch_size=2)))
    assert batch.x.shape == (2, 4, 2) and batch.adj.shape == (2, 4, 4)
    assert batch.mask.sum(1).tolist() == [2, 3] and batch.y.tolist() == [[2], [3]]
    with pytest.raises(ValueError, match="ToDense"):
        next(iter(DenseDataLoader([Data(x=torch.ones(2, 1)), Data(x=torch.ones(3, 1))],
                                  batch_size=2)))
    assert next(iter(DataListLoader(graphs, batch_size=2))) == graphs


@settings(max_examples=10, deadline=None)
@given(edge_lists())
def test_degree_features_from_definitions(graph):
    edge_index, n, _ = graph
    data = Data(x=torch.zeros(n, 1), edge_index=edge_index)
    pairs = edge_index.t().tolist()
    indeg = [sum(1 for _, v in pairs if v == w) for w in range(n)]
    out = T.TargetIndegree(cat=False)(data)
    top = max(indeg) if pairs else 1
    assert out.edge_attr.view(-1).tolist() == pytest.approx([indeg[v] / top for _, v in pairs])
    outdeg = [sum(1 for u, _ in pairs if u == w) for w in range(n)]
    profile = T.LocalDegreeProfile()(data).x[:, 1:]
    for v in range(n):
        nb = torch.tensor([float(outdeg[w]) for u, w in pairs if u == v])
        want = [outdeg[v]] + ([nb.min(), nb.max(), nb.mean(), nb.std(unbiased=False)]
                              if nb.numel() else [0.0] * 4)
        assert profile[v].tolist() == pytest.approx([float(w) for w in want], abs=1e-5)


def test_largest_connected_components():
    data = Data(x=torch.arange(6.).view(-1, 1),
                edge_index=torch.tensor([[0, 1, 1, 3, 5], [1, 0, 2, 4, 3]]))
    out = T.LargestConnectedComponents()(data)
    assert out.x.view(-1).tolist() == [0.0, 1.0, 2.0] and out.edge_index.size(1) == 3
    both = T.LargestConnectedComponents(2)(data)
    assert both.x.view(-1).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    strong = T.LargestConnectedComponents(connection="strong")(data)
    assert strong.x.view(-1).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="connection"):
        T.LargestConnectedComponents(connection="medium")


def test_virtual_node():
    data = Data(x=torch.tensor([[1.0], [2.0], [3.0]]),
                edge_index=torch.tensor([[0, 1], [1, 2]]), edge_weight=torch.tensor([0.5, 0.7]), edge_attr=torch.tensor([[5.0], [6.0]]))
    out = T.VirtualNode()(data)
    assert out.edge_index.tolist() == [[0, 1, 0, 1, 2, 3, 3, 3], [1, 2, 3, 3, 3, 0, 1, 2]]
    assert out.edge_type.tolist() == [0, 0, 1, 1, 1, 2, 2, 2]
    assert out.edge_weight.tolist() == pytest.approx([0.5, 0.7] + [1.0] * 6)
    assert out.edge_attr.view(-1).tolist() == [5.0, 6.0] + [0.0] * 6
    assert out.x.view(-1).tolist() == [1.0, 2.0, 3.0, 0.0] and data.x.size(0) == 3
