"""Oracle tests of issue 14 part B (summary, BasicGNN.inference, molecular / temporal /
misc models) against torch_geometric, called as a black box."""
import pytest
import torch
from hypothesis import given, settings

pytest.importorskip("torch_geometric")
import torch_geometric.nn as pyg  # noqa: E402

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402


@pytest.mark.parametrize("kwargs", [{}, dict(max_depth=1), dict(leaf_module=None),
                                    dict(max_depth=0)])
@pytest.mark.parametrize("model_kwargs", [{}, dict(norm="batch_norm", jk="cat")])
def test_summary_matches(kwargs, model_kwargs):
    pytest.importorskip("tabulate", reason="the reference summary needs tabulate")
    x, edge_index = torch.randn(20, 16), torch.randint(20, (2, 30))
    ours = gnn.summary(gnn.GCN(16, 8, num_layers=2, out_channels=4, **model_kwargs),
                       x, edge_index, **kwargs)
    theirs = pyg.summary(pyg.GCN(16, 8, num_layers=2, out_channels=4, **model_kwargs),
                         x, edge_index, **kwargs)
    assert ours == theirs


def test_summary_nested_and_lazy_match():
    pytest.importorskip("tabulate", reason="the reference summary needs tabulate")

    def build(linear):
        return torch.nn.Sequential(linear(-1, 4), torch.nn.Sequential(
            torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(4, 2))))
    x = torch.randn(5, 3)
    assert gnn.summary(build(gnn.Linear), x, max_depth=5) == \
        pyg.summary(build(pyg.Linear), x, max_depth=5)
