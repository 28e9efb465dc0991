"""to_hetero on the model shapes users write; every expectation is an explicit loop over
types that calls the per-type copies directly (never the transformed graph)."""
import pytest
import torch
import torch.nn.functional as F

import gfx.nn as gnn
from gfx.passes.to_hetero import to_hetero
from tests.hetero.graphs import PAPER_AUTHOR, combine, hetero_inputs, key, reached


def relation_input(h, edge_type):
    src, _, dst = edge_type
    return h[src] if src == dst else (h[src], h[dst])


def conv_reference(copies, h, edge_index, metadata, aggr="sum", **extra):
    """Each node type: the copies of its incoming relations, combined with ``aggr``."""
    out = {}
    for node_type, relations in reached(metadata).items():
        outs = [copies[key(e)](relation_input(h, e), edge_index[e],
                               *[v[e] for v in extra.values()]) for e in relations]
        out[node_type] = combine(outs, aggr)
    return out


class LinSageLin(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin1 = gnn.Linear(-1, 8)
        self.conv = gnn.SAGEConv(8, 8)
        self.lin2 = gnn.Linear(8, 3)

    def forward(self, x, edge_index):
        return self.lin2(self.conv(self.lin1(x), edge_index).relu())


@pytest.mark.parametrize("aggr", ["sum", "mean", "max", "min", "mul"])
def test_linear_sage_linear_under_every_aggr(aggr):
    torch.manual_seed(0)
    model = to_hetero(LinSageLin(), PAPER_AUTHOR, aggr=aggr)
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 6, "author": 3})
    out = model(x, ei)
    h = {t: model.lin1[t](x[t]) for t in x}
    h = conv_reference(model.conv, h, ei, PAPER_AUTHOR, aggr)
    expected = {t: model.lin2[t](h[t].relu()) for t in h}
    assert set(out) == {"paper", "author"}
    for t in expected:
        torch.testing.assert_close(out[t], expected[t])


def test_copies_are_independent_and_named_like_the_reference():
    torch.manual_seed(0)
    model = to_hetero(LinSageLin(), PAPER_AUTHOR)
    keys = set(model.state_dict())
    assert "conv.paper__written_by__author.lin_l.weight" in keys
    assert "lin2.author.weight" in keys
    w = [model.conv[key(e)].lin_l.weight for e in PAPER_AUTHOR[1]]
    assert not torch.equal(w[0], w[1]) and not torch.equal(w[1], w[2])


def test_parameter_counts():
    def count(module):
        return sum(p.numel() for p in module.parameters())

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin1 = gnn.Linear(4, 8)
            self.conv = gnn.SAGEConv(8, 8)
            self.lin2 = gnn.Linear(8, 3)

        def forward(self, x, edge_index):
            return self.lin2(self.conv(self.lin1(x), edge_index))

    base = Model()
    model = to_hetero(base, PAPER_AUTHOR)
    assert count(model) == 2 * count(base.lin1) + 3 * count(base.conv) + 2 * count(base.lin2)


def test_skip_connection_through_cat():
    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.SAGEConv((-1, -1), 5)
            self.lin = gnn.Linear(-1, 2)

        def forward(self, x, edge_index):
            h = self.conv(x, edge_index).relu()
            return self.lin(torch.cat([x, h], dim=-1))

    torch.manual_seed(0)
    model = to_hetero(Skip(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    out = model(x, ei)
    h = conv_reference(model.conv, x, ei, PAPER_AUTHOR)
    for t in x:
        expected = model.lin[t](torch.cat([x[t], h[t].relu()], -1))
        torch.testing.assert_close(out[t], expected)
    assert model.lin["paper"].in_channels == 9


def test_module_list_and_module_dict_loops():
    class Loops(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = torch.nn.ModuleList([gnn.SAGEConv((-1, -1), 6), gnn.SAGEConv(6, 6)])
            self.heads = torch.nn.ModuleDict({"a": gnn.Linear(6, 6), "b": gnn.Linear(6, 2)})

        def forward(self, x, edge_index):
            for conv in self.convs:
                x = conv(x, edge_index).relu()
            for name in ("a", "b"):
                x = self.heads[name](x)
            return x

    torch.manual_seed(0)
    model = to_hetero(Loops(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    out = model(x, ei)
    h = x
    for layer in ("convs.0", "convs.1"):
        h = {t: v.relu() for t, v in
             conv_reference(model.get_submodule(layer), h, ei, PAPER_AUTHOR).items()}
    for name in ("a", "b"):
        h = {t: model.get_submodule(f"heads.{name}")[t](h[t]) for t in h}
    for t in x:
        torch.testing.assert_close(out[t], h[t])


def test_sequential_mlp_is_copied_per_node_type():
    class WithMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                           torch.nn.Linear(8, 4))
            self.conv = gnn.SAGEConv(4, 3)

        def forward(self, x, edge_index):
            return self.conv(self.mlp(x), edge_index)

    torch.manual_seed(0)
    model = to_hetero(WithMLP(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    h = {t: model.get_submodule("mlp.2")[t](model.get_submodule("mlp.0")[t](x[t]).relu())
         for t in x}
    expected = conv_reference(model.conv, h, ei, PAPER_AUTHOR)
    out = model(x, ei)
    for t in x:
        torch.testing.assert_close(out[t], expected[t])
    first = model.get_submodule("mlp.0")
    assert not torch.equal(first["paper"].weight, first["author"].weight)


def test_lazy_linear_takes_each_types_own_size():
    class Lazy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = gnn.Linear(-1, 4)

        def forward(self, x):
            return self.lin(x)

    model = to_hetero(Lazy(), PAPER_AUTHOR)
    x, _ = hetero_inputs(PAPER_AUTHOR, features={"paper": 7, "author": 2})
    out = model(x)
    assert model.lin["paper"].weight.shape == (4, 7)
    assert model.lin["author"].weight.shape == (4, 2)
    for t in x:
        torch.testing.assert_close(out[t], x[t] @ model.lin[t].weight.t() + model.lin[t].bias)


def test_batch_norm_keeps_statistics_per_node_type():
    class Normed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = gnn.BatchNorm(4)

        def forward(self, x):
            return self.norm(x)

    model = to_hetero(Normed(), PAPER_AUTHOR)
    x, _ = hetero_inputs(PAPER_AUTHOR, num_nodes={"paper": 6, "author": 9})
    x["author"] = x["author"] * 10 + 3
    out = model.train()(x)
    for t in x:
        stats = model.get_submodule(f"norm.module.{t}")
        torch.testing.assert_close(stats.running_mean, 0.1 * x[t].mean(0))
        expected = (x[t] - x[t].mean(0)) / torch.sqrt(x[t].var(0, unbiased=False) + 1e-5)
        torch.testing.assert_close(out[t], expected, atol=1e-5, rtol=1e-4)


def test_one_conv_reused_three_times():
    class Reuse(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.SAGEConv(4, 4)

        def forward(self, x, edge_index):
            for _ in range(3):
                x = self.conv(x, edge_index).tanh()
            return x

    torch.manual_seed(0)
    model = to_hetero(Reuse(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    h = x
    for _ in range(3):
        h = {t: v.tanh() for t, v in conv_reference(model.conv, h, ei, PAPER_AUTHOR).items()}
    out = model(x, ei)
    for t in x:
        torch.testing.assert_close(out[t], h[t])
    assert len(list(model.conv.children())) == 3


class Scale(torch.nn.Module):
    """Owns a parameter and has no reset_parameters()."""

    def __init__(self, channels):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.full((channels,), 2.0))

    def forward(self, x):
        return x * self.weight


class MLPConv(gnn.MessagePassing):
    """A user layer that does not override reset_parameters()."""

    def __init__(self, channels, scaled=False):
        super().__init__(aggr="sum")
        self.block = torch.nn.Sequential(torch.nn.Linear(channels, channels), torch.nn.ReLU(),
                                         Scale(channels) if scaled else torch.nn.Identity())

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=x)

    def message(self, x_j):
        return self.block(x_j)


def hetero_layer(layer):
    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = layer

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)

    return Wrap()


def test_nested_module_without_reset_parameters_is_walked_into(recwarn):
    model = to_hetero(hetero_layer(MLPConv(4)), PAPER_AUTHOR)
    assert not [w for w in recwarn if "reset_parameters" in str(w.message)]
    weights = [model.conv[key(e)].block[0].weight for e in PAPER_AUTHOR[1]]
    assert not torch.equal(weights[0], weights[1])


def test_parameters_that_cannot_be_reset_warn():
    with pytest.warns(UserWarning, match=r"conv\.block\.2' \(Scale\) has no reset_parameters"):
        model = to_hetero(hetero_layer(MLPConv(4, scaled=True)), PAPER_AUTHOR)
    weights = [model.conv[key(e)].block[0].weight for e in PAPER_AUTHOR[1]]
    assert not torch.equal(weights[0], weights[1])
    x, ei = hetero_inputs(PAPER_AUTHOR)
    out = model(x, ei)
    for t, expected in conv_reference(model.conv, x, ei, PAPER_AUTHOR).items():
        torch.testing.assert_close(out[t], expected)


def test_gcn_on_two_relations_between_the_same_node_types():
    metadata = (["paper"], [("paper", "cites", "paper"), ("paper", "extends", "paper")])
    torch.manual_seed(0)
    model = to_hetero(hetero_layer(gnn.GCNConv(4, 3)), metadata)
    x, ei = hetero_inputs(metadata, num_nodes={"paper": 7})
    out = model(x, ei)
    expected = sum(model.conv[key(e)](x["paper"], ei[e]) for e in metadata[1])
    torch.testing.assert_close(out["paper"], expected)


def test_self_loops_on_a_bipartite_relation_name_the_layer_and_relation():
    with pytest.raises(ValueError) as info:
        to_hetero(hetero_layer(gnn.GCNConv(4, 3)), PAPER_AUTHOR)
    message = str(info.value)
    assert "'conv' (GCNConv)" in message and "('paper', 'written_by', 'author')" in message
    assert "add_self_loops=False" in message
    to_hetero(hetero_layer(gnn.GATConv((-1, -1), 3, add_self_loops=False)), PAPER_AUTHOR)


def test_full_models_with_lazy_channels():
    torch.manual_seed(0)
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 6, "author": 3})
    sage = to_hetero(gnn.GraphSAGE((-1, -1), 8, num_layers=2, out_channels=3), PAPER_AUTHOR)
    out = sage(x, ei)
    h = {t: v.relu() for t, v in conv_reference(sage.get_submodule("convs.0"), x, ei,
                                                 PAPER_AUTHOR).items()}
    h = conv_reference(sage.get_submodule("convs.1"), h, ei, PAPER_AUTHOR)
    for t in x:
        torch.testing.assert_close(out[t], h[t])

    class GAT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = gnn.GATConv((-1, -1), 4, heads=2, add_self_loops=False)
            self.conv2 = gnn.GATConv((-1, -1), 3, add_self_loops=False)

        def forward(self, x, edge_index):
            return self.conv2(F.elu(self.conv1(x, edge_index)), edge_index)

    gat = to_hetero(GAT(), PAPER_AUTHOR).eval()
    out = gat(x, ei)
    h = {t: F.elu(v) for t, v in conv_reference(gat.conv1, x, ei, PAPER_AUTHOR).items()}
    for t, expected in conv_reference(gat.conv2, h, ei, PAPER_AUTHOR).items():
        torch.testing.assert_close(out[t], expected)
    assert gat.conv1["author__writes__paper"].lin_src.weight.shape == (8, 3)


def test_static_graphs_with_a_batch_dimension():
    torch.manual_seed(0)
    model = to_hetero(hetero_layer(gnn.SAGEConv((-1, -1), 3)), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    batched = {t: torch.stack([v, 2 * v, -v]) for t, v in x.items()}  # [B, N, C]
    out = model(batched, ei)
    for t, expected in conv_reference(model.conv, batched, ei, PAPER_AUTHOR).items():
        assert out[t].shape == (3, 5, 3)
        torch.testing.assert_close(out[t], expected)
    # each graph of the batch equals the model on that graph alone
    single = model({t: v[1] for t, v in batched.items()}, ei)
    for t in x:
        torch.testing.assert_close(out[t][1], single[t])


def test_edge_level_linear_with_tuple_output():
    class EdgeModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.node_lin = gnn.Linear(-1, 3)
            self.edge_lin = gnn.Linear(-1, 2)

        def forward(self, x, edge_attr):
            return self.node_lin(x), self.edge_lin(edge_attr).relu()

    model = to_hetero(EdgeModel(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    attr = {e: torch.randn(v.shape[1], 1 + k) for k, (e, v) in enumerate(ei.items())}
    nodes, edges = model(x, attr)
    assert set(edges) == set(PAPER_AUTHOR[1])
    for e in PAPER_AUTHOR[1]:
        torch.testing.assert_close(edges[e], model.edge_lin[key(e)](attr[e]).relu())
    for t in x:
        torch.testing.assert_close(nodes[t], model.node_lin[t](x[t]))


def test_gine_conv_fed_by_an_edge_level_linear():
    class GINE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.edge_lin = gnn.Linear(-1, 4)
            mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                      torch.nn.Linear(8, 8))
            self.conv = gnn.GINEConv(mlp, train_eps=True)

        def forward(self, x, edge_index, edge_attr):
            return self.conv(x, edge_index, self.edge_lin(edge_attr))

    torch.manual_seed(0)
    model = to_hetero(GINE(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    attr = {e: torch.randn(v.shape[1], 3) for e, v in ei.items()}
    out = model(x, ei, attr)
    edge = {e: model.edge_lin[key(e)](attr[e]) for e in attr}
    expected = conv_reference(model.conv, x, ei, PAPER_AUTHOR, edge=edge)
    for t in x:
        torch.testing.assert_close(out[t], expected[t])


class Pull(gnn.MessagePassing):
    """Messages flow against the edges: each source averages x_j - x_i over its targets."""

    def __init__(self):
        super().__init__(aggr="mean", flow="target_to_source")

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=x)

    def message(self, x_i, x_j):
        return x_j - x_i


def test_target_to_source_pairs_reach_the_source_type():
    model = to_hetero(hetero_layer(Pull()), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    out = model(x, ei)
    for t in x:
        expected = torch.zeros_like(x[t])
        for e in [e for e in PAPER_AUTHOR[1] if e[0] == t]:
            rows = torch.zeros_like(x[t])
            count = torch.zeros(x[t].shape[0])
            for s, d in ei[e].t().tolist():  # edge s -> d; the message goes to s
                rows[s] += x[e[2]][d] - x[t][s]
                count[s] += 1
            expected += rows / count.clamp(min=1).view(-1, 1)
        torch.testing.assert_close(out[t], expected)


@pytest.mark.parametrize("readout", ["function", "module"])
def test_graph_level_pooling_is_combined_with_mean(readout):
    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.SAGEConv(4, 3)
            self.pool = gnn.aggr.MeanAggregation()
            self.head = torch.nn.Linear(3, 2)

        def forward(self, x, edge_index, batch):
            h = self.conv(x, edge_index).relu()
            if readout == "function":
                g = gnn.global_mean_pool(h, batch)
            else:
                g = self.pool(h, batch)
            return self.head(g)

    torch.manual_seed(0)
    model = to_hetero(Pooled(), PAPER_AUTHOR, aggr="mean")
    x, ei = hetero_inputs(PAPER_AUTHOR, num_nodes={"paper": 6, "author": 4})
    batch = {"paper": torch.tensor([0, 0, 1, 1, 1, 0]), "author": torch.tensor([1, 0, 0, 1])}
    out = model(x, ei, batch)
    h = conv_reference(model.conv, x, ei, PAPER_AUTHOR, aggr="mean")
    pooled = []
    for t in x:
        rows = h[t].relu()
        pooled.append(torch.stack([rows[batch[t] == g].mean(0) for g in range(2)]))
    expected = model.head((pooled[0] + pooled[1]) / 2)
    assert torch.is_tensor(out) and out.shape == (2, 2)
    torch.testing.assert_close(out, expected)
