import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import ChebConv
from gfx.structure import cache_clear, cache_info
from tests.graphs import dense_adjacency, edge_lists
from tests.nn.test_lg_conv import assert_lowers


def scaled_laplacian(edge_index, n, weight, normalization, lambda_max):
    """:math:`2L/\\lambda - I` of the graph without self-loops, ``A[i, j]`` = weight of j -> i.

    ``D`` holds out-degrees (the reference library's convention, NOTE [ChebConv degrees]):
    ``"rw"`` divides each message by its source's degree.
    """
    keep = edge_index[0] != edge_index[1]
    w = None if weight is None else weight[keep]
    a = dense_adjacency(edge_index[:, keep], n, n, w)
    deg = a.sum(0)
    eye = torch.eye(n, dtype=torch.float64)
    if normalization == "sym":
        dinv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
        lap = eye - dinv.view(-1, 1) * a * dinv.view(1, -1)
    elif normalization == "rw":
        dinv = torch.where(deg > 0, 1.0 / deg, torch.zeros_like(deg))
        lap = eye - a * dinv.view(1, -1)
    else:
        lap = torch.diag(deg) - a
    return 2.0 * lap / lambda_max - eye


def dense_cheb(conv, x, lap):
    z = [x, lap @ x]
    while len(z) < len(conv.lins):
        z.append(2.0 * lap @ z[-1] - z[-2])
    out = sum(zk @ lin.weight.t() for zk, lin in zip(z, conv.lins))
    return out if conv.bias is None else out + conv.bias


@given(edge_lists(), st.sampled_from(["sym", "rw", None]), st.integers(1, 4), st.booleans())
def test_cheb_matches_dense_formula(graph, normalization, K, weighted):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    conv = ChebConv(3, 2, K=K, normalization=normalization).double()
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    lam = 1.5 if normalization == "sym" else 5.0
    lap = scaled_laplacian(edge_index, n, w, normalization, lam)
    torch.testing.assert_close(conv(x, edge_index, w, lambda_max=lam), dense_cheb(conv, x, lap))
    if normalization != "sym":
        lam_t = torch.tensor(lam, dtype=torch.float64)
        torch.testing.assert_close(conv(x, edge_index, w, lambda_max=lam_t),
                                   dense_cheb(conv, x, lap))
    if normalization is not None:  # lambda_max defaults to 2
        lap2 = scaled_laplacian(edge_index, n, w, normalization, 2.0)
        torch.testing.assert_close(conv(x, edge_index, w), dense_cheb(conv, x, lap2))


def test_cheb_random_walk_divides_by_source_out_degree():
    # 0 -> 2, 0 -> 1, 1 -> 2: out-degrees 2, 1, 0; K=2, lambda_max=2: Z2[i] = -sum_j x_j / d_j.
    conv = ChebConv(1, 1, K=2, normalization="rw", bias=False).double()
    with torch.no_grad():
        conv.lins[0].weight.zero_()
        conv.lins[1].weight.fill_(1.0)
    x = torch.tensor([[2.0], [4.0], [0.0]], dtype=torch.float64)
    out = conv(x, torch.tensor([[0, 0, 1], [2, 1, 2]]))
    torch.testing.assert_close(out, torch.tensor([[0.0], [-1.0], [-5.0]], dtype=torch.float64))


def test_cheb_batched_lambda_max_equals_separate_graphs():
    torch.manual_seed(0)
    conv = ChebConv(3, 2, K=3, normalization="rw")
    x = torch.randn(7, 3)
    ei_a = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    ei_b = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    joint = conv(x, torch.cat([ei_a, ei_b + 3], 1), batch=batch,
                 lambda_max=torch.tensor([1.5, 3.0]))
    torch.testing.assert_close(joint[:3], conv(x[:3], ei_a, lambda_max=1.5))
    torch.testing.assert_close(joint[3:], conv(x[3:], ei_b, lambda_max=3.0))


def test_cheb_laplacian_is_cached_per_graph():
    cache_clear()
    conv = ChebConv(3, 3, K=3)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    x = torch.randn(3, 3)
    conv(conv(x, edge_index), edge_index)
    assert (cache_info().misses, cache_info().hits) == (1, 1)
    conv(x, edge_index, torch.rand(3))  # weighted: not cached
    assert (cache_info().misses, cache_info().hits) == (1, 1)


def test_cheb_lowers():
    x = torch.randn(5, 3)
    ei = torch.tensor([[0, 1, 2, 3, 4, 4], [1, 2, 3, 4, 0, 4]])
    low = assert_lowers(ChebConv(3, 4, K=3), x, ei)
    assert "scaled_laplacian" in low.code


def test_cheb_state_dict_and_repr():
    conv = ChebConv(3, 4, K=2)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lins.0.weight": (4, 3), "lins.1.weight": (4, 3), "bias": (4,)}
    assert repr(conv) == "ChebConv(3, 4, K=2, normalization=sym)"
    lazy = ChebConv(-1, 4, K=2)
    assert lazy(torch.randn(3, 5), torch.tensor([[0], [1]])).shape == (3, 4)


def test_cheb_errors():
    with pytest.raises(ValueError, match="ChebConv.*'K'"):
        ChebConv(3, 2, K=0)
    with pytest.raises(ValueError, match="ChebConv.*normalization"):
        ChebConv(3, 2, K=2, normalization="lap")
    conv = ChebConv(3, 2, K=2)
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="ChebConv.*'x'.*in_channels=3"):
        conv(torch.randn(3, 4), ei)
    with pytest.raises(ValueError, match="ChebConv.*edge_weight"):
        conv(torch.randn(3, 3), ei, torch.ones(3))
    with pytest.raises(ValueError, match="ChebConv.*lambda_max.*batch"):
        conv(torch.randn(3, 3), ei, lambda_max=torch.tensor([2.0, 3.0]))
    with pytest.raises(ValueError, match="ChebConv.*batch"):
        conv(torch.randn(3, 3), ei, batch=torch.zeros(2, dtype=torch.long),
             lambda_max=torch.tensor([2.0]))
    with pytest.raises(ValueError, match="ChebConv.*lambda_max"):
        ChebConv(3, 2, K=2, normalization=None)(torch.randn(3, 3), ei)
    with pytest.raises(ValueError, match="ChebConv.*bipartite"):
        conv((torch.randn(3, 3), torch.randn(2, 3)), ei)
