"""PNAConv and DegreeScalerAggregation against explicit loops."""
import functools
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import gfx
from gfx.nn import PNAConv
from gfx.nn.aggr import DegreeScalerAggregation
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_glob import assert_lowered_matches_eager

DEG = torch.tensor([1.0, 3.0, 4.0, 2.0])  # 1 node of degree 0, 3 of degree 1, ...
SCALERS = ["identity", "amplification", "attenuation", "linear", "inverse_linear"]


def averages(hist):
    total = float(hist.sum())
    lin = sum(d * float(h) for d, h in enumerate(hist)) / total
    log = sum(math.log(d + 1) * float(h) for d, h in enumerate(hist)) / total
    return lin, log


def aggregate(rows, name, width):
    """One aggregator over a neighbourhood (a list of vectors); empty -> 0."""
    if not rows:
        return torch.zeros(width, dtype=torch.float64)
    m = torch.stack(rows)
    if name in ("var", "std"):
        var = ((m - m.mean(0)) ** 2).mean(0)
        if name == "var":
            return var
        return torch.where(var > 1e-5, var.clamp(min=1e-5).sqrt(), torch.zeros_like(var))
    return {"sum": m.sum(0), "mean": m.mean(0), "max": m.max(0).values,
            "min": m.min(0).values}[name]


def scale(vec, degree, name, lin, log):
    d = max(degree, 1)
    return vec * {"identity": 1.0, "amplification": math.log(d + 1) / log,
                  "attenuation": log / math.log(d + 1), "linear": d / lin,
                  "inverse_linear": lin / d}[name]


def run_mlp(seq, h):
    """Apply a Sequential of Linear layers and activations with explicit matrix products."""
    for module in seq:
        h = h @ module.weight.t() + module.bias if hasattr(module, "weight") else module(h)
    return h


def reference_pna(conv, x, edge_index, edge_attr, aggregators, scalers):
    n, towers, f_in = x.shape[0], conv.towers, conv.F_in
    lin, log = averages(DEG)
    xt = x.view(n, towers, f_in) if conv.divide_input else x.view(n, 1, f_in).repeat(1, towers, 1)
    nbrs = neighbour_lists(edge_index, n)
    outs = []
    for t in range(towers):
        rows = []
        for i in range(n):
            msgs = []
            for e, j in nbrs[i]:
                parts = [xt[i, t], xt[j, t]]
                if edge_attr is not None:
                    parts.append(edge_attr[e] @ conv.edge_encoder.weight.t()
                                 + conv.edge_encoder.bias)
                msgs.append(run_mlp(conv.pre_nns[t], torch.cat(parts)))
            agg = torch.cat([aggregate(msgs, a, f_in) for a in aggregators])
            scaled = torch.cat([scale(agg, len(msgs), s, lin, log) for s in scalers])
            rows.append(run_mlp(conv.post_nns[t], torch.cat([xt[i, t], scaled])))
        outs.append(torch.stack(rows) if rows else torch.zeros(0, conv.F_out, dtype=x.dtype))
    return torch.cat(outs, dim=-1) @ conv.lin.weight.t() + conv.lin.bias


@given(edge_lists(max_nodes=5, max_edges=10), st.sampled_from([
    (["mean", "max"], ["identity", "amplification"], {}),
    (["sum", "min", "std"], ["attenuation", "linear", "inverse_linear"],
     {"edge_dim": 2, "towers": 2, "divide_input": True, "pre_layers": 2, "post_layers": 2}),
    (["var"], SCALERS, {"towers": 2, "act": "tanh", "post_layers": 2}),
]))
def test_pna_matches_loops(graph, config):
    edge_index, n, _ = graph
    aggregators, scalers, kwargs = config
    torch.manual_seed(0)
    conv = PNAConv(4, 6, aggregators, scalers, DEG, **kwargs).double()
    x = torch.randn(n, 4, dtype=torch.float64)
    edge_attr = torch.randn(edge_index.shape[1], 2, dtype=torch.float64) \
        if "edge_dim" in kwargs else None
    args = (x, edge_index) if edge_attr is None else (x, edge_index, edge_attr)
    torch.testing.assert_close(conv(*args),
                               reference_pna(conv, x, edge_index, edge_attr, aggregators, scalers))


def test_degree_scaler_aggregation_buffers_and_parameters():
    lin, log = averages(DEG)
    aggr = DegreeScalerAggregation(["mean", "max"], SCALERS, DEG)
    assert {k: type(v).__name__ for k, v in aggr.state_dict(keep_vars=True).items()} == {
        "avg_deg_lin": "Tensor", "avg_deg_log": "Tensor"}
    assert aggr.avg_deg_lin.item() == pytest.approx(lin)
    assert aggr.avg_deg_log.item() == pytest.approx(log)
    assert aggr.get_out_channels(3) == 3 * 2 * 5
    learn = DegreeScalerAggregation("mean", "linear", DEG, train_norm=True)
    assert {name for name, _ in learn.named_parameters()} == {"avg_deg_lin", "avg_deg_log"}
    x = torch.randn(5, 2, requires_grad=True)
    learn(x, torch.tensor([0, 0, 1, 1, 1]), dim_size=3).sum().backward()
    assert learn.avg_deg_lin.grad is not None
    # The group axis need not be -2: scalers follow the aggregated axis.
    x3 = torch.randn(2, 5, 3, dtype=torch.float64)
    out = DegreeScalerAggregation("sum", "linear", DEG).double()(
        x3, torch.tensor([0, 0, 1, 1, 1]), dim_size=2, dim=1)
    expected = torch.stack([x3[:, :2].sum(1) * 2 / lin, x3[:, 2:].sum(1) * 3 / lin], dim=1)
    torch.testing.assert_close(out, expected)


def test_pna_state_dict_layout():
    conv = PNAConv(4, 6, ["mean", "std"], ["identity", "linear"], DEG, edge_dim=3, towers=2,
                   pre_layers=2, post_layers=2, divide_input=True)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "aggr_module.avg_deg_lin": (1,), "aggr_module.avg_deg_log": (1,),
        "edge_encoder.weight": (2, 3), "edge_encoder.bias": (2,),
        "pre_nns.0.0.weight": (2, 6), "pre_nns.0.0.bias": (2,),
        "pre_nns.0.2.weight": (2, 2), "pre_nns.0.2.bias": (2,),
        "pre_nns.1.0.weight": (2, 6), "pre_nns.1.0.bias": (2,),
        "pre_nns.1.2.weight": (2, 2), "pre_nns.1.2.bias": (2,),
        "post_nns.0.0.weight": (3, 10), "post_nns.0.0.bias": (3,),
        "post_nns.0.2.weight": (3, 3), "post_nns.0.2.bias": (3,),
        "post_nns.1.0.weight": (3, 10), "post_nns.1.0.bias": (3,),
        "post_nns.1.2.weight": (3, 3), "post_nns.1.2.bias": (3,),
        "lin.weight": (6, 6), "lin.bias": (6,)}


def test_pna_degree_histogram():
    class Graph:
        def __init__(self, edge_index, num_nodes):
            self.edge_index, self.num_nodes = edge_index, num_nodes

    graphs = [Graph(torch.tensor([[0, 1, 2], [1, 2, 1]]), 4),  # in-degrees 0, 2, 1, 0
              Graph(torch.tensor([[0, 0, 0], [1, 1, 1]]), 2)]  # in-degrees 0, 3
    assert PNAConv.get_degree_histogram(graphs).tolist() == [3, 1, 1, 1]


def test_pna_errors():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="PNAConv: out_channels=6 must be divisible by towers=4"):
        PNAConv(4, 6, ["mean"], ["identity"], DEG, towers=4)
    with pytest.raises(ValueError, match="PNAConv: with divide_input=True, in_channels=5"):
        PNAConv(5, 6, ["mean"], ["identity"], DEG, towers=2, divide_input=True)
    with pytest.raises(ValueError, match="DegreeScalerAggregation: unknown scaler"):
        PNAConv(4, 6, ["mean"], ["log"], DEG)
    with pytest.raises(ValueError, match="PNAConv: unknown activation 'swish'"):
        PNAConv(4, 6, ["mean"], ["identity"], DEG, act="swish", pre_layers=2)
    conv = PNAConv(4, 6, ["mean"], ["identity"], DEG, edge_dim=2)
    with pytest.raises(ValueError, match="PNAConv: edge_dim=2 was set, so 'edge_attr'"):
        conv(torch.randn(3, 4), ei)
    with pytest.raises(ValueError, match=r"PNAConv: expected 'edge_attr' of shape \[2, 2\]"):
        conv(torch.randn(3, 4), ei, torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"PNAConv: expected 'x' of shape \[num_nodes, 4\]"):
        conv(torch.randn(3, 5), ei, torch.randn(2, 2))
    plain = PNAConv(4, 6, ["mean"], ["identity"], DEG)
    with pytest.raises(ValueError, match="PNAConv: got 'edge_attr' but .* edge_dim=None"):
        plain(torch.randn(3, 4), ei, torch.randn(2, 2))
    with pytest.raises(ValueError, match="bipartite"):
        plain((torch.randn(3, 4), torch.randn(2, 4)), ei)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = PNAConv(4, 6, ["mean", "min", "max", "std"], SCALERS, DEG, edge_dim=2,
                            towers=2, pre_layers=2, train_norm=True)

    def forward(self, x, edge_index, edge_attr):
        return self.conv(x, edge_index, edge_attr)


@functools.lru_cache(maxsize=None)
def lowered_model():
    """One model, captured and lowered once; the graph does not depend on the inputs."""
    torch.manual_seed(0)
    model = Model().double().eval()
    return model, gfx.lower(gfx.capture(model))


@given(edge_lists(max_nodes=6, max_edges=14))
def test_pna_lowered_equals_eager(graph):
    edge_index, n, _ = graph
    model, low = lowered_model()
    assert_lowered_matches_eager(model, torch.randn(n, 4, dtype=torch.float64), edge_index,
                                 torch.randn(edge_index.shape[1], 2, dtype=torch.float64),
                                 lowered=low)
