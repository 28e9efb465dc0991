import copy
import pickle
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch.nn import ReLU

import gfx
from gfx.nn import GCNConv, JumpingKnowledge, Linear, SAGEConv, Sequential

EDGE_INDEX = torch.tensor([[0, 1, 2, 3, 4, 2], [1, 2, 3, 4, 0, 0]])


def pair(a, b):
    return [a, b]


def two_conv_jk():
    torch.manual_seed(0)
    return Sequential("x, edge_index", [
        (GCNConv(3, 4), "x, edge_index -> x1"),
        ReLU(),
        (SAGEConv(4, 4), "x1, edge_index -> x2"),
        (lambda x1, x2: [x1, x2], "x1, x2 -> xs"),
        (JumpingKnowledge("cat"), "xs -> x"),
        Linear(8, 2),
    ])


def test_sequential_computes_the_declared_chain():
    model = two_conv_jk()
    x = torch.randn(5, 3)
    conv1, conv2, lin = model[0], model[2], model[5]
    x1 = F.relu(conv1(x, EDGE_INDEX))
    x2 = conv2(x1, EDGE_INDEX)
    expected = lin(torch.cat([x1, x2], dim=-1))
    torch.testing.assert_close(model(x, EDGE_INDEX), expected)
    torch.testing.assert_close(model(x, edge_index=EDGE_INDEX), expected)
    assert len(model) == 6 and isinstance(model[4], JumpingKnowledge)


def test_sequential_child_names_follow_positions_or_keys():
    model = two_conv_jk()
    assert [name for name, _ in model.named_children()] == \
        ["module_0", "module_1", "module_2", "module_4", "module_5"]
    named = Sequential("x, edge_index", OrderedDict([
        ("conv", (GCNConv(3, 4), "x, edge_index -> x")), ("act", ReLU())]))
    assert set(named.state_dict()) == {"conv.bias", "conv.lin.weight"}


def test_sequential_multiple_outputs_and_literal_arguments():
    model = Sequential("x, edge_index, w=None", [
        (GCNConv(3, 3), "x, edge_index, w -> h"),
        (lambda h: (h, 2 * h), "h -> (a, b)"),
        (torch.add, "a, b, alpha=3 -> c"),
        (pair, "a, c -> a, c"),
    ])
    x = torch.randn(5, 3)
    a, c = model(x, EDGE_INDEX)
    h = model[0](x, EDGE_INDEX)
    torch.testing.assert_close(a, h)
    torch.testing.assert_close(c, h + 3 * (2 * h))


def test_sequential_captures_lowers_and_matches_gradients():
    model = two_conv_jk().eval()
    low = gfx.lower(gfx.capture(model))
    assert [n.target for n in low.graph.nodes if n.op == "placeholder"] == ["x", "edge_index"]
    x1 = torch.randn(5, 3, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    out1, out2 = model(x1, EDGE_INDEX), low(x2, EDGE_INDEX)
    torch.testing.assert_close(out2, out1)
    out1.square().sum().backward()
    out2.square().sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad)


def test_sequential_importable_functions_stay_single_calls():
    model = Sequential("x", [(F.relu, "x -> x"), (torch.tanh, "x -> x")])
    gm = gfx.capture(model)
    targets = [n.target for n in gm.graph.nodes if n.op == "call_function"]
    assert targets == [F.relu, torch.tanh]


def test_sequential_copies_and_pickles():
    model = Sequential("x, edge_index", [(GCNConv(3, 4), "x, edge_index -> x"), ReLU(),
                                         (pair, "x, x -> out")]).eval()
    x = torch.randn(5, 3)
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert isinstance(other, Sequential) and not other.training
        for a, b in zip(other(x, EDGE_INDEX), model(x, EDGE_INDEX)):
            torch.testing.assert_close(a, b)
        assert other[0] is not model[0]


def test_sequential_errors():
    with pytest.raises(ValueError, match="first entry .* needs a header"):
        Sequential("x, edge_index", [ReLU()])
    with pytest.raises(ValueError, match="reads 'y', which is neither an input"):
        Sequential("x, edge_index", [(GCNConv(3, 4), "x, edge_index -> x"), (ReLU(), "y -> x")])
    with pytest.raises(ValueError, match="'inputs -> outputs'"):
        Sequential("x, edge_index", [(GCNConv(3, 4), "x, edge_index")])
    with pytest.raises(ValueError, match="outputs must be one or more names"):
        Sequential("x, edge_index", [(GCNConv(3, 4), "x, edge_index -> ")])
    with pytest.raises(ValueError, match="at least one entry"):
        Sequential("x", [])
    with pytest.raises(ValueError, match="cannot parse input_args"):
        Sequential("x,, y", [(ReLU(), "x -> x")])
    with pytest.raises(TypeError, match="is not callable"):
        Sequential("x", [(3, "x -> x")])


def test_sequential_graph_classifier_with_pooling_lowers():
    from gfx.nn import global_mean_pool
    torch.manual_seed(3)
    model = Sequential("x, edge_index, batch", [
        (torch.nn.Dropout(p=0.5), "x -> x"),
        (GCNConv(3, 4), "x, edge_index -> x1"),
        ReLU(),
        (GCNConv(4, 4), "x1, edge_index -> x2"),
        ReLU(),
        (lambda x1, x2: [x1, x2], "x1, x2 -> xs"),
        (JumpingKnowledge("cat", 4, num_layers=2), "xs -> x"),
        (global_mean_pool, "x, batch -> x"),
        Linear(8, 2),
    ]).eval()
    x, batch = torch.randn(5, 3), torch.tensor([0, 0, 0, 1, 1])
    x1 = F.relu(model[1](x, EDGE_INDEX))
    x2 = F.relu(model[3](x1, EDGE_INDEX))
    h = torch.cat([x1, x2], -1)
    pooled = torch.stack([h[:3].mean(0), h[3:].mean(0)])
    torch.testing.assert_close(model(x, EDGE_INDEX, batch), model[8](pooled))
    low = gfx.lower(gfx.capture(model))
    torch.testing.assert_close(low(x, EDGE_INDEX, batch), model(x, EDGE_INDEX, batch))


class Tagged(Sequential):
    def describe(self):
        return f"{len(self)} steps"


def test_sequential_subclass_and_annotated_inputs():
    model = Tagged("x: Tensor, edge_index: Tensor", [(GCNConv(3, 2), "x, edge_index -> x")])
    assert isinstance(model, Tagged) and model.describe() == "1 steps"
    assert isinstance(copy.deepcopy(model), Tagged)
    assert model(torch.randn(5, 3), EDGE_INDEX).shape == (5, 2)
