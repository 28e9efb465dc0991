"""GlobalAttention and global_sort_pool: the early readout names, against loops."""
import pytest
import torch
from hypothesis import given, settings

from gfx.nn import GlobalAttention, global_sort_pool
from gfx.nn.aggr import AttentionalAggregation

from .aggr_groups import grouped, members, padded


@settings(max_examples=10, deadline=None)
@given(grouped())
def test_global_attention_early_signature(data):
    x, batch, b = data
    gate, net = torch.nn.Linear(3, 1).double(), torch.nn.Linear(3, 2).double()
    with pytest.warns(DeprecationWarning, match="AttentionalAggregation"):
        pool = GlobalAttention(gate, net)
    assert isinstance(pool, AttentionalAggregation)
    expected = torch.zeros(b + 2, 2, dtype=x.dtype)
    for g in range(b):
        rows = members(x, batch, g)
        if rows.numel():
            expected[g] = (torch.softmax(gate(rows), dim=0) * net(rows)).sum(0)
    torch.testing.assert_close(pool(x, batch, b + 2), expected)
    torch.testing.assert_close(pool(x, batch=batch, size=b + 2), expected)
    torch.testing.assert_close(pool(x, index=batch, dim_size=b + 2), expected)


def test_global_attention_argument_errors():
    with pytest.warns(DeprecationWarning):
        pool = GlobalAttention(torch.nn.Linear(3, 1))
    x, batch = torch.randn(3, 3), torch.tensor([0, 0, 1])
    with pytest.raises(ValueError, match="'batch' or 'index'"):
        pool(x, batch, index=batch)
    with pytest.raises(ValueError, match="disagree"):
        pool(x, batch, 2, dim_size=3)


@settings(max_examples=10, deadline=None)
@given(grouped())
def test_global_sort_pool(data):
    x, batch, b = data
    expected = torch.zeros(b, 6, dtype=x.dtype)
    for g in range(b):
        rows = members(x, batch, g)
        order = sorted(range(rows.size(0)), key=lambda i: -float(rows[i, -1]))[:2]
        expected[g] = padded(rows[order], 2, 3).reshape(-1)
    out = global_sort_pool(x, batch, 2)
    num_graphs = int(batch.max()) + 1 if batch.numel() else 0  # inferred from the batch
    assert out.shape == (num_graphs, 6)
    torch.testing.assert_close(out, expected[:num_graphs])
