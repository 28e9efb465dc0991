"""A compiled model trains over neighbour-sampled mini-batches of varying sizes without
capturing again or generating new kernels per batch."""
import pytest
import torch
import torch.nn.functional as F

import gfx
import gfx.nn as gnn
from gfx.codegen import cpp
from gfx.data import Data
from gfx.loader import NeighborLoader


class SAGE(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = gnn.SAGEConv(8, 16)
        self.conv2 = gnn.SAGEConv(16, 3)

    def forward(self, x, edge_index):
        return self.conv2(F.relu(self.conv1(x, edge_index)), edge_index)


@pytest.mark.slow
def test_compiled_sage_over_sampled_batches_builds_kernels_once():
    if not cpp.available():
        pytest.skip("no C compiler with OpenMP here")
    torch.manual_seed(0)
    n = 300
    data = Data(x=torch.randn(n, 8), edge_index=torch.randint(0, n, (2, 2000)),
                y=torch.randint(0, 3, (n,)))
    model = SAGE()
    compiled = gfx.compile(model, backend="cpp")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loader = NeighborLoader(data, [5, 3], batch_size=37, shuffle=True)
    sizes, sources = set(), None
    launches = cpp.STATS.launches
    for i, batch in enumerate(loader):
        optimizer.zero_grad()
        out = compiled(batch.x, batch.edge_index)[:batch.batch_size]
        with torch.no_grad():
            eager = model(batch.x, batch.edge_index)[:batch.batch_size]
        torch.testing.assert_close(out, eager, rtol=1e-4, atol=1e-5)
        F.cross_entropy(out, batch.y[:batch.batch_size]).backward()
        optimizer.step()
        sizes.add((batch.num_nodes, batch.edge_index.size(1)))
        if i == 0:
            sources = cpp.STATS.sources
            graphs = len(compiled._graphs)
    assert cpp.STATS.launches > launches, "the compiled model did not run cpp kernels"
    assert len(sizes) > 5  # the batches really had different sizes
    assert cpp.STATS.sources == sources  # no kernel generated after the first batch
    assert len(compiled._graphs) == graphs  # no new capture either
