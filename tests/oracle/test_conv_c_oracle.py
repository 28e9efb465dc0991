"""PNAConv, GENConv, HeteroConv, HGTConv and HANConv against the reference library.

Weights go from gfx to the reference (``theirs.load_state_dict(ours.state_dict())``);
outputs, input gradients and parameter gradients (matched by name) are compared.
"""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402

pnn = torch_geometric.nn


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)
DEG = torch.tensor([1.0, 3.0, 4.0, 2.0, 1.0])
SCALERS = ["identity", "amplification", "attenuation", "linear", "inverse_linear"]


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def flatten(out):
    if isinstance(out, dict):
        return [out[k] for k in sorted(out) if out[k] is not None]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten(o)]
    return [out]


def prepare(value):
    """A fresh leaf copy of every floating-point tensor (also inside dicts and tuples)."""
    if isinstance(value, torch.Tensor):
        return value.clone().requires_grad_() if value.is_floating_point() else value
    if isinstance(value, dict):
        return {k: prepare(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(prepare(v) for v in value)
    return value


def leaves(value):
    if isinstance(value, torch.Tensor):
        return [value] if value.requires_grad else []
    if isinstance(value, dict):
        return [t for k in sorted(value) for t in leaves(value[k])]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in leaves(v)]
    return []


def compare(ours, theirs, *inputs, eval_mode=True, **kwargs):
    assert shapes(ours) == shapes(theirs)
    theirs.load_state_dict(ours.state_dict())
    ours.zero_grad()
    theirs.zero_grad()
    if eval_mode:
        ours.eval()
        theirs.eval()
    args_a, args_b = prepare(list(inputs)), prepare(list(inputs))
    out_a, out_b = flatten(ours(*args_a, **kwargs)), flatten(theirs(*args_b, **kwargs))
    assert len(out_a) == len(out_b)
    for a, b in zip(out_a, out_b):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    grads = [torch.randn_like(a) for a in out_a]
    torch.autograd.backward(out_a, grads)
    torch.autograd.backward(out_b, grads)
    pairs = list(zip(leaves(args_a), leaves(args_b)))
    their_params = dict(theirs.named_parameters())
    pairs += [(p, their_params[name]) for name, p in ours.named_parameters()]
    for a, b in pairs:
        if a.grad is None or b.grad is None:  # unused (e.g. a node type without edges)
            assert all(g is None or not g.any() for g in (a.grad, b.grad))
        else:
            torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)


def graph(n=10, e=40, seed=0, channels=4, min_in_degree=0):
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    for k in range(1, min_in_degree + 1):  # node i also receives from i+1, ..., i+k
        targets = torch.arange(n)
        edge_index = torch.cat([edge_index, torch.stack([(targets + k) % n, targets])], dim=1)
    return torch.randn(n, channels, generator=g), edge_index


@pytest.mark.parametrize("kwargs", [
    {},
    {"edge_dim": 3, "towers": 2, "divide_input": True, "pre_layers": 2, "post_layers": 2},
    {"towers": 2, "train_norm": True, "act": "tanh"},
])
def test_pna_conv(kwargs):
    x, edge_index = graph(min_in_degree=1)
    aggregators = ["mean", "min", "max", "sum", "var"]
    ours = gnn.PNAConv(4, 6, aggregators, SCALERS, DEG, **kwargs)
    theirs = pnn.PNAConv(4, 6, aggregators, SCALERS, DEG, **kwargs)
    args = [x, edge_index]
    if "edge_dim" in kwargs:
        args.append(torch.randn(edge_index.shape[1], 3))
    compare(ours, theirs, *args)


def test_pna_conv_std():
    # gfx's std is 0 where a neighbourhood's variance is at most 1e-5 (the reference gives
    # sqrt(1e-5)): with two distinct neighbours or more per node the variance is larger.
    torch.manual_seed(1)
    x, edge_index = graph(e=10, min_in_degree=2, seed=1)
    ours = gnn.PNAConv(4, 6, ["std"], ["identity", "linear"], DEG)
    theirs = pnn.PNAConv(4, 6, ["std"], ["identity", "linear"], DEG)
    compare(ours, theirs, x, edge_index)


@pytest.mark.filterwarnings("ignore:input's size at dim=0 does not match num_features")
@pytest.mark.parametrize("kwargs", [
    {},
    {"edge_dim": 3, "msg_norm": True, "learn_msg_scale": True, "bias": True},
    {"learn_t": True, "t": 0.5, "norm": "layer", "num_layers": 3},
    {"aggr": "softmax_sg", "norm": "instance"},
    {"aggr": ["mean", "max"], "msg_norm": True, "expansion": 3},
    {"aggr": "max", "norm": None, "edge_dim": 6},
])
def test_gen_conv(kwargs):
    x, edge_index = graph(seed=2)
    ours, theirs = gnn.GENConv(4, 6, **kwargs), pnn.GENConv(4, 6, **kwargs)
    args = [x, edge_index]
    if "edge_dim" in kwargs:
        args.append(torch.randn(edge_index.shape[1], kwargs["edge_dim"]))
    compare(ours, theirs, *args)


def test_gen_conv_training_mode_batch_norm():
    x, edge_index = graph(seed=3)
    ours, theirs = gnn.GENConv(4, 6), pnn.GENConv(4, 6)
    compare(ours, theirs, x, edge_index, eval_mode=False)
    torch.testing.assert_close(ours.mlp[1].running_mean, theirs.mlp[1].running_mean)


def test_gen_conv_power_mean():
    # The power means differ where a clamp is active: the reference clamps inputs and the
    # mean of the powers to [1e-4, 100], gfx clamps inputs to [0, 100] only (see
    # PowerMeanAggregation).  Positive weights and inputs keep every message in ~[0.1, 10].
    g = torch.Generator().manual_seed(4)
    x, edge_index = torch.rand(10, 4, generator=g) + 0.5, graph(seed=4)[1]
    ours = gnn.GENConv(4, 6, aggr="power", p=2.0, learn_p=True)
    with torch.no_grad():
        ours.lin_src.weight.uniform_(0.05, 0.5)
    compare(ours, pnn.GENConv(4, 6, aggr="power", p=2.0, learn_p=True), x, edge_index)


def test_gen_conv_bipartite():
    g = torch.Generator().manual_seed(5)
    x_src, x_dst = torch.randn(7, 3, generator=g), torch.randn(4, 5, generator=g)
    edge_index = torch.stack([torch.randint(0, 7, (20,), generator=g),
                              torch.randint(0, 4, (20,), generator=g)])
    compare(gnn.GENConv((3, 5), 6, msg_norm=True), pnn.GENConv((3, 5), 6, msg_norm=True),
            (x_src, x_dst), edge_index)
    compare(gnn.GENConv((3, 5), 6), pnn.GENConv((3, 5), 6), (x_src, None), edge_index,
            size=(7, 4))


META = (["a", "b", "c"], [("a", "to", "b"), ("b", "to", "a"), ("a", "self", "a"),
                          ("c", "to", "b")])
IN = {"a": 4, "b": 8, "c": 3}


def hetero_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    sizes = {"a": 6, "b": 5, "c": 4}
    x = {nt: torch.randn(sizes[nt], IN[nt], generator=g) for nt in sizes}
    edges = {et: torch.stack([torch.randint(0, sizes[et[0]], (12,), generator=g),
                              torch.randint(0, sizes[et[2]], (12,), generator=g)])
             for et in META[1]}
    return x, edges


@pytest.mark.parametrize("aggr", ["sum", "mean", "min", "max", "cat", None])
def test_hetero_conv(aggr):
    x, edges = hetero_inputs()
    ab, ba, aa = META[1][:3]

    def convs(nn):
        return {ab: nn.SAGEConv((4, 8), 5), ba: nn.GATConv((8, 4), 5, add_self_loops=False),
                aa: nn.GCNConv(4, 5)}

    ours, theirs = gnn.HeteroConv(convs(gnn), aggr), pnn.HeteroConv(convs(pnn), aggr)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    compare(ours, theirs, x, {et: edges[et] for et in (ab, ba, aa)})


def test_hetero_conv_edge_level_keyword_arguments():
    x, edges = hetero_inputs(1)
    ab, ba = META[1][:2]
    weights = {et: torch.rand(12) for et in (ab, ba)}
    ours = gnn.HeteroConv({ab: gnn.GraphConv((4, 8), 5), ba: gnn.GraphConv((8, 4), 5)})
    theirs = pnn.HeteroConv({ab: pnn.GraphConv((4, 8), 5), ba: pnn.GraphConv((8, 4), 5)})
    compare(ours, theirs, x, {et: edges[et] for et in (ab, ba)}, edge_weight_dict=weights)


@pytest.mark.parametrize("heads", [1, 2])
def test_hgt_conv(heads):
    x, edges = hetero_inputs(2)
    ours = gnn.HGTConv(IN, 8, META, heads=heads)
    with torch.no_grad():  # move the priors and skips away from their initial 1
        for p in ours.parameters():
            p.add_(0.3 * torch.randn_like(p))
    compare(ours, pnn.HGTConv(IN, 8, META, heads=heads), x, edges)
    partial = {et: edges[et] for et in META[1][1:3]}  # b receives nothing: zero messages
    compare(ours, pnn.HGTConv(IN, 8, META, heads=heads), x, partial)


def test_han_conv():
    x, edges = hetero_inputs(3)
    ours = gnn.HANConv(IN, 8, META, heads=2, negative_slope=0.3)
    theirs = pnn.HANConv(IN, 8, META, heads=2, negative_slope=0.3)
    compare(ours, theirs, x, edges, return_semantic_attention_weights=True)
    compare(ours, theirs, x, {et: edges[et] for et in META[1][1:]})
