"""GENConv against explicit loops over neighbourhoods."""
import functools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn import GENConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_glob import assert_lowered_matches_eager


def linear(lin, h):
    return h @ lin.weight.t() + (lin.bias if lin.bias is not None else 0.0)


def aggregate(msgs, aggr, t, p, width):
    """DeeperGCN aggregations over one neighbourhood (a [k, F] tensor); empty -> 0, except
    the (learnable) power mean, whose inputs and mean are clamped to [1e-4, 100]."""
    if aggr == "power":
        mean = msgs.clamp(1e-4, 100).pow(p).mean(0) if msgs.shape[0] else \
            torch.zeros(width, dtype=msgs.dtype)
        return mean.clamp(1e-4, 100).pow(1 / p)
    if msgs.shape[0] == 0:
        return torch.zeros(width, dtype=msgs.dtype)
    if aggr in ("softmax", "softmax_sg"):
        w = torch.exp(t * msgs - (t * msgs).max(0).values)
        return (w / w.sum(0) * msgs).sum(0)
    return {"mean": msgs.mean(0), "max": msgs.max(0).values, "add": msgs.sum(0)}[aggr]


def reference_gen(conv, x_src, x_dst, edge_index, edge_attr, aggr, t=1.0, p=1.0):
    """The DeeperGCN formula, with the MLP applied in eval mode, module by module."""
    h_src = linear(conv.lin_src, x_src) if hasattr(conv, "lin_src") else x_src
    if edge_attr is not None and hasattr(conv, "lin_edge"):
        edge_attr = linear(conv.lin_edge, edge_attr)
    width, n_dst = conv.out_channels, x_dst.shape[0]
    rows = []
    for i, nbrs in enumerate(neighbour_lists(edge_index, n_dst)):
        msgs = [h_src[j] + (edge_attr[e] if edge_attr is not None else 0.0) for e, j in nbrs]
        msgs = F.relu(torch.stack(msgs)) + conv.eps if msgs else torch.zeros(0, width,
                                                                             dtype=x_src.dtype)
        rows.append(aggregate(msgs, aggr, t, p, width))
    out = torch.stack(rows) if rows else torch.zeros(0, width, dtype=x_src.dtype)
    if hasattr(conv, "msg_norm"):
        m_norm = out.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        out = out / m_norm * x_dst.norm(dim=-1, keepdim=True) * conv.msg_norm.scale
    out = out + (linear(conv.lin_dst, x_dst) if hasattr(conv, "lin_dst") else x_dst)
    for module in conv.mlp:
        if hasattr(module, "in_channels"):  # gfx Linear
            out = linear(module, out)
        elif isinstance(module, torch.nn.BatchNorm1d):
            out = ((out - module.running_mean) / (module.running_var + module.eps).sqrt()
                   * module.weight + module.bias)
        elif isinstance(module, torch.nn.LayerNorm):
            mu, var = out.mean(-1, keepdim=True), out.var(-1, unbiased=False, keepdim=True)
            out = (out - mu) / (var + module.eps).sqrt() * module.weight + module.bias
        elif isinstance(module, torch.nn.ReLU):
            out = out.clamp(min=0)
    return out


def randomise_norms(conv):
    with torch.no_grad():
        for module in conv.mlp:
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                module.weight.uniform_(0.5, 1.5)


@given(edge_lists(bipartite=True, max_nodes=6, max_edges=14), st.sampled_from([
    ("softmax", {"t": 0.7, "learn_t": True}),
    ("softmax_sg", {}),
    ("power", {"p": 2.0, "learn_p": True, "norm": "layer", "num_layers": 3}),
    ("mean", {"msg_norm": True, "learn_msg_scale": True, "bias": True}),
    ("max", {"norm": None, "expansion": 3, "edge": True}),
]))
def test_gen_matches_loops_bipartite(graph, config):
    edge_index, n_src, n_dst = graph
    aggr, kwargs = config
    kwargs = dict(kwargs)
    edge = kwargs.pop("edge", False)
    torch.manual_seed(0)
    conv = GENConv((3, 5), 4, aggr=aggr, edge_dim=2 if edge else None, **kwargs).double().eval()
    randomise_norms(conv)
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 5, dtype=torch.float64)
    edge_attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64) if edge else None
    expected = reference_gen(conv, x_src, x_dst, edge_index, edge_attr, aggr,
                             t=kwargs.get("t", 1.0), p=kwargs.get("p", 1.0))
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, edge_attr), expected)


@given(edge_lists(max_nodes=6, max_edges=14))
def test_gen_homogeneous_with_edge_features_of_out_size(graph):
    edge_index, n, _ = graph
    torch.manual_seed(1)
    conv = GENConv(4, 4, msg_norm=True).double().eval()  # no lin_src / lin_dst / lin_edge
    assert not any(hasattr(conv, a) for a in ("lin_src", "lin_dst", "lin_edge"))
    x = torch.randn(n, 4, dtype=torch.float64)
    edge_attr = torch.randn(edge_index.shape[1], 4, dtype=torch.float64)
    torch.testing.assert_close(conv(x, edge_index, edge_attr),
                               reference_gen(conv, x, x, edge_index, edge_attr, "softmax"))


def test_gen_without_target_features_skips_the_root_term():
    torch.manual_seed(0)
    conv = GENConv((3, 5), 4, aggr="add", norm=None).double()
    x_src = torch.randn(4, 3, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 3], [0, 0, 1]])
    out = conv((x_src, None), edge_index, size=(4, 2))
    h = F.relu(x_src @ conv.lin_src.weight.t()) + conv.eps
    agg = torch.stack([h[0] + h[1], h[3]])
    torch.testing.assert_close(out, F.relu(agg @ conv.mlp[0].weight.t()) @ conv.mlp[3].weight.t())


def test_gen_state_dict_layout():
    shapes = {k: tuple(v.shape) for k, v in GENConv(4, 6).state_dict().items()}
    assert shapes == {"lin_src.weight": (6, 4), "lin_dst.weight": (6, 4),
                      "mlp.0.weight": (12, 6), "mlp.1.weight": (12,), "mlp.1.bias": (12,),
                      "mlp.1.running_mean": (12,), "mlp.1.running_var": (12,),
                      "mlp.1.num_batches_tracked": (), "mlp.4.weight": (6, 12)}
    conv = GENConv(6, 6, learn_t=True, msg_norm=True, edge_dim=3, bias=True,
                   aggr=["mean", "max"])
    keys = set(conv.state_dict())
    assert {"lin_edge.weight", "lin_edge.bias", "lin_aggr_out.weight", "msg_norm.scale",
            "mlp.0.bias"} <= keys
    assert not any(k.startswith("aggr.") for k in keys)
    learn_p = GENConv(4, 4, aggr="power", learn_p=True)
    assert "aggr_module.p" in learn_p.state_dict() and "aggr.p" not in learn_p.state_dict()


def test_gen_errors():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="GENConv: unknown norm 'graph'"):
        GENConv(4, 6, norm="graph")
    with pytest.raises(ValueError, match="GENConv: aggr='softmax_sg'.*learn_t"):
        GENConv(4, 6, aggr="softmax_sg", learn_t=True)
    conv = GENConv(4, 6, edge_dim=3)
    with pytest.raises(ValueError, match=r"GENConv: expected 'edge_attr' of shape \[\w+, 3\]"):
        conv(torch.randn(3, 4), ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match=r"GENConv: expected 'edge_attr' .* 6\] \(edge_dim=None"):
        GENConv(4, 6)(torch.randn(3, 4), ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match="in the last dimension"):
        conv(torch.randn(3, 5), ei, torch.randn(2, 3))


class Bipartite(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GENConv((3, 5), 4, learn_t=True, msg_norm=True, learn_msg_scale=True,
                            edge_dim=2, bias=True)

    def forward(self, x_src, x_dst, edge_index, edge_attr):
        return self.conv((x_src, x_dst), edge_index, edge_attr)


@functools.lru_cache(maxsize=None)
def lowered_model():
    torch.manual_seed(0)
    model = Bipartite().double().eval()
    randomise_norms(model.conv)
    return model, gfx.lower(gfx.capture(model))


@given(edge_lists(bipartite=True, max_nodes=6, max_edges=14))
def test_gen_lowered_equals_eager_bipartite(graph):
    edge_index, n_src, n_dst = graph
    model, low = lowered_model()
    assert_lowered_matches_eager(model, torch.randn(n_src, 3, dtype=torch.float64),
                                 torch.randn(n_dst, 5, dtype=torch.float64), edge_index,
                                 torch.randn(edge_index.shape[1], 2, dtype=torch.float64),
                                 lowered=low)


def test_gen_lowered_equals_eager_homogeneous():
    torch.manual_seed(0)
    conv = GENConv(4, 6, aggr="power", learn_p=True, norm="layer").double()
    assert_lowered_matches_eager(conv, torch.randn(7, 4, dtype=torch.float64),
                                 torch.randint(0, 7, (2, 20)))
