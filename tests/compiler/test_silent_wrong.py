"""Regression tests for issue 17: compiled results must never be silently wrong."""
import pytest
import torch

import gfx
from gfx.pipeline import CLEANUP, run_passes

BACKENDS = ["reference", "cpp"]


class _MulThenInPlace(torch.nn.Module):
    def forward(self, x, edge_index):
        y = x.clone()
        a = y * 2
        y.mul_(3)
        b = y * 2  # reads the updated y: must not be merged with a
        return a + b


class _GatherThenInPlace(torch.nn.Module):
    def forward(self, x, edge_index):
        y = x.clone()
        a = gfx.ops.gather(y, edge_index[0])
        torch.relu_(y)
        b = gfx.ops.gather(y, edge_index[0])
        return a + b


class _ViewThenInplaceModule(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.act = torch.nn.ReLU(inplace=True)

    def forward(self, x, edge_index):
        y = x.clone()
        a = y.view(-1).sum(0) * 1
        self.act(y)
        b = y.view(-1).sum(0) * 1
        return a + b


@pytest.mark.parametrize("model", [_MulThenInPlace, _GatherThenInPlace,
                                   _ViewThenInplaceModule])
def test_cse_does_not_merge_across_in_place_updates(model):
    x = torch.tensor([[1.0, -2.0], [3.0, -4.0], [-5.0, 6.0]])
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    gm = run_passes(gfx.lower(gfx.capture(model())), CLEANUP, check=True)
    torch.testing.assert_close(gm(x, ei), model()(x, ei))


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_in_place_update_between_equal_expressions(backend):
    x = torch.tensor([[1.0, -2.0], [3.0, -4.0], [-5.0, 6.0]])
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    for model in (_MulThenInPlace(), _GatherThenInPlace()):
        torch.testing.assert_close(gfx.compile(model, backend=backend)(x, ei), model(x, ei))


def _conv(name):
    import gfx.nn as nn
    torch.manual_seed(0)
    return {"GCNConv": lambda: nn.GCNConv(3, 2), "SAGEConv": lambda: nn.SAGEConv(3, 2),
            "GATConv": lambda: nn.GATConv(3, 2), "GINConv":
            lambda: nn.GINConv(torch.nn.Linear(3, 2))}[name]()


def _outcome(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return exc


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layer", ["GCNConv", "SAGEConv", "GATConv", "GINConv"])
@pytest.mark.parametrize("edge_index", [
    torch.tensor([[0, 1], [1, 2], [2, 3], [3, 0]]),          # [E, 2]
    torch.tensor([[0, 1, 2], [1, 2, 3], [2, 3, 0]]),         # [3, E]
    torch.tensor([0, 1, 2, 3]),                              # 1-D
    torch.tensor([[0.0, 1.0], [1.0, 2.0]]),                  # float
], ids=["E_by_2", "3_by_E", "1d", "float"])
def test_bad_edge_index_shape_raises_like_eager(backend, layer, edge_index):
    conv = _conv(layer).eval()
    x = torch.randn(4, 3)
    eager = _outcome(lambda: conv(x, edge_index))
    assert isinstance(eager, Exception), "eager accepts this input; the case is moot"
    compiled = gfx.compile(conv, backend=backend)
    got = _outcome(lambda: compiled(x, edge_index))
    assert isinstance(got, type(eager)), f"eager raised {eager!r}, compiled gave {got!r}"
    # After a bad call, a good one still runs.
    good = torch.tensor([[0, 1, 2], [1, 2, 3]])
    torch.testing.assert_close(compiled(x, good), conv(x, good))


def test_errors_in_a_compiled_graph_keep_their_type_and_name_the_node():
    from gfx.compile import CompiledGraphError

    class Bad(torch.nn.Module):
        def forward(self, x, edge_index):
            return gfx.ops.gather(x, edge_index[0] + 10)  # out of range at run time

    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(IndexError) as eager:
        Bad()(x, ei)
    for backend in BACKENDS:
        with pytest.raises(IndexError) as info:
            gfx.compile(Bad(), backend=backend)(x, ei)
        assert isinstance(info.value, CompiledGraphError)
        text = str(info.value)
        assert str(eager.value) in text and "gather" in text
        assert "test_silent_wrong.py" in text  # the user's line


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        from gfx.nn import GCNConv
        self.conv = GCNConv(3, 4)
        self.lin = torch.nn.Linear(4, 2)

    def forward(self, x, edge_index):
        h = torch.nn.functional.dropout(self.conv(x, edge_index), 0.5, self.training)
        return self.lin(h)


def _graph():
    return torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_load_state_dict_assign_is_followed(backend):
    torch.manual_seed(0)
    model = _Net().eval()
    compiled = gfx.compile(model, backend=backend)
    x, ei = _graph()
    compiled(x, ei)
    new = {k: torch.randn_like(v) for k, v in model.state_dict().items()}
    model.load_state_dict(new, assign=True)
    torch.testing.assert_close(compiled(x, ei), model(x, ei))


@pytest.mark.parametrize("backend", BACKENDS)
def test_eval_on_the_original_model_is_followed(backend):
    torch.manual_seed(0)
    model = _Net()
    compiled = gfx.compile(model, backend=backend)
    x, ei = _graph()
    compiled(x, ei)  # captured in training mode
    model.eval()
    assert not compiled.training
    torch.testing.assert_close(compiled(x, ei), model(x, ei))
    model.train()
    assert compiled.training
    assert not torch.equal(compiled(x, ei), compiled(x, ei)), "dropout must be active"


@pytest.mark.parametrize("backend", BACKENDS)
def test_hooks_registered_after_compiling_run(backend):
    torch.manual_seed(0)
    model = _Net().eval()
    compiled = gfx.compile(model, backend=backend)
    x, ei = _graph()
    compiled(x, ei)
    handle = model.conv.register_forward_hook(lambda m, args, out: out * 0 + 1)
    torch.testing.assert_close(compiled(x, ei), model(x, ei))
    handle.remove()
    hook_free = model(x, ei)
    torch.testing.assert_close(compiled(x, ei), hook_free)
    handle = model.lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    torch.testing.assert_close(compiled(x, ei), model(x, ei))
    handle.remove()


def _sage():
    from gfx.nn import SAGEConv
    torch.manual_seed(0)
    return SAGEConv(3, 2).eval()


@pytest.mark.parametrize("backend", BACKENDS)
def test_version_less_edit_of_edge_index_is_seen(backend):
    conv = _sage()
    compiled = gfx.compile(conv, backend=backend)
    x = torch.randn(6, 3)
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    torch.testing.assert_close(compiled(x, ei), conv(x, ei))
    ei.numpy()[1, 0] = 5  # a NumPy view: no version bump
    torch.testing.assert_close(compiled(x, ei), conv(x, ei))
    ei.data = torch.tensor([[5, 4, 3, 2], [0, 0, 0, 0]])
    torch.testing.assert_close(compiled(x, ei), conv(x, ei))


_STALE_SCRIPT = r"""
import torch, gfx, gfx.structure, gfx.compile as _  # noqa
import sys
sys.modules["gfx.compile"].revalidate = lambda value: False  # cache-based checks only
from gfx.nn import SAGEConv
conv = SAGEConv(3, 2).eval()
compiled = gfx.compile(conv, backend="cpp")
x = torch.randn(1000, 3)
ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
compiled(x, ei)
ei.numpy()[0, :] = 999  # now only valid for 1000 nodes, the caches saw 0..4
try:
    compiled(x[:5], ei)
except IndexError as exc:
    print("raised", exc)
else:
    print("no error")
"""


def test_generated_kernels_stay_in_bounds_when_caches_are_stale():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", _STALE_SCRIPT], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "raised" in done.stdout, done.stdout + done.stderr[-2000:]


def _fused_count(gm):
    return sum(str(n.target).startswith("gfx.fused") for n in gm.graph.nodes)


class _GCNNamed(torch.nn.Module):
    """Two GCN layers whose connectivity argument has a name without 'edge' in it."""

    def __init__(self):
        super().__init__()
        from gfx.nn import GCNConv
        self.c1, self.c2 = GCNConv(4, 8), GCNConv(8, 2)

    def forward(self, x, ei):
        return self.c2(self.c1(x, ei).relu(), ei)


class _GCNPlain(_GCNNamed):
    def forward(self, x, edge_index):
        return self.c2(self.c1(x, edge_index).relu(), edge_index)


def test_levels_come_from_dataflow_not_argument_names():
    torch.manual_seed(0)
    renamed = _GCNNamed().eval()
    gm = gfx.lower(gfx.capture(renamed))
    levels = {n.target: n.meta["level"] for n in gm.graph.nodes if n.op == "placeholder"}
    assert levels == {"x": "node", "ei": "edge"}
    compiled = gfx.compile(renamed, backend="cpp")
    x, ei = torch.randn(10, 4), torch.randint(0, 10, (2, 30))
    torch.testing.assert_close(compiled(x, ei), renamed(x, ei))
    plain = gfx.compile(_GCNPlain().eval(), backend="cpp").graph_module(x, ei)
    assert _fused_count(compiled.graph_module(x, ei)) == _fused_count(plain) == 2


def test_a_message_that_cannot_fuse_is_reported():
    from gfx.compile import FusionWarning
    from gfx.message_passing import MessagePassing

    class Sine(MessagePassing):
        def forward(self, x, edge_index):
            return self.propagate(edge_index, x=x)

        def message(self, x_j):
            return torch.sin(x_j)

    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    with pytest.warns(FusionWarning, match="'sin'.*not an elementwise op"):
        out = gfx.compile(Sine(), backend="cpp")(x, ei)
    torch.testing.assert_close(out, Sine()(x, ei))


_GLOBAL = torch.randn(6, 3)


class _DropsAGlobal(torch.nn.Module):
    def __init__(self):
        super().__init__()
        from gfx.nn import GCNConv
        self.conv = GCNConv(3, 2)

    def forward(self, x, edge_index):
        noise = torch.nn.functional.dropout(_GLOBAL, 0.5, self.training)
        return self.conv(x + noise + 0.1 * torch.rand(6, 3), edge_index)


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_ops_on_global_tensors_draw_on_every_call(backend):
    torch.manual_seed(0)
    model = _DropsAGlobal()
    compiled = gfx.compile(model, backend=backend)
    x, ei = torch.randn(6, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    assert not torch.equal(compiled(x, ei), compiled(x, ei)), "one mask reused"
    torch.manual_seed(3)
    eager = model(x, ei)
    torch.manual_seed(3)
    torch.testing.assert_close(compiled(x, ei), eager)


def test_in_place_update_of_a_global_tensor_is_refused_with_the_fix():
    from gfx.capture import CaptureError
    counter = torch.zeros(1)

    class Counts(torch.nn.Module):
        def forward(self, x, edge_index):
            counter.add_(1)
            return x * counter

    with pytest.raises(CaptureError, match="register_buffer"):
        gfx.compile(Counts(), backend="reference")(torch.ones(2, 1), torch.zeros(2, 0))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layer", ["GCNConv", "SAGEConv", "GATConv"])
def test_decomposed_layers_compile_fused(backend, layer):
    conv = _conv(layer).double()
    conv.decomposed_layers = 2
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    ei = torch.tensor([[0, 1, 2, 3, 5], [1, 2, 3, 4, 4]])
    compiled = gfx.compile(conv.eval(), backend=backend)
    got = compiled(x, ei)
    want = conv(x, ei)
    torch.testing.assert_close(got, want)
    gx, = torch.autograd.grad(got.sum(), x)
    wx, = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(gx, wx)
    if backend != "reference":
        assert _fused_count(compiled.graph_module(x, ei)) >= 2  # one per feature chunk


class _DictModel(torch.nn.Module):
    """HeteroConv style: dicts of node features and of edge indices, one layer per type."""

    def __init__(self):
        super().__init__()
        from gfx.nn import SAGEConv
        self.convs = torch.nn.ModuleDict({"p": SAGEConv(3, 2), "a": SAGEConv(3, 2)})

    def forward(self, x_dict, edge_index_dict):
        out = {}
        for (src, _, dst), ei in edge_index_dict.items():
            out[dst] = self.convs[src]((x_dict[src], x_dict[dst]), ei).relu()
        return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_dict_and_tuple_inputs_are_flattened(backend):
    torch.manual_seed(0)
    model = _DictModel().double()
    x = {"p": torch.randn(4, 3, dtype=torch.float64, requires_grad=True),
         "a": torch.randn(5, 3, dtype=torch.float64, requires_grad=True)}
    ei = {("p", "to", "a"): torch.tensor([[0, 1, 3], [4, 2, 0]]),
          ("a", "by", "p"): torch.tensor([[4, 2], [0, 3]])}
    compiled = gfx.compile(model, backend=backend)
    got, want = compiled(x, ei), model(x, ei)
    assert got.keys() == want.keys()
    for key in want:
        torch.testing.assert_close(got[key], want[key])
    grads = torch.autograd.grad(sum(v.sum() for v in got.values()), list(x.values()))
    expected = torch.autograd.grad(sum(v.sum() for v in want.values()), list(x.values()))
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e)
    if backend != "reference":
        assert _fused_count(compiled.graph_module(x, ei)) == 2
    # A layer called directly with an (x_src, x_dst) pair.
    conv = model.convs["p"]
    pair = (x["p"], x["a"])
    torch.testing.assert_close(gfx.compile(conv, backend=backend)(pair, ei[("p", "to", "a")]),
                               conv(pair, ei[("p", "to", "a")]))


def test_structured_input_with_a_changed_structure_names_the_argument():
    import gfx

    class Pair(torch.nn.Module):
        def forward(self, x, pair):
            return x + pair[0] * pair[1]

    compiled = gfx.compile(Pair(), backend="reference")
    x = torch.randn(3)
    torch.testing.assert_close(compiled(x, (x, 2)), x + x * 2)
    flat = compiled.graph_module(x, (x, 2)).meta["flat_inputs"]  # captured: two leaves
    with pytest.raises(TypeError, match="argument 'pair' has another structure"):
        flat.flatten({"x": x, "pair": (x, 2, 3)})
