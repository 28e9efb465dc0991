"""gfx.utils and gfx.loader on a CUDA device give what they give on the CPU."""
import pytest
import torch

import gfx.utils as U
from gfx.data import Data
from gfx.loader import ClusterData, ClusterLoader, NeighborLoader

pytestmark = pytest.mark.gpu


def test_utils_on_cuda_match_cpu():
    torch.manual_seed(0)
    ei = torch.randint(0, 20, (2, 60))
    batch = torch.arange(20) // 5
    x = torch.randn(20, 3)
    cuda = torch.device("cuda")
    for fn, args in ((U.to_dense_batch, (x, batch)),
                     (U.to_dense_adj, (ei, batch)),
                     (U.coalesce, (ei,)), (U.to_undirected, (ei,)),
                     (U.subgraph, (torch.arange(0, 20, 2), ei)),
                     (U.get_laplacian, (ei, None, "sym")),
                     (U.k_hop_subgraph, (3, 2, ei)),
                     (U.remove_isolated_nodes, (ei,))):
        want = fn(*args)
        got = fn(*[a.to(cuda) if isinstance(a, torch.Tensor) else a for a in args])
        want = want if isinstance(want, tuple) else (want,)
        got = got if isinstance(got, tuple) else (got,)
        for a, b in zip(got, want):
            if isinstance(b, torch.Tensor):
                assert a.device.type == "cuda"
                torch.testing.assert_close(a.cpu(), b)
    neg = U.negative_sampling(ei.to(cuda), 20)
    assert neg.device.type == "cuda" and neg.size(1) == 60


def test_loaders_gather_cuda_attributes():
    torch.manual_seed(0)
    data = Data(x=torch.randn(40, 3), edge_index=torch.randint(0, 40, (2, 160))).to("cuda")
    batch = next(iter(NeighborLoader(data, [3, 2], batch_size=8)))
    assert batch.x.device.type == "cuda" and batch.edge_index.device.type == "cuda"
    torch.testing.assert_close(batch.x, data.x[batch.n_id.cuda()])
    part = next(iter(ClusterLoader(ClusterData(data, 4), batch_size=2)))
    assert part.x.device.type == "cuda"
    pinned = Data(x=torch.randn(4, 2)).pin_memory()
    assert pinned.x.is_pinned()
