"""gfx.nn.summary: the table's rows, shapes, parameter counts, depth and leaf rules."""
import os

import pytest
import torch

from gfx.nn import GCN, GCNConv, Linear, summary
from tests.test_docs import python_blocks

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 3)        # 12 parameters, called twice
        self._hidden = torch.nn.ReLU()          # private: never a row
        self.conv = GCNConv(3, 2)               # 3 * 2 + 2 = 8 parameters
        self.unused = torch.nn.Linear(1, 1)     # 2 parameters, never called

    def forward(self, x, edge_index, unused=None, flag=None):
        x = self.lin(x)
        x = self._hidden(self.lin(x[:2]))
        return self.conv(x, edge_index), (x, None)


def test_table_written_by_hand():
    x = torch.randn(4, 3)
    edge_index = torch.tensor([[0, 1], [1, 0]])
    # Net returns (tensor, (tensor, None)): only the top-level tensor is listed; 'lin'
    # shows its first call; '_hidden' is private; 'unused' was never called.
    expected = "\n".join([
        "+------------------+----------------+----------------+----------+",
        "| Layer            | Input Shape    | Output Shape   |   #Param |",
        "|------------------+----------------+----------------+----------|",
        "| Net              | [4, 3], [2, 2] | [2, 2]         |       22 |",
        "| ├─(lin)Linear    | [4, 3]         | [4, 3]         |       12 |",
        "| ├─(conv)GCNConv  | [2, 3], [2, 2] | [2, 2]         |        8 |",
        "| ├─(unused)Linear | --             | --             |        2 |",
        "+------------------+----------------+----------------+----------+",
    ])
    assert summary(Net(), x, edge_index, None, flag=3) == expected


def test_numeric_column_right_aligned_and_nesting():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4),
                                torch.nn.Sequential(torch.nn.Tanh(),
                                                    torch.nn.Sequential(torch.nn.Linear(4, 2))))
    expected = "\n".join([
        "+-----------------------+---------------+----------------+----------+",
        "| Layer                 | Input Shape   | Output Shape   | #Param   |",
        "|-----------------------+---------------+----------------+----------|",
        "| Sequential            | [5, 3]        | [5, 2]         | 26       |",
        "| ├─(0)Linear           | [5, 3]        | [5, 4]         | 16       |",
        "| ├─(1)Sequential       | [5, 4]        | [5, 2]         | 10       |",
        "| │    └─(0)Tanh        | [5, 4]        | [5, 4]         | --       |",
        "| │    └─(1)Sequential  | [5, 4]        | [5, 2]         | 10       |",
        "| │    │    └─(0)Linear | [5, 4]        | [5, 2]         | 10       |",
        "+-----------------------+---------------+----------------+----------+",
    ])
    assert summary(model, torch.randn(5, 3), max_depth=5) == expected
    # all counts numeric -> right-aligned, header included
    lstm = summary(torch.nn.LSTM(3, 4), torch.randn(5, 2, 3))
    assert lstm.splitlines()[1] == "| Layer   | Input Shape   | Output Shape   |   #Param |"
    # 4 gates * 4 hidden * (3 input + 4 hidden + 2 biases) = 144
    assert lstm.splitlines()[3] == "| LSTM    | [5, 2, 3]     | [5, 2, 4]      |      144 |"


def test_max_depth_and_leaf_module():
    model = GCN(8, 16, num_layers=2, out_channels=4)
    x, edge_index = torch.randn(6, 8), torch.tensor([[0, 1, 2], [1, 2, 3]])
    default = summary(model, x, edge_index)
    assert "(0)GCNConv" in default and "(lin)Linear" not in default
    assert "(0)GCNConv" not in summary(model, x, edge_index, max_depth=1)
    assert len(summary(model, x, edge_index, max_depth=0).splitlines()) == 5
    deep = summary(model, x, edge_index, leaf_module=None)
    assert "│    │    └─(lin)Linear" in deep
    folded = summary(model, x, edge_index, leaf_module=[torch.nn.ModuleList])
    assert "GCNConv" not in folded and "(convs)ModuleList" in folded


def test_lazy_parameters_count_minus_one():
    table = summary(torch.nn.Sequential(Linear(-1, 4)), torch.randn(5, 3))
    assert table.splitlines()[3].endswith("|       -1 |")


def test_bad_input():
    with pytest.raises(ValueError, match="max_depth"):
        summary(torch.nn.Linear(2, 2), torch.randn(1, 2), max_depth=-1)
    with pytest.raises(TypeError, match="leaf_module"):
        summary(torch.nn.Linear(2, 2), torch.randn(1, 2), leaf_module=[3])
    with pytest.raises(TypeError, match="model"):
        summary(lambda x: x, torch.randn(1, 2))


def test_docs_example_runs():
    namespace = {}
    for _, code in python_blocks(os.path.join(ROOT, "docs", "summary.md")):
        exec(compile(code, "summary.md", "exec"), namespace)
    assert "table" in namespace
