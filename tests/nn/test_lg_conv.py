"""LGConv, plus the dense references and the lowering check shared by the tests of the
propagation layers (SGConv, SSGConv, APPNP, TAGConv, ARMAConv, GCN2Conv, ...)."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn import LGConv
from gfx.utils import edge_index_to_adj_t
from tests.graphs import dense_adjacency, edge_lists


def normalized_adjacency(edge_index, n, weight=None, self_loops=True):
    """:math:`D^{-1/2} \\hat{A} D^{-1/2}` as a dense ``[n, n]`` float64 matrix.

    ``M[i, j]`` is the weight of ``j -> i``; with ``self_loops`` every node without a
    loop gets one of weight 1 and a node with loops keeps the weight of its last one.
    Degrees are row sums (counted at the targets); a node of degree 0 gets 0.
    """
    a = dense_adjacency(edge_index, n, n, weight)
    if self_loops:
        diag = torch.ones(n, dtype=torch.float64)
        for e, (j, i) in enumerate(edge_index.t().tolist()):
            if i == j:
                diag[i] = 1.0 if weight is None else float(weight[e])
        a.fill_diagonal_(0.0)
        a = a + torch.diag(diag)
    deg = a.sum(1)
    dinv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    return dinv.view(-1, 1) * a * dinv.view(1, -1)


class PairInput(torch.nn.Module):
    """Calls ``conv((x_src, x_dst), edge_index[, extra])``: a bipartite call with two inputs.

    Capture it with ``concrete_args={}`` when passing ``extra``.
    """

    def __init__(self, conv):
        super().__init__()
        self.conv = conv

    def forward(self, x_src, x_dst, edge_index, extra=None):
        if extra is None:
            return self.conv((x_src, x_dst), edge_index)
        return self.conv((x_src, x_dst), edge_index, extra)


def assert_lowers(model, *inputs, concrete_args=None):
    """``lower(capture(model))`` equals eager, forward and backward, in eval mode.

    Also checks that no message passing layer survives lowering.
    """
    model.eval()
    low = gfx.lower(gfx.capture(model, concrete_args=concrete_args))
    for node in low.graph.nodes:
        if node.op == "call_module":
            assert isinstance(low.get_submodule(node.target), torch.nn.Module)
            assert not isinstance(low.get_submodule(node.target), gfx.nn.MessagePassing)

    def leaves():
        return [t.detach().clone().requires_grad_() if t.is_floating_point() else t
                for t in inputs]

    args_low, args_eager = leaves(), leaves()
    out_low = low(*args_low)
    torch.testing.assert_close(out_low, model(*inputs))
    grad = torch.randn_like(out_low)
    model.zero_grad()
    out_low.backward(grad)
    low_grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(*args_eager).backward(grad)
    for a, b in zip(args_low, args_eager):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad)
    for got, p in zip(low_grads, model.parameters()):
        torch.testing.assert_close(got, p.grad)
    return low


@given(edge_lists(), st.booleans())
def test_lg_conv_matches_dense_formula(graph, weighted):
    edge_index, n, _ = graph
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64) + 0.1 if weighted else None
    expected = normalized_adjacency(edge_index, n, w, self_loops=False) @ x
    torch.testing.assert_close(LGConv()(x, edge_index, w), expected)


@given(edge_lists())
def test_lg_conv_without_normalisation_sums_weighted_neighbours(graph):
    edge_index, n, _ = graph
    x = torch.randn(n, 3, dtype=torch.float64)
    w = torch.rand(edge_index.shape[1], dtype=torch.float64)
    expected = dense_adjacency(edge_index, n, n, w) @ x
    torch.testing.assert_close(LGConv(normalize=False)(x, edge_index, w), expected)


def test_lg_conv_sparse_adjacency_equals_edge_index():
    edge_index = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 3, 0]])
    x = torch.randn(4, 3)
    weight = torch.rand(5)
    adj_t = edge_index_to_adj_t(edge_index, weight, size=(4, 4))
    torch.testing.assert_close(LGConv()(x, adj_t), LGConv()(x, edge_index, weight))


def test_lg_conv_lowers():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 3], [1, 2, 3, 4, 3]])
    low = assert_lowers(LGConv(), x, ei)
    assert "gcn_norm" in low.code  # the normalisation is one structure call
    assert_lowers(LGConv(), x, ei, torch.rand(5), concrete_args={})


def test_lg_conv_errors():
    conv = LGConv()
    with pytest.raises(ValueError, match="LGConv.*bipartite"):
        conv((torch.randn(3, 2), torch.randn(2, 2)), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match="LGConv.*edge_weight"):
        conv(torch.randn(3, 2), torch.tensor([[0], [1]]), torch.ones(2))
    assert list(conv.state_dict()) == [] and repr(conv) == "LGConv()"


FAMILY = {  # one configuration of each propagation layer of this family
    # ChebConv is absent: as in the reference, its degrees are summed over edge_index[0]
    # whatever the flow (NOTE [ChebConv degrees]), so flipping the flow is not flipping edges.
    "TAGConv": lambda **kw: gfx.nn.TAGConv(3, 2, **kw),
    "ARMAConv": lambda **kw: gfx.nn.ARMAConv(3, 2, num_layers=2, **kw),
    "SGConv": lambda **kw: gfx.nn.SGConv(3, 2, K=2, **kw),
    "SSGConv": lambda **kw: gfx.nn.SSGConv(3, 2, alpha=0.2, K=2, **kw),
    "APPNP": lambda **kw: gfx.nn.APPNP(2, 0.1, **kw),
    "MFConv": lambda **kw: gfx.nn.MFConv(3, 2, max_degree=2, **kw),
    "GeneralConv": lambda **kw: gfx.nn.GeneralConv(3, 2, attention=True, **kw),
    "LGConv": lambda **kw: LGConv(**kw),
    "ClusterGCNConv": lambda **kw: gfx.nn.ClusterGCNConv(3, 2, diag_lambda=0.5, **kw),
    "LEConv": lambda **kw: gfx.nn.LEConv(3, 2, **kw),
    "FiLMConv": lambda **kw: gfx.nn.FiLMConv(3, 2, **kw),
}


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_target_to_source_flow_equals_flipped_edges(name):
    x = torch.randn(5, 3)
    ei = torch.tensor([[0, 1, 2, 3, 1, 0, 4], [1, 2, 3, 0, 1, 2, 2]])
    torch.manual_seed(1)
    forward = FAMILY[name]()
    torch.manual_seed(1)
    backward = FAMILY[name](flow="target_to_source")
    torch.testing.assert_close(backward(x, ei.flip(0)), forward(x, ei))


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_sparse_adjacency_equals_edge_index(name):
    torch.manual_seed(2)
    layer = FAMILY[name]()
    x = torch.randn(5, 3)
    # no duplicate edges: the sparse form holds the same edges, in another order
    ei = torch.tensor([[0, 1, 2, 3, 1, 4], [1, 2, 3, 0, 1, 2]])
    adj_t = edge_index_to_adj_t(ei, size=(5, 5))
    torch.testing.assert_close(layer(x, adj_t.to_sparse_csr()), layer(x, ei))
