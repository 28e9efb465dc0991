import torch
from hypothesis import given

import gfx
import gfx.nn as gnn
from gfx.compile import build_graph
from gfx.passes.reorder import move_linear_before_gather
from gfx.pipeline import CLEANUP, Pass, run_passes
from tests.graphs import edge_lists


class LinearMessage(gnn.MessagePassing):
    """The linear map is written per edge; it can run per node instead."""

    def __init__(self):
        super().__init__(aggr="sum")
        self.lin = gnn.Linear(3, 5)
        self.lin_t = torch.nn.Linear(3, 5, bias=False)

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=x)

    def message(self, x_i, x_j):
        return self.lin(x_j) * self.lin_t(x_i)


def reordered(model):
    return run_passes(build_graph(model.eval()), [Pass("reorder", move_linear_before_gather)]
                      + CLEANUP, check=True)


def test_linear_moves_before_the_gather():
    gm = reordered(LinearMessage())
    order = [n for n in gm.graph.nodes if n.op in ("call_module", "call_function")]
    for lin in (n for n in order if n.op == "call_module"):
        assert lin.args[0].op == "placeholder"  # applied to the node features
        (user,) = lin.users
        assert str(user.target).startswith("gfx.gather")


@given(edge_lists())
def test_reordered_equals_eager(graph):
    edge_index, n, _ = graph
    model = LinearMessage().double().eval()
    x = torch.randn(n, 3, dtype=torch.float64)
    torch.testing.assert_close(reordered(model)(x, edge_index), model(x, edge_index))


def test_linear_on_a_gather_used_twice_stays():
    import gfx.ops

    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = gnn.Linear(3, 3)

        def forward(self, x, edge_index):
            x_j = gfx.ops.gather(x, edge_index[0])
            return self.lin(x_j) + x_j

    gm = reordered(Twice())
    lin = next(n for n in gm.graph.nodes if n.op == "call_module")
    assert str(lin.args[0].target).startswith("gfx.gather")
