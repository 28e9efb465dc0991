"""subgraph / bipartite_subgraph / k_hop_subgraph against set computations on edge lists."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.utils import bipartite_subgraph, index_to_mask, k_hop_subgraph, mask_to_index, subgraph
from tests.graphs import edge_lists


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data(), st.booleans(), st.booleans())
def test_subgraph_matches_edge_filter(graph, data, relabel, as_mask):
    edge_index, n, _ = graph
    chosen = data.draw(st.lists(st.integers(0, n - 1), unique=True))
    attr = torch.randn(edge_index.size(1), 2)
    subset = index_to_mask(torch.tensor(chosen, dtype=torch.long), n) if as_mask else chosen
    out, out_attr, emask = subgraph(subset, edge_index, attr, relabel_nodes=relabel,
                                    num_nodes=n, return_edge_mask=True)
    order = sorted(chosen) if as_mask else chosen
    new_id = {v: k for k, v in enumerate(order)}
    kept = [e for e, (u, v) in enumerate(edge_index.t().tolist())
            if u in new_id and v in new_id]
    pairs = [tuple(edge_index[:, e].tolist()) for e in kept]
    if relabel:
        pairs = [(new_id[u], new_id[v]) for u, v in pairs]
    assert [tuple(p) for p in out.t().tolist()] == pairs
    assert torch.equal(out_attr, attr[kept])
    assert emask.tolist() == [e in kept for e in range(edge_index.size(1))]


@settings(max_examples=10, deadline=None)
@given(edge_lists(bipartite=True), st.data())
def test_bipartite_subgraph(graph, data):
    edge_index, ns, nd = graph
    src = data.draw(st.lists(st.integers(0, ns - 1), unique=True))
    dst = data.draw(st.lists(st.integers(0, nd - 1), unique=True))
    out, _ = bipartite_subgraph((torch.tensor(src, dtype=torch.long),
                                 torch.tensor(dst, dtype=torch.long)), edge_index,
                                relabel_nodes=True, size=(ns, nd))
    expected = [(src.index(u), dst.index(v)) for u, v in edge_index.t().tolist()
                if u in src and v in dst]
    assert [tuple(p) for p in out.t().tolist()] == expected


def _reach(edge_index, seeds, hops, flow):
    reached, frontier = set(seeds), set(seeds)
    for _ in range(hops):
        nxt = set()
        for u, v in edge_index.t().tolist():
            a, b = (v, u) if flow == "source_to_target" else (u, v)
            if a in frontier:
                nxt.add(b)
        reached |= nxt
        frontier = nxt
    return reached


@settings(max_examples=10, deadline=None)
@given(edge_lists(), st.data(), st.integers(0, 3),
       st.sampled_from(["source_to_target", "target_to_source"]))
def test_k_hop_subgraph_breadth_first(graph, data, hops, flow):
    edge_index, n, _ = graph
    seeds = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    subset, out, mapping, emask = k_hop_subgraph(seeds, hops, edge_index, relabel_nodes=True,
                                                 num_nodes=n, flow=flow)
    reached = sorted(_reach(edge_index, seeds, hops, flow))
    assert subset.tolist() == reached
    assert [reached[i] for i in mapping.tolist()] == seeds
    kept = [e for e, (u, v) in enumerate(edge_index.t().tolist())
            if u in reached and v in reached]
    assert emask.nonzero().view(-1).tolist() == kept
    assert [tuple(p) for p in out.t().tolist()] == [
        (reached.index(int(edge_index[0, e])), reached.index(int(edge_index[1, e])))
        for e in kept]


def test_subgraph_and_mask_errors():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="subset"):
        subgraph(torch.tensor([True, False]), ei, num_nodes=3)
    with pytest.raises(TypeError, match="subset"):
        subgraph(torch.tensor([0.5]), ei)
    with pytest.raises(ValueError, match="flow"):
        k_hop_subgraph(0, 1, ei, flow="up")
    with pytest.raises(ValueError, match="size"):
        index_to_mask(torch.tensor([3]), size=2)
    with pytest.raises(TypeError, match="mask"):
        mask_to_index(torch.tensor([1, 0]))
    assert mask_to_index(torch.tensor([False, True, True])).tolist() == [1, 2]
