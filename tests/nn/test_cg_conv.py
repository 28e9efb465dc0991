"""CGConv against a loop over edges written from the crystal-graph formula."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import CGConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_gat_conv import assert_lowered_matches_eager

REDUCE = {"mean": lambda t: t.mean(0), "add": lambda t: t.sum(0),
          "max": lambda t: t.max(0).values}


@settings(max_examples=10, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12, bipartite=True), st.sampled_from([0, 2]),
       st.sampled_from(["mean", "add", "max"]))
def test_cg_conv_matches_formula(graph, dim, aggr):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = CGConv((3, 2), dim=dim, aggr=aggr).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    e = torch.randn(edge_index.shape[1], dim, dtype=torch.float64)
    wf, bf = conv.lin_f.weight.detach(), conv.lin_f.bias.detach()
    ws, bs = conv.lin_s.weight.detach(), conv.lin_s.bias.detach()
    expected = x_dst.clone()
    for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
        if nbrs:
            msgs = []
            for k, j in nbrs:
                z = torch.cat([x_dst[i], x_src[j], e[k]])
                msgs.append(torch.sigmoid(wf @ z + bf) * F.softplus(ws @ z + bs))
            expected[i] += REDUCE[aggr](torch.stack(msgs))
    got = conv((x_src, x_dst), edge_index, e if dim else None)
    torch.testing.assert_close(got, expected)


def test_cg_conv_batch_norm_applies_to_aggregate():
    torch.manual_seed(0)
    conv = CGConv(3, dim=0, batch_norm=True).double()
    plain = CGConv(3, dim=0).double()
    plain.load_state_dict({k: v for k, v in conv.state_dict().items()
                           if not k.startswith("bn.")})
    x = torch.randn(6, 3, dtype=torch.float64)
    ei = torch.tensor([[0, 1, 2, 3, 4, 5, 0], [1, 2, 3, 4, 5, 0, 3]])
    agg = plain(x, ei) - x
    expected = (agg - agg.mean(0)) / torch.sqrt(agg.var(0, unbiased=False) + 1e-5) + x
    torch.testing.assert_close(conv(x, ei), expected)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = CGConv(3, dim=2)

    def forward(self, x, edge_index, e):
        return self.conv(x, edge_index, e)


@settings(max_examples=5, deadline=None)
@given(edge_lists(max_nodes=6, max_edges=12))
def test_cg_conv_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    torch.manual_seed(0)
    assert_lowered_matches_eager(Model().double(), torch.randn(n, 3).double(), edge_index,
                                 torch.randn(edge_index.shape[1], 2).double())


def test_cg_conv_repr_state_dict():
    assert str(CGConv((4, 5), dim=0)) == "CGConv((4, 5), dim=0)"
    assert {k: tuple(v.shape) for k, v in CGConv((4, 5)).state_dict().items()} == {
        "lin_f.weight": (5, 9), "lin_f.bias": (5,), "lin_s.weight": (5, 9), "lin_s.bias": (5,)}
    assert "bn.running_mean" in CGConv(4, dim=3, batch_norm=True).state_dict()


def test_cg_conv_bad_input():
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="'edge_attr' is required"):
        CGConv(3, dim=2)(x, ei)
    with pytest.raises(ValueError, match="dim=0"):
        CGConv(3)(x, ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match="target node features"):
        CGConv(3)((x, None), ei)
    with pytest.raises(ValueError, match="'dim'"):
        CGConv(3, dim=-1)
