"""The ``CuGraph*`` layers at the reference's paths (``gfx.nn.conv.cugraph.sage_conv``,
...); gfx runs them on its own message passing, on any device."""
from .gat_conv import CuGraphGATConv
from .rgcn_conv import CuGraphRGCNConv
from .sage_conv import CuGraphSAGEConv

__all__ = ["CuGraphGATConv", "CuGraphRGCNConv", "CuGraphSAGEConv"]
