import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import MFConv
from gfx.structure import cache_clear, cache_info
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_lg_conv import PairInput, assert_lowers


def loop_mf(conv, x_src, x_dst, edge_index, num_dst):
    """Per target: its degree picks the weights; neighbours are summed."""
    rows = []
    for i, nbrs in enumerate(neighbour_lists(edge_index, num_dst)):
        d = min(len(nbrs), conv.max_degree)
        h = sum((x_src[j] for _, j in nbrs), torch.zeros_like(x_src[0]))
        lin_l, lin_r = conv.lins_l[d], conv.lins_r[d]
        out = lin_l.weight @ h + (0 if lin_l.bias is None else lin_l.bias)
        if x_dst is not None:
            out = out + lin_r.weight @ x_dst[i]
        rows.append(out)
    return torch.stack(rows)


@given(edge_lists(bipartite=True), st.integers(0, 3), st.booleans(), st.booleans())
def test_mf_bipartite_matches_loop_formula(graph, max_degree, bias, with_root):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = MFConv((3, 2), 4, max_degree=max_degree, bias=bias).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64) if with_root else None
    out = conv((x_src, x_dst), edge_index, size=(n_src, n_dst))
    torch.testing.assert_close(out, loop_mf(conv, x_src, x_dst, edge_index, n_dst))


@given(edge_lists())
def test_mf_homogeneous_matches_loop_formula(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = MFConv(3, 2, max_degree=2).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    torch.testing.assert_close(conv(x, edge_index), loop_mf(conv, x, x, edge_index, n))


def test_mf_degree_groups_cached_and_lowers():
    cache_clear()
    conv = MFConv(3, 3, max_degree=2)
    x = torch.randn(5, 3)
    ei = torch.tensor([[0, 1, 2, 3, 4, 0, 1], [1, 2, 3, 4, 0, 4, 4]])
    conv(conv(x, ei), ei)
    assert (cache_info().misses, cache_info().hits) == (1, 1)
    low = assert_lowers(conv, x, ei)
    assert "degree_buckets" in low.code
    bip = MFConv((3, 2), 4, max_degree=2)
    ei_b = torch.tensor([[0, 1, 2, 4, 4], [0, 1, 1, 1, 2]])
    assert_lowers(PairInput(bip), torch.randn(5, 3), torch.randn(3, 2), ei_b)


def test_mf_state_dict_and_errors():
    conv = MFConv((3, 2), 4, max_degree=1, bias=False)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lins_l.0.weight": (4, 3), "lins_l.1.weight": (4, 3),
        "lins_r.0.weight": (4, 2), "lins_r.1.weight": (4, 2)}
    with pytest.raises(ValueError, match="MFConv.*max_degree"):
        MFConv(3, 2, max_degree=-1)
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="MFConv.*source.*3 features"):
        conv((torch.randn(2, 4), torch.randn(2, 2)), ei)
    with pytest.raises(ValueError, match="MFConv.*target.*2 features"):
        conv((torch.randn(2, 3), torch.randn(2, 5)), ei)
