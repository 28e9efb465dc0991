"""MetaLayer: edge, node and global models called in order with the documented
arguments."""
import pytest
import torch

from gfx.nn import MetaLayer
from gfx.ops import scatter


class EdgeModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2 * 3 + 2 + 4, 2)

    def forward(self, src, dst, edge_attr, u, batch):
        return self.lin(torch.cat([src, dst, edge_attr, u[batch]], dim=1))


class NodeModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3 + 2, 3)

    def forward(self, x, edge_index, edge_attr, u, batch):
        agg = scatter(edge_attr, edge_index[1], 0, x.size(0), "mean")
        return self.lin(torch.cat([x, agg], dim=1))


class GlobalModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4 + 3, 4)

    def forward(self, x, edge_index, edge_attr, u, batch):
        return self.lin(torch.cat([u, scatter(x, batch, 0, u.size(0), "mean")], dim=1))


def test_updates_in_order():
    torch.manual_seed(0)
    x, u = torch.randn(5, 3), torch.randn(2, 4)
    batch = torch.tensor([0, 0, 0, 1, 1])
    edge_index = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 0, 4, 3]])
    edge_attr = torch.randn(5, 2)
    em, nm, gm = EdgeModel(), NodeModel(), GlobalModel()
    op = MetaLayer(em, nm, gm)
    x2, e2, u2 = op(x, edge_index, edge_attr, u, batch)
    want_e = torch.stack([em.lin(torch.cat([x[j], x[i], edge_attr[k], u[batch[j]]]))
                          for k, (j, i) in enumerate(edge_index.t().tolist())])
    torch.testing.assert_close(e2, want_e)
    torch.testing.assert_close(x2, nm(x, edge_index, want_e, u, batch))
    torch.testing.assert_close(u2, gm(x2, edge_index, want_e, u, batch))
    # Missing models leave their features alone.
    x3, e3, u3 = MetaLayer(None, nm, None)(x, edge_index, edge_attr, u, batch)
    assert e3 is edge_attr and u3 is u
    torch.testing.assert_close(x3, nm(x, edge_index, edge_attr, u, batch))


def test_repr_reset_and_errors():
    op = MetaLayer(torch.nn.Linear(2, 2), None, None)
    assert str(op) == ("MetaLayer(\n  edge_model=Linear(in_features=2, out_features=2, "
                       "bias=True),\n  node_model=None,\n  global_model=None\n)")
    before = op.edge_model.weight.detach().clone()
    op.reset_parameters()
    assert not torch.equal(before, op.edge_model.weight)
    with pytest.raises(ValueError, match="edge_index"):
        op(torch.randn(3, 2), torch.tensor([0, 1]))
