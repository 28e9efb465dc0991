import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import WLConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import edge_lists, neighbour_lists


def loop_colouring(x, edge_index, table):
    """Colour i <- first-seen number of (x_i, sorted in-neighbour colours)."""
    out = []
    for i, nbrs in enumerate(neighbour_lists(edge_index, len(x))):
        key = (x[i], tuple(sorted(x[j] for _, j in nbrs)))
        out.append(table.setdefault(key, len(table)))
    return out


@settings(max_examples=10, deadline=None)
@given(edge_lists(7, 16), st.integers(0, 2**16))
def test_two_rounds_match_a_loop(graph, seed):
    edge_index, n, _ = graph
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 3, (n,), generator=g)
    conv, table = WLConv(), {}
    ours, theirs = x, x.tolist()
    for _ in range(2):
        ours, theirs = conv(ours, edge_index), loop_colouring(theirs, edge_index, table)
        assert ours.tolist() == theirs
    assert len(conv.hashmap) == len(table)


def partition(labels):
    groups = {}
    for node, label in enumerate(labels):
        groups.setdefault(label, set()).add(node)
    return sorted(sorted(s) for s in groups.values())


@pytest.mark.filterwarnings("ignore:The hashes produced")
@settings(max_examples=10, deadline=None)
@given(edge_lists(7, 12))
def test_partition_matches_networkx_wl(graph):
    edge_index, n, _ = graph
    ei = edge_index[:, edge_index[0] != edge_index[1]]
    ei = torch.unique(torch.cat([ei, ei.flip(0)], 1), dim=1)  # simple undirected graph
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(ei.t().tolist())
    hashes = nx.weisfeiler_lehman_subgraph_hashes(g, iterations=3)
    conv, x = WLConv(), torch.zeros(n, dtype=torch.long)
    for k in range(3):
        x = conv(x, ei)
        assert partition(x.tolist()) == partition([hashes[v][k] for v in range(n)])


def test_colours_persist_across_graphs_and_reset():
    conv = WLConv()
    a = conv(torch.tensor([0, 0, 0]), torch.tensor([[0, 1], [1, 2]]))
    assert a.tolist() == [0, 1, 1]
    # Same neighbourhoods in another graph get the same colours; new ones continue.
    b = conv(torch.tensor([0, 0]), torch.tensor([[1, 0], [0, 0]]))
    assert b.tolist() == [2, 0]
    conv.reset_parameters()
    assert conv.hashmap == {} and conv(torch.tensor([0]), torch.zeros(2, 0, dtype=torch.long)).tolist() == [0]


def test_one_hot_sparse_input_and_histogram():
    conv = WLConv()
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    x = torch.eye(2)[[0, 1, 1, 0]]
    out = conv(x, ei)
    assert out.tolist() == conv(torch.tensor([0, 1, 1, 0]), ei).tolist()
    assert torch.equal(conv(x, edge_index_to_adj_t(ei, size=(4, 4))), out)
    colours = conv(out, ei)
    hist = conv.histogram(colours, torch.tensor([0, 0, 1, 1]))
    expected = torch.zeros(2, len(conv.hashmap), dtype=torch.long)
    for node, graph in enumerate([0, 0, 1, 1]):
        expected[graph, colours[node]] += 1
    assert torch.equal(hist, expected)
    normed = conv.histogram(colours, torch.tensor([0, 0, 1, 1]), norm=True)
    torch.testing.assert_close(normed, expected.float() / expected.float().norm(dim=1, keepdim=True))
    assert conv.histogram(colours).tolist() == [expected.sum(0).tolist()]
    assert str(conv) == "WLConv()" and dict(conv.state_dict()) == {}


def test_wl_errors():
    conv = WLConv()
    ei = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="integer colours"):
        conv(torch.tensor([0.0, 1.0]), ei)
    with pytest.raises(ValueError, match="one-hot"):
        conv(torch.ones(2, 2), ei)
    with pytest.raises(IndexError, match="node 4"):
        conv(torch.tensor([0, 1]), torch.tensor([[0], [4]]))
    with pytest.raises(ValueError, match="colour"):
        conv.histogram(torch.tensor([3]))


def test_capture_as_a_leaf_module():
    import gfx
    from gfx.capture import CaptureError

    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.wl = WLConv()

        def forward(self, x, edge_index):
            return self.wl(self.wl(x, edge_index), edge_index)

    x, ei = torch.tensor([0, 0, 1, 0]), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    with pytest.raises(CaptureError, match="control flow"):
        gfx.capture(Twice())
    gm = gfx.capture(Twice(), leaf_modules=(WLConv,))
    assert torch.equal(gm(x, ei), Twice()(x, ei))
