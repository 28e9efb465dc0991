"""Point-cloud and edge-conditioned convolutions against the reference library (black
box: same weights, same inputs, same outputs, gradients and ``str()``)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402

pyg = torch_geometric.nn
settings_ = settings(max_examples=8, deadline=None)


def needs_pyg_lib(name):
    """The reference builds these layers only with pyg-lib (not installed here)."""
    try:
        import pyg_lib  # noqa: F401
    except ImportError:
        pytest.skip(f"the reference {name} requires pyg-lib, which is not installed")


def test_spline_conv_oracle():
    needs_pyg_lib("SplineConv")
    torch.manual_seed(0)
    ours = gnn.SplineConv(4, 8, dim=2, kernel_size=3)
    theirs = pyg.SplineConv(4, 8, dim=2, kernel_size=3)
    x, ei = torch.randn(6, 4), torch.randint(0, 6, (2, 14))
    compare(ours, theirs, x, ei, torch.rand(14, 2))
