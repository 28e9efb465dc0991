"""to_hetero and to_hetero_with_bases reproduce a relational GCN exactly.

RGCN: x'_i = Theta_root x_i + sum_r (aggr_{j in N_r(i)} Theta_r x_j) + b.
* to_hetero of ``conv(x) + root(x)``, with ``conv`` a bias-free, root-free SAGEConv
  (aggr per relation) and relation outputs summed, is RGCNConv(aggr=...) once the copy
  for relation r holds Theta_r and every node type's root copy holds Theta_root, b;
* to_hetero_with_bases of the same model with a sum-aggregating conv is the
  basis-decomposed RGCNConv(aggr="add", num_bases=B): copy b holds V_b and its relation
  coefficients comp[:, b]; the root is shared.
"""
import pytest
import torch

import gfx.nn as gnn
from gfx.nn.conv.rgcn_conv import RGCNConv
from gfx.passes.to_hetero import to_hetero
from gfx.passes.to_hetero_with_bases import to_hetero_with_bases
from tests.hetero.graphs import PAPER_AUTHOR, hetero_inputs, key
from tests.hetero.test_to_hetero_with_bases import merged, split

NODE_TYPES, EDGE_TYPES = PAPER_AUTHOR


class ConvPlusRoot(torch.nn.Module):
    def __init__(self, aggr):
        super().__init__()
        self.conv = gnn.SAGEConv(4, 3, aggr=aggr, root_weight=False, bias=False)
        self.root = gnn.Linear(4, 3)

    def forward(self, x, edge_index):
        return self.conv(x, edge_index) + self.root(x)


def rgcn_reference(rgcn, x, ei):
    x_all, ei_all, rel, counts = merged(x, ei)
    return split(rgcn(x_all, ei_all, rel), counts)


@pytest.mark.parametrize("aggr", ["mean", "add", "max"])
def test_to_hetero_equals_rgcn(aggr):
    torch.manual_seed(0)
    rgcn = RGCNConv(4, 3, len(EDGE_TYPES), aggr=aggr).double()
    model = to_hetero(ConvPlusRoot("sum" if aggr == "add" else aggr), PAPER_AUTHOR).double()
    with torch.no_grad():
        for r, edge_type in enumerate(EDGE_TYPES):
            model.conv[key(edge_type)].lin_l.weight.copy_(rgcn.weight[r].t())
        for t in NODE_TYPES:
            model.root[t].weight.copy_(rgcn.root.t())
            model.root[t].bias.copy_(rgcn.bias)
    x, ei = hetero_inputs(PAPER_AUTHOR, num_nodes={"paper": 6, "author": 4},
                          dtype=torch.float64)
    out, expected = model(x, ei), rgcn_reference(rgcn, x, ei)
    for t in NODE_TYPES:
        torch.testing.assert_close(out[t], expected[t])


@pytest.mark.parametrize("num_bases", [1, 2, 3])
def test_to_hetero_with_bases_equals_basis_decomposed_rgcn(num_bases):
    torch.manual_seed(0)
    rgcn = RGCNConv(4, 3, len(EDGE_TYPES), num_bases=num_bases, aggr="add").double()
    model = to_hetero_with_bases(ConvPlusRoot("sum"), PAPER_AUTHOR,
                                 num_bases=num_bases).double()
    with torch.no_grad():
        for b, conv in enumerate(model.conv.convs):
            conv.lin_l.weight.copy_(rgcn.weight[b].t())
            conv.edge_type_weight.copy_(rgcn.comp[:, b].view(1, -1))
        model.root.weight.copy_(rgcn.root.t())
        model.root.bias.copy_(rgcn.bias)
    x, ei = hetero_inputs(PAPER_AUTHOR, num_nodes={"paper": 6, "author": 4},
                          dtype=torch.float64)
    out, expected = model(x, ei), rgcn_reference(rgcn, x, ei)
    for t in NODE_TYPES:
        torch.testing.assert_close(out[t], expected[t])
