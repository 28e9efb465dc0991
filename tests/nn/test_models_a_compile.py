"""The models of issue 14 part A that are plain tensor programs capture with gfx and,
compiled, give the eager values and gradients."""
import pytest
import torch

import gfx
import gfx.nn as gnn

N = 10


class Rev(torch.nn.Module):
    """GroupAddRev is captured inside a model (its own forward is variadic)."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)
        self.rev1 = gnn.GroupAddRev(gnn.GCNConv(2, 2), num_groups=2)
        self.rev2 = gnn.GroupAddRev(gnn.GCNConv(2, 2), num_groups=2)

    def forward(self, x, edge_index):
        return self.rev2(self.rev1(self.lin(x), edge_index), edge_index)


def inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, 4, generator=g)
    edge_index = torch.randint(0, N, (2, 30), generator=g)
    return x, edge_index


CASES = {
    "LINKX": lambda x, ei: (gnn.LINKX(N, 4, 8, 3, 2, num_edge_layers=2).eval(), (x, ei)),
    "PMLP": lambda x, ei: (gnn.PMLP(4, 8, 3, 2).eval(), (x, ei)),
    "RECT_L": lambda x, ei: (gnn.RECT_L(4, 8), (x, ei)),
    "SignedGCN": lambda x, ei: (gnn.SignedGCN(4, 8, 2), (x, ei[:, :15], ei[:, 15:])),
    "LightGCN": lambda x, ei: (gnn.LightGCN(N, 4, 2), (ei, ei[:, :7])),
    "MaskLabel": lambda x, ei: (gnn.MaskLabel(3, 4), (x, torch.arange(N) % 3,
                                                      torch.arange(N) % 2 == 0)),
    "GroupAddRev": lambda x, ei: (Rev(), (x, ei)),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_matches_eager(name):
    torch.manual_seed(0)
    model, args = CASES[name](*inputs())
    compiled = gfx.compile(model)
    args_c = [a.clone().requires_grad_() if a.is_floating_point() else a for a in args]
    args_e = [a.clone().requires_grad_() if a.is_floating_point() else a for a in args]
    out_c, out_e = compiled(*args_c), model(*args_e)
    torch.testing.assert_close(out_c, out_e)
    seed = torch.randn_like(out_e)
    grads_c = torch.autograd.grad((out_c * seed).sum(), list(model.parameters()),
                                  allow_unused=True)
    grads_e = torch.autograd.grad((out_e * seed).sum(), list(model.parameters()),
                                  allow_unused=True)
    for a, b in zip(grads_c, grads_e):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b)
