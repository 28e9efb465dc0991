import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import LEConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import edge_lists
from tests.nn.test_lg_conv import PairInput, assert_lowers


def loop_le(conv, x_src, x_dst, edge_index, weight):
    def lin(layer, v):
        return layer.weight @ v + (0 if layer.bias is None else layer.bias)

    out = torch.stack([lin(conv.lin3, v) for v in x_dst])
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        w = 1.0 if weight is None else weight[e]
        out[i] = out[i] + w * (lin(conv.lin1, x_src[j]) - lin(conv.lin2, x_dst[i]))
    return out


@given(edge_lists(bipartite=True), st.booleans(), st.booleans())
def test_le_bipartite_matches_loop_formula(graph, weighted, bias):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = LEConv((3, 2), 4, bias=bias).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) if weighted else None
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, w),
                               loop_le(conv, x_src, x_dst, edge_index, w))


def test_le_homogeneous_sparse_and_lowers():
    torch.manual_seed(0)
    conv = LEConv(3, 2)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 3, 3]])
    w = torch.rand(5)
    torch.testing.assert_close(conv(x, ei, w),
                               loop_le(conv, x, x, ei, w).float(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(conv(x, edge_index_to_adj_t(ei, w, (4, 4))), conv(x, ei, w))
    assert_lowers(conv, x, ei)
    assert_lowers(PairInput(LEConv((3, 2), 4)), torch.randn(5, 3), torch.randn(3, 2),
                  torch.tensor([[0, 4, 2, 2], [0, 1, 1, 2]]))


def test_le_state_dict_and_errors():
    conv = LEConv((3, 2), 4)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lin1.weight": (4, 3), "lin1.bias": (4,), "lin2.weight": (4, 2),
        "lin3.weight": (4, 2), "lin3.bias": (4,)}
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="LEConv.*target.*2 features"):
        conv((torch.randn(2, 3), torch.randn(2, 3)), ei)
    with pytest.raises(ValueError, match="LEConv.*edge_weight"):
        conv((torch.randn(2, 3), torch.randn(2, 2)), ei, torch.ones(3))
