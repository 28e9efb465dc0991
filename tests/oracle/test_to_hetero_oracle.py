"""to_hetero and to_hetero_with_bases against the reference library on the same weights.

Both libraries transform the same architecture (their own SAGEConv/Linear); the state
dicts have the same keys, so ours is loaded into theirs and outputs and gradients are
compared.  Only models that the reference handles are used here (plain type names,
every node type reached, no train/eval switching): the cases gfx fixes are in
tests/hetero/test_fixes.py.
"""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402
from gfx.passes.to_hetero import to_hetero  # noqa: E402
from gfx.passes.to_hetero_with_bases import to_hetero_with_bases  # noqa: E402
from tests.hetero.graphs import PAPER_AUTHOR, hetero_inputs  # noqa: E402

pyg = torch_geometric.nn


def make(lib):
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.Linear(-1, 8)
            self.conv1 = lib.SAGEConv((8, 8), 8)
            self.conv2 = lib.SAGEConv((-1, -1), 3, aggr="max")

        def forward(self, x, edge_index):
            h = self.conv1(self.lin(x).relu(), edge_index).relu()
            return self.conv2(torch.cat([h, h * 2], dim=-1), edge_index)

    return Model()


def compare(ours, theirs, x, ei):
    ours(x, ei)
    theirs(x, ei)  # materialise lazy weights in both
    assert set(ours.state_dict()) == set(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    xa = {t: v.clone().requires_grad_() for t, v in x.items()}
    xb = {t: v.clone().requires_grad_() for t, v in x.items()}
    out_a, out_b = ours(xa, ei), theirs(xb, ei)
    assert set(out_a) == set(out_b)
    for t in out_a:
        torch.testing.assert_close(out_a[t], out_b[t], atol=1e-5, rtol=1e-4)
    sum((v * (k + 1)).sum() for k, v in enumerate(out_a.values())).backward()
    sum((out_b[t] * (k + 1)).sum() for k, t in enumerate(out_a)).backward()
    for t in x:
        torch.testing.assert_close(xa[t].grad, xb[t].grad, atol=1e-5, rtol=1e-4)
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, grads[name].grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("aggr", ["sum", "mean", "max", "min", "mul"])
def test_to_hetero_against_the_reference(aggr):
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 6, "author": 3})
    compare(to_hetero(make(gnn), PAPER_AUTHOR, aggr=aggr).eval(),
            pyg.to_hetero(make(pyg), PAPER_AUTHOR, aggr=aggr).eval(), x, ei)


@pytest.mark.parametrize("num_bases", [2, 3])
def test_to_hetero_with_bases_against_the_reference(num_bases):
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 6, "author": 3})
    compare(to_hetero_with_bases(make(gnn), PAPER_AUTHOR, num_bases, in_channels={"x": 5}),
            pyg.to_hetero_with_bases(make(pyg), PAPER_AUTHOR, num_bases,
                                     in_channels={"x": 5}), x, ei)
