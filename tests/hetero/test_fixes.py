"""The traps of the reference to_hetero that gfx fixes (docs/to_hetero.md), one test each."""
import keyword
import pickle
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import gfx
import gfx.nn as gnn
from gfx.passes._hetero_common import MissingTypeError, type_keys
from gfx.passes.to_hetero import to_hetero
from tests.hetero.graphs import PAPER_AUTHOR, hetero_inputs, key
from tests.hetero.test_to_hetero import LinSageLin, hetero_layer

ONE_WAY = (["paper", "author"], [("author", "writes", "paper"), ("paper", "cites", "paper")])


class TwoLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = gnn.SAGEConv((-1, -1), 4)
        self.conv2 = gnn.SAGEConv((-1, -1), 3)

    def forward(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


# ---------------------------------------------------------------- node types without messages
def test_a_node_type_without_incoming_relations_is_named_at_transform_time():
    with pytest.raises(ValueError) as info:
        to_hetero(TwoLayers(), ONE_WAY)
    message = str(info.value)
    assert "'author'" in message and "layer 'conv1' (SAGEConv at " in message
    assert "drop_unreached=True" in message


def test_dropping_unreached_node_types():
    torch.manual_seed(0)
    model = to_hetero(TwoLayers(), ONE_WAY, drop_unreached=True)
    x, ei = hetero_inputs(ONE_WAY)
    out = model(x, ei)
    assert set(out) == {"paper"}
    # layer 1 reaches paper through both relations; layer 2 has no author input left,
    # so only paper -> paper remains.
    writes, cites = ONE_WAY[1]
    h = (model.conv1[key(writes)]((x["author"], x["paper"]), ei[writes])
         + model.conv1[key(cites)](x["paper"], ei[cites])).relu()
    torch.testing.assert_close(out["paper"], model.conv2[key(cites)](h, ei[cites]))


# ---------------------------------------------------------------- train() / eval()
class Dropping(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = gnn.Linear(-1, 16)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, x):
        h = F.dropout(self.lin(x), p=0.5, training=self.training)
        return self.dropout(h) + F.dropout(h, p=0.3, training=not self.training)


@pytest.mark.parametrize("start_in_eval", [False, True])
def test_train_and_eval_are_honoured_after_transformation(start_in_eval):
    base = Dropping()
    if start_in_eval:
        base.eval()
    model = to_hetero(base, PAPER_AUTHOR)
    x, _ = hetero_inputs(PAPER_AUTHOR, num_nodes={"paper": 50, "author": 50})
    model.eval()
    h = {t: model.lin[t](x[t]) for t in x}
    first = model(x)
    # eval: the two training-mode dropouts are off, the 'not training' one is on
    assert not torch.equal(first["paper"], 2 * h["paper"])
    again = model(x)
    assert not torch.equal(first["paper"], again["paper"])
    model.train()
    out = model(x)
    # train: the 'not training' dropout is off, the others drop about half the entries
    zeros = [(out[t] - h[t] == -h[t]).float().mean() for t in x]
    assert all(0.1 < z < 0.6 for z in zeros)


def test_python_branches_on_training_warn():
    class Branch(torch.nn.Module):
        def forward(self, x):
            if self.training:
                return x * 2
            return x

    with pytest.warns(UserWarning, match="depends on self.training"):
        model = to_hetero(Branch(), PAPER_AUTHOR)
    x, _ = hetero_inputs(PAPER_AUTHOR)
    torch.testing.assert_close(model.eval()(x)["paper"], 2 * x["paper"])  # frozen in train


# ---------------------------------------------------------------- any type name
NAMES = ["paper", "written by", "a-b", "x<=y", "論文", "keys", "type", "class", "training",
         "", "_", "x", "a__b", "b__c", "trailing_", "x000020"]


def test_type_keys_are_distinct_and_do_not_shadow_attributes():
    types = NAMES + [(a, r, b) for a in NAMES[:4] for r in ("to", "a__b", "") for b in NAMES[:3]]
    types += [("a__b", "c", "d"), ("a", "b__c", "d")]
    keys = list(type_keys(types).values())
    assert len(set(keys)) == len(keys)
    container = torch.nn.ModuleDict()
    for k in keys:
        assert k and "." not in k and not hasattr(container, k) and not keyword.iskeyword(k)


def test_type_keys_are_the_reference_keys_where_those_work():
    keys = type_keys(["paper", "a-b", "c d", "x<=y", "a__b", "keys", "a.b",
                      ("paper", "cites", "paper"), ("paper", "rev-to", "a-b")])
    assert keys["paper"] == "paper" and keys["a-b"] == "a_b" and keys["c d"] == "c_d"
    assert keys["x<=y"] == "x<=y" and keys["a__b"] == "a__b"
    assert keys[("paper", "cites", "paper")] == "paper__cites__paper"
    assert keys[("paper", "rev-to", "a-b")] == "paper__rev_to__a_b"
    # Unusable or ambiguous reference keys are escaped.
    assert keys["keys"] == "keys_" and keys["a.b"] == "ax00002eb_"
    clash = type_keys(["rev-to", "rev_to"])
    assert clash == {"rev-to": "revx00002dto_", "rev_to": "revx00005fto_"}


@given(st.lists(st.text(max_size=4), min_size=2, max_size=40, unique=True))
def test_type_keys_are_injective(names):
    edges = [(a, "r", b) for a in names[:5] for b in names[:5]]
    keys = type_keys(names + edges)
    assert len(set(keys.values())) == len(keys)


@given(st.lists(st.text(min_size=0, max_size=5), min_size=2, max_size=3, unique=True),
       st.text(max_size=4))
def test_models_with_any_type_names_run_and_round_trip(node_types, relation):
    edge_types = [(node_types[0], relation, node_types[1]), (node_types[1], relation, node_types[0])]
    metadata = (node_types, edge_types)
    torch.manual_seed(0)
    model = to_hetero(hetero_layer(gnn.SAGEConv((-1, -1), 3)), metadata, drop_unreached=True)
    x, ei = hetero_inputs(metadata)
    out = model(x, ei)
    for t in node_types[:2]:
        e = [e for e in edge_types if e[2] == t][0]
        key = type_keys(node_types + edge_types)[e]
        torch.testing.assert_close(out[t], model.conv[key]((x[e[0]], x[t]), ei[e]))
    restored = pickle.loads(pickle.dumps(model))
    torch.testing.assert_close(restored(x, ei)[node_types[0]], out[node_types[0]])


# ---------------------------------------------------------------- missing keys
def test_missing_dict_entries_name_the_type_and_argument():
    model = to_hetero(LinSageLin(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    with pytest.raises(MissingTypeError, match=r"'x' has no entry for node type 'author'"):
        model({"paper": x["paper"]}, ei)
    partial = {e: v for e, v in ei.items() if e[1] != "writes"}
    with pytest.raises(KeyError, match=r"edge type \('author', 'writes', 'paper'\)"):
        model(x, partial)
    with pytest.raises(TypeError, match="'x' must be a dict keyed by node type"):
        model(x["paper"], ei)


def test_unused_entries_are_not_required():
    class OnlyLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = gnn.Linear(-1, 2)

        def forward(self, x, edge_index):
            return self.lin(x)

    model = to_hetero(OnlyLinear(), PAPER_AUTHOR)
    x, _ = hetero_inputs(PAPER_AUTHOR)
    assert set(model(x, {})) == {"paper", "author"}


# ---------------------------------------------------------------- lazy channels and devices
def test_lazy_channels_materialise_with_the_inputs_dtype():
    # (Devices: see the CUDA test below; an uninitialised CPU parameter cannot become a
    # meta tensor, so the meta device cannot stand in for a second device here.)
    model = to_hetero(TwoLayers(), PAPER_AUTHOR)
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 6, "author": 3},
                          dtype=torch.float64)
    out = model(x, ei)
    assert {v.dtype for v in out.values()} == {torch.float64}
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    assert model.conv1["paper__written_by__author"].lin_l.weight.shape == (4, 6)
    assert model.conv1["paper__written_by__author"].lin_r.weight.shape == (4, 3)


@pytest.mark.gpu
def test_lazy_channels_materialise_on_cuda():
    model = to_hetero(TwoLayers(), PAPER_AUTHOR).cuda()
    x, ei = hetero_inputs(PAPER_AUTHOR)
    out = model({t: v.cuda() for t, v in x.items()}, {e: v.cuda() for e, v in ei.items()})
    assert all(v.is_cuda for v in out.values())
    assert all(p.is_cuda for p in model.parameters())


# ---------------------------------------------------------------- pickling and saving
def test_the_result_pickles_and_survives_torch_save(tmp_path):
    torch.manual_seed(0)
    model = to_hetero(LinSageLin(), PAPER_AUTHOR).eval()
    x, ei = hetero_inputs(PAPER_AUTHOR)
    expected = model(x, ei)
    path = tmp_path / "model.pt"
    torch.save(model, path)
    for restored in (torch.load(path, weights_only=False), pickle.loads(pickle.dumps(model))):
        out = restored(x, ei)
        for t in expected:
            torch.testing.assert_close(out[t], expected[t])
    fresh = to_hetero(LinSageLin(), PAPER_AUTHOR)
    fresh(x, ei)  # materialise the lazy weights, then load the trained ones
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh.eval()(x, ei)["author"], expected["author"])


# ---------------------------------------------------------------- compiling
@pytest.mark.parametrize("make", [LinSageLin, TwoLayers, Dropping])
def test_compiled_equals_eager_forward_and_gradients(make):
    torch.manual_seed(0)
    model = to_hetero(make(), PAPER_AUTHOR).eval()
    x, ei = hetero_inputs(PAPER_AUTHOR, dtype=torch.float64)
    model.double()
    inputs = (x,) if make is Dropping else (x, ei)
    model(*inputs)  # materialise lazy weights
    if make is Dropping:
        model.train()  # only the 'not training' dropout is off: compare in train mode
        torch.manual_seed(1)
    compiled = gfx.compile(model)
    leaf_a = {t: v.clone().requires_grad_() for t, v in x.items()}
    leaf_b = {t: v.clone().requires_grad_() for t, v in x.items()}
    torch.manual_seed(2)
    out_a = compiled(leaf_a, *inputs[1:])
    torch.manual_seed(2)
    out_b = model(leaf_b, *inputs[1:])
    for t in out_b:
        torch.testing.assert_close(out_a[t], out_b[t])
    sum(v.sum() for v in out_a.values()).backward()
    sum(v.sum() for v in out_b.values()).backward()
    for t in x:
        torch.testing.assert_close(leaf_a[t].grad, leaf_b[t].grad)


# ---------------------------------------------------------------- clear errors
def test_bad_arguments_are_refused_with_clear_errors():
    with pytest.raises(ValueError, match="unknown aggr 'avg'"):
        to_hetero(LinSageLin(), PAPER_AUTHOR, aggr="avg")
    with pytest.raises(ValueError, match="uses node type 'venue'"):
        to_hetero(LinSageLin(), (["paper"], [("paper", "at", "venue")]))
    with pytest.raises(TypeError, match="metadata"):
        to_hetero(LinSageLin(), ["paper"])

    class Mixed(torch.nn.Module):
        def forward(self, x, edge_index):
            return x[edge_index[0]]

    with pytest.raises(ValueError, match="combines node-level and edge-level values"):
        to_hetero(Mixed(), PAPER_AUTHOR)


def test_created_nodes_carry_their_type():
    model = to_hetero(LinSageLin(), PAPER_AUTHOR)
    typed = {n.name: n.meta.get("type") for n in model.graph.nodes}
    assert typed["lin1__author"] == "author"
    assert typed["conv__paper__written_by__author"] == "author"
    assert typed["edge_index__author__writes__paper"] == ("author", "writes", "paper")


def test_debug_prints_the_graph_before_and_after(capsys):
    with warnings.catch_warnings():
        to_hetero(LinSageLin(), PAPER_AUTHOR, debug=True)
    printed = capsys.readouterr().out
    assert "graph before" in printed and "conv__paper__cites__paper" in printed


def test_a_module_on_per_type_and_on_graph_level_values_is_refused():
    class Both(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x, u):
            return self.lin(x), self.lin(u)

    with pytest.raises(ValueError, match="module 'lin' is called on node-level values"):
        to_hetero(Both(), PAPER_AUTHOR, input_map={"u": "graph"})

    class NodeAndEdge(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x, edge_attr):
            return self.lin(x), self.lin(edge_attr)

    with pytest.raises(ValueError, match="called on node-level and on edge-level values"):
        to_hetero(NodeAndEdge(), PAPER_AUTHOR)


def test_the_result_starts_in_the_models_mode():
    model = to_hetero(Dropping().eval(), PAPER_AUTHOR)
    assert not any(m.training for m in model.modules())
    x, _ = hetero_inputs(PAPER_AUTHOR)
    h = {t: model.lin[t](x[t]) for t in x}
    out = model(x)
    assert not torch.equal(out["paper"], 2 * h["paper"])  # only 'not training' is active
    model.train()
    assert all(m.training for m in model.modules())
