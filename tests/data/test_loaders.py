"""gfx.loader: sampled batches checked edge by edge against the full graph."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.data import Data, HeteroData
from gfx.loader import (ClusterData, ClusterLoader, DataLoader, GraphSAINTEdgeSampler,
                        GraphSAINTNodeSampler, GraphSAINTRandomWalkSampler,
                        LinkNeighborLoader, NeighborLoader)
from gfx.loader.cluster import bfs_order
from gfx.loader.neighbor_sampler import CSC
from tests.graphs import edge_lists


def _data(edge_index, n):
    return Data(x=torch.arange(n, dtype=torch.float).view(-1, 1), edge_index=edge_index,
                edge_attr=torch.arange(edge_index.size(1), dtype=torch.float),
                y=torch.arange(n))


def _check_batch(batch, data, seeds, fanout, replace=False):
    ei = data.edge_index
    n_id = batch.n_id
    assert n_id.unique().numel() == n_id.numel()
    assert torch.equal(n_id[:batch.batch_size], seeds)
    assert torch.equal(batch.x.view(-1).long(), n_id) and torch.equal(batch.y, n_id)
    assert torch.equal(n_id[batch.edge_index], ei[:, batch.e_id])  # real edges
    assert torch.equal(batch.edge_attr.long(), batch.e_id)
    assert sum(batch.num_sampled_nodes) == n_id.numel()
    assert sum(batch.num_sampled_edges) == batch.e_id.numel()
    # hop by hop: the targets of hop h are the nodes added at hop h - 1
    bounds = torch.tensor([0] + batch.num_sampled_nodes).cumsum(0)
    edge_bounds = torch.tensor([0] + batch.num_sampled_edges).cumsum(0)
    for hop, k in enumerate(fanout):
        e = slice(int(edge_bounds[hop]), int(edge_bounds[hop + 1]))
        dst = batch.edge_index[1, e]
        assert bool(((dst >= bounds[hop]) & (dst < bounds[hop + 1])).all())
        for target in range(int(bounds[hop]), int(bounds[hop + 1])):
            ids = batch.e_id[e][dst == target]
            indeg = int((ei[1] == n_id[target]).sum())
            expected = indeg if k < 0 else (min(k, indeg) if not replace else
                                            (k if indeg else 0))
            assert ids.numel() == expected
            if not replace:
                assert ids.unique().numel() == ids.numel()


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=12, max_edges=40), st.lists(st.sampled_from([-1, 0, 1, 2, 3]),
                                                         min_size=1, max_size=3),
       st.booleans(), st.integers(0, 99))
def test_neighbor_loader_batches(graph, fanout, replace, seed):
    edge_index, n, _ = graph
    data = _data(edge_index, n)
    torch.manual_seed(seed)
    loader = NeighborLoader(data, fanout, batch_size=3, replace=replace, shuffle=True)
    seen = []
    for batch in loader:
        seeds = batch.n_id[:batch.batch_size]
        seen += seeds.tolist()
        assert torch.equal(batch.input_id, seeds)  # input_nodes = all nodes
        _check_batch(batch, data, seeds, fanout, replace)
    assert sorted(seen) == list(range(n))


def test_full_fanout_equals_breadth_first_search_and_is_seeded():
    torch.manual_seed(0)
    n = 40
    edge_index = torch.randint(0, n, (2, 150))
    data = _data(edge_index, n)
    seeds = torch.tensor([3, 7])
    batch = next(iter(NeighborLoader(data, [-1, -1], input_nodes=seeds, batch_size=2)))
    reached = {3, 7}
    frontier = {3, 7}
    for _ in range(2):
        frontier = {u for u, v in edge_index.t().tolist() if v in frontier} - reached
        reached |= frontier
    assert set(batch.n_id.tolist()) == reached
    one = [b.n_id for b in NeighborLoader(data, [2, 2], batch_size=5, shuffle=True,
                                           generator=torch.Generator().manual_seed(1))]
    torch.manual_seed(5)
    first = [b.n_id for b in NeighborLoader(data, [2, 2], batch_size=5)]
    torch.manual_seed(5)
    second = [b.n_id for b in NeighborLoader(data, [2, 2], batch_size=5)]
    assert all(torch.equal(a, b) for a, b in zip(first, second)) and len(one) == 8


def test_sampling_without_replacement_is_uniform():
    edge_index = torch.tensor([[1, 2, 3, 4, 5], [0, 0, 0, 0, 0]])
    csc = CSC(edge_index, 6)
    torch.manual_seed(0)
    counts = torch.zeros(6)
    for _ in range(2000):
        source, _, _ = csc.sample(torch.tensor([0]), 2, False)
        assert source.unique().numel() == 2
        counts[source] += 1
    assert counts[0] == 0 and bool(((counts[1:] / 4000 - 0.2).abs() < 0.03).all())


def test_induced_and_bool_input_nodes():
    torch.manual_seed(0)
    n = 30
    data = _data(torch.randint(0, n, (2, 100)), n)
    mask = torch.zeros(n, dtype=torch.bool)
    mask[[1, 4, 9]] = True
    batch = next(iter(NeighborLoader(data, [2], input_nodes=mask, batch_size=3,
                                     subgraph_type="induced")))
    assert batch.n_id[:3].tolist() == [1, 4, 9]
    inside = set(batch.n_id.tolist())
    expected = [e for e, (u, v) in enumerate(data.edge_index.t().tolist())
                if u in inside and v in inside]
    assert batch.e_id.tolist() == expected
    with pytest.raises(ValueError, match="subgraph_type"):
        NeighborLoader(data, [2], subgraph_type="sideways")
    with pytest.raises(ValueError, match="time_attr"):
        NeighborLoader(data, [2], time_attr="t")
    with pytest.raises(ValueError, match="input_nodes"):
        NeighborLoader(data, [2], input_nodes=torch.tensor([n]))


def test_hetero_neighbor_loader():
    torch.manual_seed(0)
    h = HeteroData()
    h["u"].x = torch.arange(10.).view(-1, 1)
    h["i"].x = torch.arange(20.).view(-1, 1)
    e = torch.stack([torch.randint(0, 10, (60,)), torch.randint(0, 20, (60,))])
    h["u", "r", "i"].edge_index = e
    h["i", "rev", "u"].edge_index = e.flip(0)
    batch = next(iter(NeighborLoader(h, {("u", "r", "i"): [2, 2], ("i", "rev", "u"): [3, 1]},
                                     input_nodes=("u", torch.tensor([0, 5])), batch_size=2)))
    assert batch["u"].batch_size == 2 and batch["u"].n_id[:2].tolist() == [0, 5]
    for edge_type, src, dst in ((("u", "r", "i"), "u", "i"), (("i", "rev", "u"), "i", "u")):
        store = batch[edge_type]
        full = h[edge_type].edge_index
        glob = torch.stack([batch[src].n_id[store.edge_index[0]],
                            batch[dst].n_id[store.edge_index[1]]])
        assert torch.equal(glob, full[:, store.e_id])
    assert torch.equal(batch["i"].x.view(-1).long(), batch["i"].n_id)
    # hop 1 goes i -> u only (seeds are users): 3 per user at most
    assert batch["i", "rev", "u"].num_sampled_edges[0] <= 6
    assert batch["u", "r", "i"].num_sampled_edges[0] == 0


def test_link_neighbor_loader():
    torch.manual_seed(0)
    n = 30
    data = _data(torch.randint(0, n, (2, 90)), n)
    links = torch.randint(0, n, (2, 10))
    labels = torch.arange(10) % 2
    loader = LinkNeighborLoader(data, [2, 1], edge_label_index=links, edge_label=labels,
                                batch_size=4, neg_sampling_ratio=2.0)
    total = 0
    for batch in loader:
        b = batch.input_id.numel()
        assert torch.equal(batch.n_id[batch.edge_label_index[:, :b]], links[:, batch.input_id])
        assert torch.equal(batch.edge_label[:b], labels[batch.input_id] + 1)
        assert batch.edge_label[b:].tolist() == [0] * (2 * b)
        assert torch.equal(batch.n_id[batch.edge_index], data.edge_index[:, batch.e_id])
        total += b
    assert total == 10
    with pytest.raises(ValueError, match="edge_label"):
        LinkNeighborLoader(data, [1], edge_label_index=links, edge_label=labels[:3])


def test_bfs_order_and_cluster_data():
    order = bfs_order(torch.tensor([[0, 1, 5], [1, 2, 6]]), 8)
    assert order.tolist() == [0, 1, 2, 5, 6, 3, 4, 7]
    torch.manual_seed(0)
    n = 50
    data = _data(torch.randint(0, n, (2, 200)), n)
    clusters = ClusterData(data, 4)
    perm = clusters.partition.node_perm
    assert sorted(perm.tolist()) == list(range(n))
    assert clusters.partition.partptr.tolist() == [0, 12, 25, 37, 50]
    assert torch.equal(clusters.data.y, perm)
    pairs = {tuple(p) for p in data.edge_index.t().tolist()}
    for i in range(4):
        part = clusters[i]
        glob = part.y[part.edge_index]
        assert all(tuple(p) in pairs for p in glob.t().tolist())
        inside = set(part.y.tolist())
        assert part.edge_index.size(1) == sum(1 for u, v in data.edge_index.t().tolist()
                                              if u in inside and v in inside)
    batches = list(ClusterLoader(clusters, batch_size=2, shuffle=True))
    assert len(batches) == 2 and sorted(torch.cat([b.y for b in batches]).tolist()) == \
        list(range(n))
    with pytest.raises(ValueError, match="num_parts"):
        ClusterData(data, 0)


@pytest.mark.parametrize("sampler,kwargs", [(GraphSAINTNodeSampler, {}),
                                            (GraphSAINTEdgeSampler, {}),
                                            (GraphSAINTRandomWalkSampler, {"walk_length": 2})])
def test_graph_saint_batches_are_induced_subgraphs(sampler, kwargs):
    torch.manual_seed(0)
    n = 40
    data = _data(torch.randint(0, n, (2, 160)), n)
    loader = sampler(data, 8, num_steps=3, sample_coverage=4, **kwargs)
    assert len(loader) == 3
    for batch in loader:
        inside = set(batch.y.tolist())
        glob = batch.y[batch.edge_index]
        expected = [(u, v) for u, v in data.edge_index.t().tolist()
                    if u in inside and v in inside]
        assert [tuple(p) for p in glob.t().tolist()] == expected
        assert batch.node_norm.shape == (batch.num_nodes,)
        assert batch.edge_norm.shape == (batch.edge_index.size(1),)
        assert bool((batch.node_norm > 0).all())


def test_graph_saint_normalisation_formula():
    """Node norm M / (C_v N) and edge norm C_u / C_uv from the counted samples."""
    torch.manual_seed(3)
    data = _data(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]), 4)
    loader = GraphSAINTNodeSampler(data, 2, sample_coverage=3)
    torch.manual_seed(3)
    counts, edge_counts, samples = torch.zeros(4), torch.zeros(4), 0
    while samples == 0 or counts.sum() < 3 * 4:
        nodes = data.edge_index[0, torch.randint(0, 4, (2,))].unique()
        inside = set(nodes.tolist())
        counts[nodes] += 1
        for e, (u, v) in enumerate(data.edge_index.t().tolist()):
            if u in inside and v in inside:
                edge_counts[e] += 1
        samples += 1
    node_expected = samples / counts.clamp(min=0.1) / 4
    assert torch.allclose(loader.node_norm, node_expected)
    edge_expected = torch.where(edge_counts > 0,
                                counts[data.edge_index[0]] / edge_counts.clamp(min=1),
                                torch.full_like(edge_counts, 0.1))
    assert torch.allclose(loader.edge_norm, edge_expected)


def test_loader_data_loader_is_gfx_data_loader():
    import gfx.data
    assert DataLoader is gfx.data.DataLoader


def test_layerwise_inference_with_full_fanout_equals_full_batch():
    """The reference's SAGE example pattern: a loader over all nodes with fan-out [-1]
    whose graph holds only ``n_id``; layer-wise inference must equal the full graph."""
    import copy
    from gfx.nn import SAGEConv
    torch.manual_seed(0)
    n = 120
    data = Data(x=torch.randn(n, 4), edge_index=torch.randint(0, n, (2, 700)))
    loader = NeighborLoader(copy.copy(data), num_neighbors=[-1], batch_size=25)
    del loader.data.x
    loader.data.num_nodes = n
    loader.data.n_id = torch.arange(n)
    convs = [SAGEConv(4, 6), SAGEConv(6, 2)]
    x_all = data.x
    with torch.no_grad():
        for conv in convs:
            x_all = torch.cat([conv(x_all[b.n_id], b.edge_index)[:b.batch_size]
                               for b in loader])
        full = convs[1](convs[0](data.x, data.edge_index), data.edge_index)
    torch.testing.assert_close(x_all, full)


def test_random_node_loader_blocks():
    from gfx.loader import RandomNodeLoader
    torch.manual_seed(0)
    n = 23
    data = _data(torch.randint(0, n, (2, 80)), n)
    batches = list(RandomNodeLoader(data, num_parts=4, shuffle=True))
    assert len(batches) == 4 and [b.num_nodes for b in batches] == [6, 6, 6, 5]
    assert sorted(torch.cat([b.n_id for b in batches]).tolist()) == list(range(n))
    for b in batches:
        inside = set(b.n_id.tolist())
        assert torch.equal(b.y, b.n_id)
        expected = [e for e, (u, v) in enumerate(data.edge_index.t().tolist())
                    if u in inside and v in inside]
        assert b.edge_attr.long().tolist() == expected
        assert torch.equal(b.n_id[b.edge_index], data.edge_index[:, expected])
    with pytest.raises(ValueError, match="num_parts"):
        RandomNodeLoader(data, 0)


@pytest.mark.parametrize("replace", [False, True])
def test_weighted_sampling_follows_the_weights(replace):
    edge_index = torch.tensor([[1, 2, 3, 4, 5], [0, 0, 0, 0, 0]])
    weight = torch.tensor([1.0, 2.0, 3.0, 0.0, 4.0])
    csc = CSC(edge_index, 6, weight)
    torch.manual_seed(0)
    counts = torch.zeros(6)
    draws = 4000
    for _ in range(draws // 50):
        frontier = torch.zeros(50, dtype=torch.long)  # 50 independent draws of node 0
        source, owner, e_id = csc.sample(frontier, 1, replace)
        assert torch.equal(edge_index[0, e_id], source) and owner.numel() == 50
        counts += torch.bincount(source, minlength=6)
    assert counts[4] == 0  # zero weight: never
    assert bool(((counts[[1, 2, 3, 5]] / draws - weight[[0, 1, 2, 4]] / 10).abs() < 0.03).all())
    source, owner, _ = csc.sample(torch.tensor([0, 0]), 3, replace)
    assert owner.tolist() == [0, 0, 0, 1, 1, 1] and 4 not in source.tolist()
    if not replace:
        assert source[:3].unique().numel() == 3
        everything, _, _ = csc.sample(torch.tensor([0]), 10, False)
        assert sorted(everything.tolist()) == [1, 2, 3, 5]


def test_weighted_neighbor_loader():
    torch.manual_seed(0)
    n = 30
    data = _data(torch.randint(0, n, (2, 120)), n)
    data.edge_weight = (torch.arange(120) % 3).float()  # every third edge weighs 0
    batch = next(iter(NeighborLoader(data, [2, 2], batch_size=6, weight_attr="edge_weight")))
    assert bool((data.edge_weight[batch.e_id] > 0).all())
    assert torch.equal(batch.n_id[batch.edge_index], data.edge_index[:, batch.e_id])
    with pytest.raises(ValueError, match="weight_attr"):
        NeighborLoader(data, [2], weight_attr="nope")


def test_disjoint_trees_are_separate_breadth_first_searches():
    torch.manual_seed(0)
    n = 25
    edge_index = torch.randint(0, n, (2, 70))
    data = _data(edge_index, n)
    seeds = torch.tensor([4, 9, 4])  # a repeated seed still grows its own tree
    batch = next(iter(NeighborLoader(data, [-1, -1], input_nodes=seeds, batch_size=3,
                                     disjoint=True)))
    assert torch.equal(batch.n_id[:3], seeds) and batch.batch[:3].tolist() == [0, 1, 2]
    assert torch.equal(batch.n_id[batch.edge_index], edge_index[:, batch.e_id])
    assert bool((batch.batch[batch.edge_index[0]] == batch.batch[batch.edge_index[1]]).all())
    for tree, seed in enumerate(seeds.tolist()):
        reached, frontier = {seed}, {seed}
        for _ in range(2):
            frontier = {u for u, v in edge_index.t().tolist() if v in frontier} - reached
            reached |= frontier
        nodes = batch.n_id[batch.batch == tree].tolist()
        assert len(nodes) == len(set(nodes)) and set(nodes) == reached
    with pytest.raises(ValueError, match="disjoint"):
        NeighborLoader(data, [2], disjoint=True, subgraph_type="induced")


@pytest.mark.parametrize("strategy", ["uniform", "last"])
def test_temporal_sampling_never_looks_ahead(strategy):
    torch.manual_seed(0)
    n = 30
    edge_index = torch.randint(0, n, (2, 200))
    data = _data(edge_index, n)
    data.t = torch.randperm(n)  # node times
    seeds = torch.tensor([3, 11, 17, 3])
    loader = NeighborLoader(data, [3, 2], input_nodes=seeds, batch_size=4, time_attr="t",
                            temporal_strategy=strategy)
    batch = next(iter(loader))
    seed_time = data.t[seeds]
    assert bool((data.t[batch.n_id] <= seed_time[batch.batch]).all())
    assert torch.equal(batch.n_id[batch.edge_index], edge_index[:, batch.e_id])
    hop1 = batch.e_id[:batch.num_sampled_edges[0]]
    dst1 = batch.edge_index[1, :batch.num_sampled_edges[0]]
    for tree, seed in enumerate(seeds.tolist()):
        ok = [e for e, (u, v) in enumerate(edge_index.t().tolist())
              if v == seed and int(data.t[u]) <= int(seed_time[tree])]
        got = hop1[dst1 == tree].tolist()
        assert len(got) == min(3, len(ok)) and set(got) <= set(ok)
        if strategy == "last":
            latest = sorted((int(data.t[edge_index[0, e]]) for e in ok), reverse=True)[:3]
            assert sorted((int(data.t[edge_index[0, e]]) for e in got), reverse=True) == latest
    data.e_t = torch.arange(200)  # edge times
    edge_time = NeighborLoader(data, [2], input_nodes=seeds, batch_size=4, time_attr="e_t",
                               input_time=torch.tensor([50, 60, 70, 80]))
    batch = next(iter(edge_time))
    assert bool((batch.e_id <= torch.tensor([50, 60, 70, 80])[batch.batch[batch.edge_index[1]]]
                 ).all())
    with pytest.raises(ValueError, match="temporal_strategy"):
        NeighborLoader(data, [2], time_attr="t", temporal_strategy="first")
    with pytest.raises(ValueError, match="input_time"):
        NeighborLoader(data, [2], input_time=torch.zeros(n))


def test_cluster_data_keeps_inter_cluster_edges():
    torch.manual_seed(1)
    n = 20
    data = _data(torch.randint(0, n, (2, 60)), n)
    clusters = ClusterData(data, 3, keep_inter_cluster_edges=True)
    new_id = torch.empty(n, dtype=torch.long)
    new_id[clusters.partition.node_perm] = torch.arange(n)
    seen = []
    for i in range(3):
        part = clusters[i]
        start = int(clusters.partition.partptr[i])
        original = part.edge_attr.long()  # edge_attr holds the original edge ids
        glob = torch.stack([part.edge_index[0] + start, part.edge_index[1]])
        assert torch.equal(glob, new_id[data.edge_index[:, original]])
        seen += original.tolist()
    assert sorted(seen) == list(range(data.edge_index.size(1)))


def test_link_neighbor_loader_disjoint_and_temporal():
    torch.manual_seed(0)
    n = 30
    data = _data(torch.randint(0, n, (2, 150)), n)
    data.t = torch.randperm(n)
    links = torch.tensor([[1, 2, 2], [5, 5, 9]])
    times = torch.tensor([20, 25, 10])
    loader = LinkNeighborLoader(data, [3, 2], edge_label_index=links, batch_size=3,
                                time_attr="t", edge_label_time=times, neg_sampling_ratio=1.0)
    batch = next(iter(loader))
    src, dst = batch.edge_label_index
    assert torch.equal(batch.n_id[batch.edge_label_index[:, :3]], links)
    assert batch.batch[src].tolist() == batch.batch[dst].tolist() == [0, 1, 2, 3, 4, 5]
    link_time = torch.cat([times, times])  # negatives take their positive's time
    sampled = torch.arange(batch.num_nodes) >= 12  # beyond the 12 link ends
    assert bool((data.t[batch.n_id[sampled]] <= link_time[batch.batch[sampled]]).all())
    assert torch.equal(batch.n_id[batch.edge_index], data.edge_index[:, batch.e_id])
    with pytest.raises(ValueError, match="edge_label_time"):
        LinkNeighborLoader(data, [2], edge_label_index=links, time_attr="t")


def test_imbalanced_sampler_balances_classes():
    from gfx.loader import ImbalancedSampler
    y = torch.tensor([0] * 90 + [1] * 10)
    data = Data(x=torch.ones(100, 1), y=y, edge_index=torch.randint(0, 100, (2, 300)))
    sampler = ImbalancedSampler(data, num_samples=4000)
    assert torch.allclose(sampler.weights, torch.where(y == 0, 1 / 90, 1 / 10).double())
    torch.manual_seed(0)
    drawn = y[torch.tensor(list(iter(sampler)))]
    assert abs(drawn.float().mean().item() - 0.5) < 0.05
    sub = ImbalancedSampler(data, input_nodes=torch.tensor([0, 1, 95]))
    assert sub.weights.tolist() == [0.5, 0.5, 1.0] and sub.num_samples == 3
    graphs = [Data(x=torch.ones(1, 1), y=torch.tensor([c])) for c in (0, 1, 1)]
    assert ImbalancedSampler(graphs).weights.tolist() == [1.0, 0.5, 0.5]
    loader = NeighborLoader(data, [2], batch_size=10, sampler=ImbalancedSampler(data))
    assert next(iter(loader)).batch_size == 10
    with pytest.raises(ValueError, match="class ids"):
        ImbalancedSampler(torch.rand(3))
