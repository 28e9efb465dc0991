"""gfx.data against torch_geometric.data, called as a black box: the same graphs through
both containers, reference graphs through gfx's loader, gfx graphs through reference
transforms."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

pyg_data = pytest.importorskip("torch_geometric.data")
pyg_loader = pytest.importorskip("torch_geometric.loader")
T = pytest.importorskip("torch_geometric.transforms")

from gfx.data import Batch, Data, DataLoader, HeteroData  # noqa: E402
from tests.graphs import edge_lists  # noqa: E402


def _pair(edge_index, n):
    g = torch.Generator().manual_seed(n + edge_index.size(1))
    attrs = dict(x=torch.rand(n, 3, generator=g), edge_index=edge_index,
                 edge_attr=torch.randint(0, 5, (edge_index.size(1), 2), generator=g).float(),
                 y=torch.arange(n))
    return Data(**attrs), pyg_data.Data(**attrs)


def _same_graph(ours, theirs):
    keys = sorted(theirs.keys()) if callable(theirs.keys) else sorted(theirs.keys)
    assert sorted(ours.keys()) == keys, (ours, theirs)
    for key in keys:
        a, b = ours[key], theirs[key]
        if isinstance(b, torch.Tensor):
            if b.layout != torch.strided:
                a, b = a.to_dense(), b.to_dense()
            assert a.dtype == b.dtype and a.shape == b.shape, key
            assert torch.allclose(a.double(), b.double(), atol=1e-6, equal_nan=True), key
        else:
            assert a == b, key


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data())
def test_graph_methods(graph, draw):
    ei, n, _ = graph
    ours, theirs = _pair(ei, n)
    for name in ("is_undirected", "has_isolated_nodes", "has_self_loops", "is_coalesced"):
        assert getattr(ours, name)() == getattr(theirs, name)(), name
    assert ours.size() == theirs.size()
    subset = torch.tensor(draw.draw(st.lists(st.integers(0, n - 1), unique=True)),
                          dtype=torch.long)
    _same_graph(ours.subgraph(subset), theirs.subgraph(subset))
    mask = torch.zeros(n, dtype=torch.bool)
    mask[subset] = True
    _same_graph(ours.subgraph(mask), theirs.subgraph(mask))
    edges = torch.tensor(draw.draw(st.lists(st.integers(0, max(ei.size(1) - 1, 0)),
                                            unique=True)) if ei.size(1) else [],
                         dtype=torch.long)
    _same_graph(ours.edge_subgraph(edges), theirs.edge_subgraph(edges))
    _same_graph(ours.clone().coalesce(), theirs.clone().coalesce())
    assert [k for k, _ in ours("y", "x")] == [k for k, _ in theirs("y", "x")]


def test_to_homogeneous():
    attrs = {"a": torch.randn(3, 2), "b": torch.randn(2, 2)}
    ours, theirs = HeteroData(), pyg_data.HeteroData()
    for h in (ours, theirs):
        for t, x in attrs.items():
            h[t].x = x
        h["a", "r", "b"].edge_index = torch.tensor([[0, 2], [1, 0]])
        h["b", "s", "a"].edge_index = torch.tensor([[1], [2]])
    assert ours.metadata() == theirs.metadata()
    _same_graph(ours.to_homogeneous(), theirs.to_homogeneous())


@settings(max_examples=10, deadline=None)
@given(st.lists(edge_lists(max_nodes=5, max_edges=6), min_size=1, max_size=4),
       st.integers(1, 3))
def test_loader_collates_reference_graphs(graphs, batch_size):
    theirs = [_pair(ei, n)[1] for ei, n, _ in graphs]
    for ours_batch, ref_batch in zip(DataLoader(theirs, batch_size=batch_size),
                                     pyg_loader.DataLoader(theirs, batch_size=batch_size)):
        _same_graph(ours_batch, ref_batch)
        assert ours_batch.num_graphs == ref_batch.num_graphs
    ours_list = [_pair(ei, n)[0] for ei, n, _ in graphs]
    _same_graph(Batch.from_data_list(ours_list), pyg_data.Batch.from_data_list(theirs))


TRANSFORMS = [
    lambda: T.NormalizeFeatures(), lambda: T.ToUndirected(), lambda: T.AddSelfLoops(),
    lambda: T.RemoveSelfLoops(), lambda: T.GCNNorm(), lambda: T.Constant(),
    lambda: T.OneHotDegree(20), lambda: T.AddRandomWalkPE(3),
    lambda: T.Compose([T.ToUndirected(), T.NormalizeFeatures()]),
]


@pytest.mark.parametrize("make", TRANSFORMS)
@settings(max_examples=5, deadline=None)
@given(graph=edge_lists(max_nodes=6))
def test_reference_transforms_take_gfx_graphs(make, graph):
    ei, n, _ = graph
    ours, theirs = _pair(ei, n)
    out = make()(ours)
    assert isinstance(out, Data)
    _same_graph(out, make()(theirs))


def test_reference_random_node_split_takes_gfx_graph():
    ours, theirs = _pair(torch.tensor([[0, 1], [1, 2]]), 10)
    torch.manual_seed(0)
    a = T.RandomNodeSplit(num_val=2, num_test=3)(ours)
    torch.manual_seed(0)
    _same_graph(a, T.RandomNodeSplit(num_val=2, num_test=3)(theirs))


@pytest.mark.parametrize("use_node_attr,use_edge_attr", [(False, False), (True, True)])
def test_tu_dataset_matches_reference(tmp_path, use_node_attr, use_edge_attr):
    from gfx.data import TUDataset
    from tests.data.test_on_disk import write_tu
    pyg_datasets = pytest.importorskip("torch_geometric.datasets")
    write_tu(str(tmp_path / "ours"), "TOY")
    write_tu(str(tmp_path / "theirs"), "TOY")
    ours = TUDataset(str(tmp_path / "ours"), "TOY", use_node_attr=use_node_attr,
                     use_edge_attr=use_edge_attr)
    theirs = pyg_datasets.TUDataset(str(tmp_path / "theirs"), "TOY", use_node_attr=use_node_attr,
                                    use_edge_attr=use_edge_attr)
    assert len(ours) == len(theirs)
    assert ours.num_node_attributes == theirs.num_node_attributes
    for i in range(len(ours)):
        _same_graph(ours[i], theirs[i])
    assert len(ours[:0.5]) == len(theirs[:0.5])


def _weighted_pair(edge_index, n):
    ours, theirs = _pair(edge_index, n)
    w = torch.rand(edge_index.size(1), generator=torch.Generator().manual_seed(n)) + 0.5
    ours.edge_weight = w
    theirs.edge_weight = w
    return ours, theirs


def _gfx_transforms():
    import gfx.transforms as G
    return G


PAIRED = [
    ("NormalizeFeatures", (), {}), ("ToUndirected", (), {}),
    ("ToUndirected", (), {"reduce": "mean"}), ("AddSelfLoops", (), {}),
    ("AddSelfLoops", (), {"fill_value": 2.0}), ("RemoveSelfLoops", (), {}),
    ("GCNNorm", (), {}), ("GCNNorm", (), {"add_self_loops": False}),
    ("Constant", (), {"value": 0.5}), ("Constant", (), {"cat": False}),
    ("OneHotDegree", (20,), {}), ("OneHotDegree", (20,), {"in_degree": True}),
    ("ToDevice", ("cpu",), {}),
]


@settings(max_examples=10, deadline=None)
@given(graph=edge_lists(max_nodes=6))
def test_random_walk_pe_matches_reference_without_weights_or_duplicates(graph):
    """Where the definitions agree (see AddRandomWalkPE's docstring for the rest)."""
    from gfx.utils import coalesce
    ei, n, _ = graph
    ei = coalesce(ei, num_nodes=n)
    G = _gfx_transforms()
    for args, kwargs in (((3,), {}), ((2,), {"attr_name": None})):
        ours, theirs = _pair(ei, n)
        assert repr(G.AddRandomWalkPE(*args, **kwargs)) == repr(T.AddRandomWalkPE(*args))
        _same_graph(G.AddRandomWalkPE(*args, **kwargs)(ours),
                    T.AddRandomWalkPE(*args, **kwargs)(theirs))


@pytest.mark.parametrize("name,args,kwargs", PAIRED)
@settings(max_examples=5, deadline=None)
@given(graph=edge_lists(max_nodes=6))
def test_transforms_match_reference(name, args, kwargs, graph):
    ei, n, _ = graph
    ours, theirs = _weighted_pair(ei, n)
    mine = getattr(_gfx_transforms(), name)(*args, **kwargs)
    ref = getattr(T, name)(*args, **kwargs)
    assert repr(mine) == repr(ref)
    _same_graph(mine(ours), ref(theirs))


@settings(max_examples=5, deadline=None)
@given(graph=edge_lists(max_nodes=6))
def test_to_sparse_tensor_matches_reference(graph):
    """On duplicate-free graphs: the reference's sort is not stable, so the order of the
    attributes of duplicate edges is not defined there (gfx keeps input order)."""
    from gfx.utils import coalesce
    ei, n, _ = graph
    ei = coalesce(ei, num_nodes=n)[:, torch.randperm(coalesce(ei, num_nodes=n).size(1))]
    G = _gfx_transforms()
    for kwargs in ({}, {"attr": "edge_attr"}, {"layout": torch.sparse_coo}):
        ours, theirs = _weighted_pair(ei, n)
        assert repr(G.ToSparseTensor(**kwargs)) == repr(T.ToSparseTensor(**kwargs))
        a, b = G.ToSparseTensor(**kwargs)(ours), T.ToSparseTensor(**kwargs)(theirs)
        assert a.adj_t.layout == b.adj_t.layout
        _same_graph(a, b)


@pytest.mark.parametrize("split", ["train_rest", "test_rest", "random"])
def test_random_node_split_same_seed_same_masks(split):
    G = _gfx_transforms()
    ours, theirs = _pair(torch.zeros(2, 0, dtype=torch.long), 40)
    ours.y = theirs.y = torch.arange(40) % 4
    for num_splits in (1, 3):
        torch.manual_seed(1)
        a = G.RandomNodeSplit(split, num_splits, 3, 5, 0.25)(ours)
        torch.manual_seed(1)
        b = T.RandomNodeSplit(split, num_splits, 3, 5, 0.25)(theirs)
        assert repr(G.RandomNodeSplit(split)) == repr(T.RandomNodeSplit(split))
        _same_graph(a, b)


def test_compose_and_link_split_shapes():
    G = _gfx_transforms()
    assert repr(G.Compose([G.ToUndirected(), G.NormalizeFeatures()])) == repr(
        T.Compose([T.ToUndirected(), T.NormalizeFeatures()]))
    assert repr(G.RandomLinkSplit()) == repr(T.RandomLinkSplit())
    n = 30
    pairs = torch.combinations(torch.arange(n), 2)[::7].t()
    ei = torch.cat([pairs, pairs.flip(0)], 1)
    ours, theirs = _pair(ei, n)
    for kwargs in ({}, {"is_undirected": True}, {"split_labels": True},
                   {"disjoint_train_ratio": 0.3}, {"add_negative_train_samples": False}):
        for a, b in zip(G.RandomLinkSplit(**kwargs)(ours), T.RandomLinkSplit(**kwargs)(theirs)):
            assert sorted(a.keys()) == sorted(b.keys()), kwargs
            for key in a.keys():
                assert a[key].shape == b[key].shape, (kwargs, key)


def test_neighbor_loader_full_fanout_matches_reference():
    """With every neighbour taken the sample is deterministic: same nodes and edges."""
    from gfx.loader import NeighborLoader
    torch.manual_seed(0)
    n = 30
    ei = torch.randint(0, n, (2, 90))
    ours, theirs = _pair(ei, n)
    try:
        ref = next(iter(pyg_loader.NeighborLoader(theirs, [-1, -1], batch_size=4)))
    except ImportError as error:
        pytest.skip(f"the reference NeighborLoader needs an extension: {error}")
    mine = next(iter(NeighborLoader(ours, [-1, -1], batch_size=4)))
    assert mine.batch_size == ref.batch_size
    assert torch.equal(mine.n_id[:4], ref.n_id[:4])
    assert set(mine.n_id.tolist()) == set(ref.n_id.tolist())
    assert sorted(mine.e_id.tolist()) == sorted(ref.e_id.tolist())


def test_graph_containers_from_reference_feed_gfx_loaders():
    """A reference Data goes straight into gfx's NeighborLoader and ClusterData."""
    from gfx.loader import ClusterData, NeighborLoader
    _, theirs = _pair(torch.randint(0, 20, (2, 60)), 20)
    batch = next(iter(NeighborLoader(theirs, [2], batch_size=5)))
    assert batch.batch_size == 5 and isinstance(batch, Data)
    assert len(ClusterData(theirs, 3)) == 3


def _hetero_pair():
    g = torch.Generator().manual_seed(0)
    ours, theirs = HeteroData(), pyg_data.HeteroData()
    x_a, x_b = torch.randn(5, 2, generator=g), torch.randn(4, 3, generator=g)
    e_ab = torch.tensor([[0, 1, 4, 2, 3], [1, 3, 0, 2, 2]])
    e_aa = torch.tensor([[0, 1, 2], [1, 2, 4]])
    w = torch.randn(5, generator=g)
    for h in (ours, theirs):
        h["a"].x, h["b"].x = x_a, x_b
        h["a", "r", "b"].edge_index = e_ab
        h["a", "r", "b"].edge_weight = w
        h["a", "s", "a"].edge_index = e_aa
    return ours, theirs


def _same_hetero(ours, theirs):
    assert ours.metadata() == tuple(theirs.metadata()) or \
        (list(ours.node_types), list(ours.edge_types)) == (list(theirs.node_types),
                                                           list(theirs.edge_types))
    for key in (*theirs.node_types, *theirs.edge_types):
        _same_graph(ours[key], theirs[key])


def test_hetero_subgraphs_match_reference():
    ours, theirs = _hetero_pair()
    for subset in ({"a": torch.tensor([4, 0, 2])},
                   {"a": torch.tensor([True, False, True, True, False]),
                    "b": torch.tensor([2, 0])}):
        _same_hetero(ours.subgraph(subset), theirs.subgraph(subset))
    _same_hetero(ours.node_type_subgraph(["a"]), theirs.node_type_subgraph(["a"]))
    _same_hetero(ours.edge_type_subgraph([("a", "r", "b")]),
                 theirs.edge_type_subgraph([("a", "r", "b")]))


def test_hetero_round_trip_through_reference_transforms():
    """gfx HeteroData -> reference (to_dict) -> reference transform -> gfx (duck typing)
    equals gfx's own transform."""
    from gfx.data.interop import from_foreign
    G = _gfx_transforms()
    ours, _ = _hetero_pair()
    theirs = pyg_data.HeteroData(ours.to_dict())
    back = from_foreign(T.ToUndirected()(theirs))
    _same_hetero(back, G.ToUndirected()(ours))
    assert ("b", "rev_r", "a") in back.edge_types
    homogeneous = ours.to_homogeneous(node_attrs=[])  # x widths differ across types
    flat = pyg_data.Data.from_dict(homogeneous.to_dict())
    _same_graph(from_foreign(T.AddSelfLoops()(flat)), G.AddSelfLoops()(homogeneous))


CLEANUP = [("ToDense", (), {}), ("ToDense", (9,), {}), ("AddRemainingSelfLoops", (), {}),
           ("RemoveDuplicatedEdges", (), {}), ("RemoveIsolatedNodes", (), {})]


@pytest.mark.parametrize("name,args,kwargs", CLEANUP)
@settings(max_examples=5, deadline=None)
@given(graph=edge_lists(max_nodes=6))
def test_cleanup_transforms_match_reference(name, args, kwargs, graph):
    ei, n, _ = graph
    ours, theirs = _weighted_pair(ei, n)
    if name == "ToDense":  # one edge feature column becomes the adjacency's values
        ours.edge_attr = theirs.edge_attr = ours.edge_attr[:, 0]
    mine = getattr(_gfx_transforms(), name)(*args, **kwargs)
    ref = getattr(T, name)(*args, **kwargs)
    assert repr(mine) == repr(ref)
    _same_graph(mine(ours), ref(theirs))


def test_dense_and_list_loaders_match_reference():
    from gfx.loader import DataListLoader, DenseDataLoader
    G = _gfx_transforms()
    graphs = [_pair(torch.tensor([[0, 1], [1, 2]]), n) for n in (3, 4, 5)]
    ours = [G.ToDense(6)(g) for g, _ in graphs]
    theirs = [T.ToDense(6)(g) for _, g in graphs]
    a = next(iter(DenseDataLoader(ours, batch_size=3)))
    b = next(iter(pyg_loader.DenseDataLoader(theirs, batch_size=3)))
    for key in b.keys():
        assert torch.equal(a[key], b[key]), key
    lists = next(iter(DataListLoader([g for g, _ in graphs], batch_size=2)))
    assert isinstance(lists, list) and len(lists) == 2 and lists[1] is graphs[1][0]


STRUCTURE = [("TargetIndegree", (), {}), ("TargetIndegree", (), {"norm": False, "cat": False}),
             ("TargetIndegree", (), {"max_value": 10.0}), ("LocalDegreeProfile", (), {}),
             ("LargestConnectedComponents", (), {}),
             ("LargestConnectedComponents", (2, "strong"), {}), ("VirtualNode", (), {})]


@pytest.mark.parametrize("name,args,kwargs", STRUCTURE)
@settings(max_examples=8, deadline=None)
@given(graph=edge_lists(max_nodes=7, max_edges=10))
def test_structure_transforms_match_reference(name, args, kwargs, graph):
    ei, n, _ = graph
    ours, theirs = _weighted_pair(ei, n)
    mine = getattr(_gfx_transforms(), name)(*args, **kwargs)
    ref = getattr(T, name)(*args, **kwargs)
    assert repr(mine) == repr(ref)
    a, b = mine(ours), ref(theirs)
    if name == "LargestConnectedComponents":
        import numpy as np
        import scipy.sparse.csgraph
        from gfx.utils import to_scipy_sparse_matrix
        count, label = scipy.sparse.csgraph.connected_components(
            to_scipy_sparse_matrix(ei, num_nodes=n), connection=args[1] if args else "weak")
        sizes = sorted(np.bincount(label, minlength=count), reverse=True)
        k = args[0] if args else 1
        assert a.num_nodes == b.num_nodes
        if count > k and sizes[k - 1] == sizes[k]:
            return  # equally large components at the cut: either choice is right
    _same_graph(a, b)


def test_imbalanced_sampler_weights_match_reference():
    from gfx.loader import ImbalancedSampler
    y = torch.tensor([0, 0, 0, 1, 2, 2])
    ours, theirs = Data(x=torch.ones(6, 1), y=y), pyg_data.Data(x=torch.ones(6, 1), y=y)
    for kwargs in ({}, {"input_nodes": torch.tensor([0, 3, 4, 5])}, {"num_samples": 9}):
        a, b = ImbalancedSampler(ours, **kwargs), pyg_loader.ImbalancedSampler(theirs, **kwargs)
        assert torch.allclose(a.weights, b.weights) and a.num_samples == b.num_samples
