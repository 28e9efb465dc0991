import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import GeneralConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_lg_conv import PairInput, assert_lowers


def loop_general(conv, x_src, x_dst, edge_index, edge_attr, aggr):
    """Explicit per-edge messages, per-target softmax and per-head aggregation."""
    H, C = conv.heads, conv.out_channels

    def lin(layer, v):
        return layer.weight @ v + (0 if layer.bias is None else layer.bias)

    def msg(src, dst, e):
        m = lin(conv.lin_msg, src)
        if not conv.directed_msg:
            m = m + lin(conv.lin_msg_i, dst)
        if conv.in_edge_channels is not None:
            m = m + lin(conv.lin_edge, edge_attr[e])
        return m.view(H, C)

    out = []
    for i, nbrs in enumerate(neighbour_lists(edge_index, x_dst.shape[0])):
        msgs = [msg(x_src[j], x_dst[i], e) for e, j in nbrs]
        if conv.attention and msgs:
            if conv.attention_type == "additive":
                scores = [(m * conv.att_msg[0]).sum(-1) for m in msgs]
            else:
                scores = [(msg(x_dst[i], x_src[j], e) * m).sum(-1) / math.sqrt(C)
                          for m, (e, j) in zip(msgs, nbrs)]
            alpha = torch.softmax(F.leaky_relu(torch.stack(scores), 0.2), dim=0)
            msgs = [m * a.view(H, 1) for m, a in zip(msgs, alpha)]
        if not msgs:
            agg = torch.zeros(H, C, dtype=x_src.dtype)
        elif aggr == "add":
            agg = torch.stack(msgs).sum(0)
        else:
            agg = torch.stack(msgs).max(0).values
        out.append(agg.mean(0))
    out = torch.stack(out)
    if isinstance(conv.lin_self, torch.nn.Identity):
        out = out + x_dst
    else:
        out = out + x_dst @ conv.lin_self.weight.t() + (
            0 if conv.lin_self.bias is None else conv.lin_self.bias)
    return F.normalize(out, dim=-1) if conv.l2_normalize else out


CONFIGS = st.fixed_dictionaries({
    "heads": st.integers(1, 2), "directed_msg": st.booleans(), "attention": st.booleans(),
    "attention_type": st.sampled_from(["additive", "dot_product"]),
    "l2_normalize": st.booleans(), "skip_linear": st.booleans(), "bias": st.booleans(),
    "aggr": st.sampled_from(["add", "max"]), "edges": st.booleans()})


@given(edge_lists(), CONFIGS, st.sampled_from([3, 4]))
def test_general_matches_loop_formula(graph, config, out_channels):
    edge_index, n, _ = graph
    config = dict(config)
    edges = config.pop("edges")
    torch.manual_seed(0)
    conv = GeneralConv(3, out_channels, in_edge_channels=2 if edges else None,
                       **config).double()
    if config["attention"] and config["attention_type"] == "additive":
        torch.nn.init.normal_(conv.att_msg)
    x = torch.randn(n, 3, dtype=torch.float64)
    edge_attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64) if edges else None
    expected = loop_general(conv, x, x, edge_index, edge_attr, config["aggr"])
    torch.testing.assert_close(conv(x, edge_index, edge_attr), expected)


@given(edge_lists(bipartite=True), st.booleans())
def test_general_bipartite_matches_loop_formula(graph, attention):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = GeneralConv((3, 2), 4, heads=2, attention=attention).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index),
                               loop_general(conv, x_src, x_dst, edge_index, None, "add"))


def test_general_lowers():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 1]])
    edge_attr = torch.randn(6, 2)
    conv = GeneralConv(3, 4, in_edge_channels=2, heads=2, attention=True,
                       attention_type="dot_product", directed_msg=False)
    assert_lowers(conv, x, ei, edge_attr, concrete_args={"size": None})
    bip = PairInput(GeneralConv((3, 2), 4, heads=2, attention=True))
    assert_lowers(bip, x, torch.randn(3, 2), torch.tensor([[0, 4, 2], [0, 1, 1]]))


def test_general_state_dict_layout():
    def keys(**kw):
        return {k: tuple(v.shape) for k, v in GeneralConv(**kw).state_dict().items()}

    assert keys(in_channels=4, out_channels=4) == {"lin_msg.weight": (4, 4),
                                                   "lin_msg.bias": (4,)}
    assert keys(in_channels=(4, 4), out_channels=3, heads=2, attention=True,
                attention_type="dot_product", bias=False) == {
        "scaler": (), "lin_msg.weight": (6, 4), "lin_self.weight": (3, 4)}
    assert set(keys(in_channels=4, out_channels=3, in_edge_channels=2, attention=True,
                    directed_msg=False)) == {
        "att_msg", "lin_msg.weight", "lin_msg.bias", "lin_msg_i.weight", "lin_msg_i.bias",
        "lin_self.weight", "lin_self.bias", "lin_edge.weight", "lin_edge.bias"}


def test_general_errors():
    with pytest.raises(ValueError, match="GeneralConv.*attention_type"):
        GeneralConv(3, 2, attention=True, attention_type="cosine")
    with pytest.raises(ValueError, match="GeneralConv.*directed_msg=False.*in_channels"):
        GeneralConv((3, 2), 2, directed_msg=False)
    with pytest.raises(ValueError, match="GeneralConv.*out_channels"):
        GeneralConv(3, None)
    conv = GeneralConv(3, 2, in_edge_channels=2)
    x, ei = torch.randn(3, 3), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GeneralConv.*edge_attr.*required"):
        conv(x, ei)
    with pytest.raises(ValueError, match="GeneralConv.*edge_attr.*in_edge_channels=2"):
        conv(x, ei, torch.randn(2, 3))
    with pytest.raises(ValueError, match="GeneralConv.*source.*3 features"):
        conv(torch.randn(3, 5), ei, torch.randn(2, 2))
