import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import CuGraphGATConv
from tests.graphs import edge_lists
from tests.nn.test_fused_gat_conv import loop_gat


@settings(max_examples=10, deadline=None)
@given(edge_lists(bipartite=True), st.integers(1, 3), st.booleans(), st.booleans())
def test_cugraph_gat_matches_loop_formula(graph, heads, concat, csc):
    edge_index, num_src, num_dst = graph
    num_src = max(num_src, num_dst)  # targets are the first rows of x
    torch.manual_seed(0)
    conv = CuGraphGATConv(3, 2, heads=heads, concat=concat).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(num_src, 3, dtype=torch.float64)
    att_src, att_dst = conv.att.view(2, -1)
    if csc or num_dst != num_src:
        graph_input = CuGraphGATConv.to_csc(edge_index, (num_src, num_dst))
    else:
        graph_input = edge_index
    expected = loop_gat(x, edge_index, conv.lin.weight, att_src, att_dst, heads, concat,
                        conv.bias, num_dst=num_dst)
    torch.testing.assert_close(conv(x, graph_input), expected)


def test_cugraph_gat_layout_init_and_gradients():
    torch.manual_seed(0)
    conv = CuGraphGATConv(4, 3, heads=2).double()
    assert str(conv) == "CuGraphGATConv(4, 3, heads=2)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "att": (12,), "bias": (6,), "lin.weight": (6, 4)}
    assert not conv.bias.any() and conv.att.abs().sum() > 0
    assert tuple(CuGraphGATConv(4, 3, heads=2, concat=False).bias.shape) == (3,)
    x = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    ei = torch.tensor([[0, 1, 2, 3, 3], [1, 2, 0, 0, 3]])
    assert torch.autograd.gradcheck(lambda t: conv(t, ei), (x,))


def test_cugraph_gat_errors():
    conv = CuGraphGATConv(2, 2)
    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, ei, torch.randn(2, 1))
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 5), ei)
