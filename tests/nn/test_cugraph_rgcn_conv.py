import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import CuGraphRGCNConv
from tests.graphs import edge_lists


def loop_rgcn(conv, x, edge_index, edge_type, num_dst):
    """root x_i + sum_r W_r (mean or sum of x_j over relation-r neighbours) + b."""
    R = conv.num_relations
    if conv.comp is not None:
        bases = conv.weight[:conv.num_bases]
        w = torch.einsum("rb,bio->rio", conv.comp, bases)
    else:
        w = conv.weight[:R]
    out = torch.zeros(num_dst, conv.out_channels, dtype=x.dtype)
    src, dst = edge_index.tolist()
    for i in range(num_dst):
        if conv.root_weight:
            out[i] += x[i] @ conv.weight[-1]
        for r in range(R):
            nbrs = [j for e, (j, t) in enumerate(zip(src, dst))
                    if t == i and int(edge_type[e]) == r]
            if nbrs:
                agg = torch.stack([x[j] for j in nbrs]).sum(0)
                if conv.aggr == "mean":
                    agg = agg / len(nbrs)
                out[i] += agg @ w[r]
    return out + conv.bias if conv.bias is not None else out


@settings(max_examples=10, deadline=None)
@given(edge_lists(bipartite=True), st.sampled_from([None, 2]), st.sampled_from(["mean", "sum"]),
       st.booleans(), st.booleans())
def test_cugraph_rgcn_matches_loop_formula(graph, num_bases, aggr, root_weight, csc):
    edge_index, num_src, num_dst = graph
    num_src = max(num_src, num_dst)
    torch.manual_seed(0)
    conv = CuGraphRGCNConv(3, 4, 3, num_bases=num_bases, aggr=aggr,
                           root_weight=root_weight).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(num_src, 3, dtype=torch.float64)
    edge_type = torch.randint(0, 3, (edge_index.shape[1],))
    if csc or num_dst != num_src:
        graph_input, types = CuGraphRGCNConv.to_csc(edge_index, (num_src, num_dst), edge_type)
    else:
        graph_input, types = edge_index, edge_type
    expected = loop_rgcn(conv, x, edge_index, edge_type, num_dst)
    torch.testing.assert_close(conv(x, graph_input, types), expected)


def test_cugraph_rgcn_layout_and_repr():
    conv = CuGraphRGCNConv(4, 5, 3)
    assert str(conv) == "CuGraphRGCNConv(4, 5, num_relations=3)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "weight": (4, 4, 5), "bias": (5,)}
    bases = CuGraphRGCNConv(4, 5, 3, num_bases=2, root_weight=False, bias=False)
    assert {k: tuple(v.shape) for k, v in bases.state_dict().items()} == {
        "weight": (2, 4, 5), "comp": (3, 2)}


def test_cugraph_rgcn_errors():
    with pytest.raises(ValueError, match="aggr"):
        CuGraphRGCNConv(2, 2, 2, aggr="max")
    conv = CuGraphRGCNConv(2, 2, 2)
    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(IndexError, match="edge_type"):
        conv(x, ei, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="edge_type"):
        conv(x, ei, torch.tensor([0]))
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 3), ei, torch.tensor([0, 1]))
