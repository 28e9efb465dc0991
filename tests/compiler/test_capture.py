import pytest
import torch

import gfx
from gfx.transformer import Transformer
from tests.compiler.models import GCN, EdgeGate


def levels(gm):
    return {n.name: n.meta["level"] for n in gm.graph.nodes}


def test_layers_are_leaves_and_levels_are_annotated():
    gm = gfx.capture(GCN())
    calls = [n for n in gm.graph.nodes if n.op == "call_module"]
    assert [n.target for n in calls] == ["conv1", "conv2"]
    lv = levels(gm)
    assert lv["x"] == "node" and lv["edge_index"] == "edge"
    assert lv["conv1"] == "node" and lv["relu"] == "node"
    assert lv["output"] == "node"


def test_input_map_overrides_names_and_get_attr_is_level_free():
    class WithParam(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(3))

        def forward(self, feats, edge_attr):
            return feats * self.scale, edge_attr * 2

    gm = gfx.capture(WithParam(), input_map={"feats": "edge"})
    lv = levels(gm)
    assert lv["feats"] == "edge" and lv["scale"] is None and lv["mul"] == "edge"
    with pytest.raises(ValueError, match="not a level"):
        gfx.capture(WithParam(), input_map={"feats": "vertex"})


def test_captured_module_equals_eager():
    model = GCN().eval()
    x, ei = torch.randn(5, 4), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    torch.testing.assert_close(gfx.capture(model)(x, ei), model(x, ei))


def test_data_dependent_control_flow_names_the_line():
    class Branchy(torch.nn.Module):
        def forward(self, x, edge_index):
            if x.sum() > 0:  # data-dependent: cannot be traced
                return x
            return -x

    with pytest.raises(gfx.CaptureError) as info:
        gfx.capture(Branchy())
    message = str(info.value)
    assert "test_capture.py" in message and "if x.sum() > 0" in message
    assert "torch.fx.wrap" in message


def test_sources_point_at_user_code():
    gm = gfx.capture(GCN())
    conv = next(n for n in gm.graph.nodes if n.target == "conv1")
    assert "models.py" in conv.meta["source"] and "self.conv1" in conv.meta["source"]


def test_transformer_dispatches_by_kind_and_initialises_submodules():
    seen, inits = [], []

    class Recorder(Transformer):
        def call_message_passing_module(self, node, target, name):
            seen.append(("mp", target, self.has_node_level_arg(node),
                         self.has_edge_level_arg(node)))

        def call_function(self, node, target, name):
            seen.append(("fn", name, self.is_node_level(node)))

        def init_submodule(self, module, target):
            inits.append(target)
            return module

    gm = Recorder(GCN()).transform()
    assert ("mp", "conv1", True, True) in seen and ("fn", "relu", True) in seen
    assert sorted(inits) == ["conv1", "conv2"]
    assert isinstance(gm, torch.fx.GraphModule)


def test_transformer_replace_all_uses_with():
    class DoubleConvOutput(Transformer):
        def call_message_passing_module(self, node, target, name):
            with self.graph.inserting_after(node):
                doubled = self.graph.call_function(torch.mul, (node, 2.0))
            doubled.meta["level"] = "node"
            self.replace_all_uses_with(node, doubled)

    model = EdgeGate(3).eval()

    class Wrap(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = model

        def forward(self, x, edge_index, edge_attr):
            return self.layer(x, edge_index, edge_attr)

    gm = DoubleConvOutput(Wrap()).transform()
    x, ei, w = torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]]), torch.rand(3)
    torch.testing.assert_close(gm(x, ei, w), 2 * model(x, ei, w))
