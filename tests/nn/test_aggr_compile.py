"""Every aggregation of issue 13 inside a message-passing layer: captured, lowered and
compiled (cpp backend) equals eager, on two graphs of different sizes (the padded widths
of the set aggregations are read when the compiled graph runs), values and gradients."""
import pytest
import torch

import gfx
import gfx.nn.aggr as aggr
from gfx.nn import SimpleConv

FACTORIES = {
    "median": lambda: aggr.MedianAggregation(),
    "quantile": lambda: aggr.QuantileAggregation([0.2, 0.8]),
    "vpa": lambda: aggr.VariancePreservingAggregation(),
    "lstm": lambda: aggr.LSTMAggregation(4, 4),
    "gru": lambda: aggr.GRUAggregation(4, 4),
    "set2set": lambda: aggr.Set2Set(4, 2),
    "sort": lambda: aggr.SortAggregation(2),
    "gmt": lambda: aggr.GraphMultisetTransformer(4, k=2),
    "attentional": lambda: aggr.AttentionalAggregation(torch.nn.Linear(4, 1)),
    "equilibrium": lambda: aggr.EquilibriumAggregation(4, 4, [3], grad_iter=2),
    "mlp": lambda: aggr.MLPAggregation(4, 4, max_num_elements=4, num_layers=1),
    "deep_sets": lambda: aggr.DeepSetsAggregation(torch.nn.Linear(4, 4)),
    "set_transformer": lambda: aggr.SetTransformerAggregation(4),
    "lcm": lambda: aggr.LCMAggregation(4, 4),
    "patch_transformer": lambda: aggr.PatchTransformerAggregation(4, 4, 2, 4),
}

GRAPHS = [
    (torch.randn(6, 4, generator=torch.Generator().manual_seed(0)),
     torch.tensor([[0, 1, 2, 3, 4, 5, 1], [1, 0, 1, 2, 2, 2, 5]])),
    (torch.randn(5, 4, generator=torch.Generator().manual_seed(1)),
     torch.tensor([[0, 1, 2, 3], [1, 1, 1, 4]])),
]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_compiled_equals_eager(name):
    torch.manual_seed(0)
    conv = SimpleConv(aggr=FACTORIES[name]())
    compiled = gfx.compile(conv, backend="cpp")
    for x, edge_index in GRAPHS:
        x_eager, x_compiled = x.clone().requires_grad_(), x.clone().requires_grad_()
        eager, out = conv(x_eager, edge_index), compiled(x_compiled, edge_index)
        torch.testing.assert_close(out, eager, atol=1e-5, rtol=1e-4)
        seed = torch.randn_like(eager)
        (eager * seed).sum().backward()
        (out * seed).sum().backward()
        torch.testing.assert_close(x_compiled.grad, x_eager.grad, atol=1e-5, rtol=1e-4)


class Readout(torch.nn.Module):
    """A linear map, then the aggregation as a graph readout without ``dim_size``."""

    def __init__(self, aggregation):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)
        self.aggr = aggregation

    def forward(self, x, batch):
        return self.aggr(self.lin(x), batch)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_compiled_readout_without_dim_size(name):
    # the number of graphs is read from ``batch`` when the compiled graph runs
    torch.manual_seed(0)
    model = Readout(FACTORIES[name]())
    compiled = gfx.compile(model, backend="cpp")
    for x, batch in ((torch.randn(7, 4), torch.tensor([0, 1, 1, 0, 2, 2, 2])),
                     (torch.randn(5, 4), torch.tensor([1, 1, 0, 1, 1]))):
        torch.testing.assert_close(compiled(x, batch), model(x, batch), atol=1e-5, rtol=1e-4)
