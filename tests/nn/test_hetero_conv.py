"""HeteroConv: routing of per-type inputs and combination of per-relation outputs."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn import GCNConv, GraphConv, HeteroConv, SAGEConv
from tests.graphs import edge_lists
from tests.nn.test_glob import assert_lowered_matches_eager

AB, BA, AA = ("a", "to", "b"), ("b", "to", "a"), ("a", "self", "a")


def make_convs():
    return {AB: SAGEConv((4, 3), 5), BA: SAGEConv((3, 4), 5), AA: GraphConv(4, 5)}


def combine_by_hand(outs, aggr):
    if aggr is None:
        return torch.stack(outs, dim=1)
    if aggr == "cat":
        return torch.cat(outs, dim=-1)
    stacked = torch.stack(outs)
    return {"sum": stacked.sum(0), "mean": stacked.mean(0), "max": stacked.max(0).values,
            "min": stacked.min(0).values}[aggr]


@given(edge_lists(bipartite=True), edge_lists(bipartite=True), edge_lists(max_nodes=4),
       st.sampled_from(["sum", "mean", "min", "max", "cat", None]))
def test_hetero_conv_combines_per_destination(ab, ba, aa, aggr):
    # Node counts come from the first two graphs; the a->a graph is folded into range.
    (ei_ab, n_a, n_b), (ei_ba, _, _) = ab, ba
    ei_ba = torch.stack([ei_ba[0] % n_b, ei_ba[1] % n_a])
    ei_aa = aa[0] % n_a
    torch.manual_seed(0)
    conv = HeteroConv(make_convs(), aggr=aggr).double()
    x = {"a": torch.randn(n_a, 4, dtype=torch.float64),
         "b": torch.randn(n_b, 3, dtype=torch.float64)}
    out = conv(x, {AB: ei_ab, BA: ei_ba, AA: ei_aa})
    convs = conv.convs
    expected_b = combine_by_hand([convs[AB]((x["a"], x["b"]), ei_ab)], aggr)
    expected_a = combine_by_hand([convs[BA]((x["b"], x["a"]), ei_ba), convs[AA](x["a"], ei_aa)],
                                 aggr)
    assert list(out) == ["b", "a"]
    torch.testing.assert_close(out["b"], expected_b)
    torch.testing.assert_close(out["a"], expected_a)


def test_hetero_conv_routes_keyword_dicts_and_skips_missing_edge_types():
    torch.manual_seed(0)
    conv = HeteroConv({AA: GraphConv(4, 5), BA: GraphConv((3, 4), 5)}).double()
    x = {"a": torch.randn(5, 4, dtype=torch.float64), "b": torch.randn(4, 3, dtype=torch.float64)}
    ei = {AA: torch.tensor([[0, 1, 2], [1, 2, 3]]), BA: torch.tensor([[0, 3], [4, 4]])}
    w = {AA: torch.rand(3, dtype=torch.float64), BA: torch.rand(2, dtype=torch.float64)}
    out = conv(x, ei, edge_weight_dict=w)
    expected = conv.convs[AA](x["a"], ei[AA], w[AA]) + conv.convs[BA]((x["b"], x["a"]), ei[BA],
                                                                     w[BA])
    torch.testing.assert_close(out["a"], expected)
    only = conv(x, {BA: ei[BA]})  # the a->a layer has no edges: skipped
    torch.testing.assert_close(only["a"], conv.convs[BA]((x["b"], x["a"]), ei[BA]))
    assert conv(x, {}) == {}


def test_hetero_conv_module_names_and_tuple_keys():
    conv = HeteroConv({("a.x", "re l", "b"): SAGEConv((2, 2), 3), ("a", "_to_", "b"):
                       SAGEConv(2, 3)})
    assert list(conv.convs.keys()) == [("a.x", "re l", "b"), ("a", "_to_", "b")]
    assert ("a", "_to_", "b") in conv.convs and ("a", "to", "b") not in conv.convs
    assert {k.split(".lin")[0] for k in conv.state_dict()} == {
        "convs.<a#x___re l___b>", "convs.<a____to____b>"}
    assert repr(conv) == "HeteroConv(num_relations=2)"


def test_hetero_conv_errors():
    with pytest.raises(ValueError, match="HeteroConv: unknown aggr 'mul'"):
        HeteroConv(make_convs(), aggr="mul")
    with pytest.raises(ValueError, match="add_self_loops=True.*source and destination"):
        HeteroConv({AB: GCNConv(-1, 5)})
    with pytest.raises(ValueError, match="same module name"):
        HeteroConv({("a.b", "r", "c"): SAGEConv(2, 2), ("a#b", "r", "c"): SAGEConv(2, 2)})
    with pytest.raises(TypeError, match="edge types must be"):
        HeteroConv({"a__to__b": SAGEConv(2, 2)})
    conv = HeteroConv(make_convs())
    x = {"a": torch.randn(5, 4), "b": torch.randn(4, 3)}
    with pytest.raises(ValueError, match="keyword argument 'edge_weight' must end with '_dict'"):
        conv(x, {AA: torch.tensor([[0], [1]])}, edge_weight={})
    with pytest.raises(TypeError, match="positional argument 0 must be a dict"):
        conv(torch.randn(5, 4), {AA: torch.tensor([[0], [1]])})
    with pytest.raises(gfx.CaptureError, match="build the dicts inside forward"):
        gfx.capture(conv)  # forward's arguments would be opaque proxies, not dicts


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = HeteroConv(make_convs(), aggr="mean")

    def forward(self, x_a, x_b, edge_index_ab, edge_index_ba, edge_index_aa):
        out = self.conv({"a": x_a, "b": x_b},
                        {AB: edge_index_ab, BA: edge_index_ba, AA: edge_index_aa})
        return out["a"], out["b"]


def test_hetero_conv_lowered_equals_eager():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    ei = [torch.stack([torch.randint(0, ns, (9,), generator=g),
                       torch.randint(0, nd, (9,), generator=g)]) for ns, nd in
          ((6, 5), (5, 6), (6, 6))]
    model = Model().double()
    low = assert_lowered_matches_eager(model, torch.randn(6, 4, dtype=torch.float64),
                                       torch.randn(5, 3, dtype=torch.float64), *ei)
    assert sum(str(n.target).startswith("gfx.scatter") for n in low.graph.nodes) == 3
