"""BasicGNN.inference: layer-wise inference over one-hop batches equals the full forward."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.data import Data
from gfx.nn import GAT, GCN, GIN, GraphSAGE
from tests.graphs import edge_lists


class OneHopLoader:
    """Batches of seed nodes, each with every in-edge of its seeds (relabelled), seeds
    first in ``n_id``; seeds are visited in a shuffled order."""

    def __init__(self, data, batch_size, seed=0, num_neighbors=(-1,)):
        self.data, self.batch_size = data, batch_size
        self.order = torch.randperm(data.num_nodes, generator=torch.Generator().manual_seed(seed))
        self.num_neighbors = list(num_neighbors)
        self.passes = 0

    def __len__(self):
        return -(-self.data.num_nodes // self.batch_size)

    def __iter__(self):
        self.passes += 1
        src, dst = self.data.edge_index
        for start in range(0, self.data.num_nodes, self.batch_size):
            seeds = self.order[start:start + self.batch_size]
            mask = torch.isin(dst, seeds)
            others = [int(v) for v in src[mask].unique() if v not in seeds]
            n_id = torch.cat([seeds, torch.tensor(others, dtype=torch.long)])
            local = torch.full((self.data.num_nodes,), -1, dtype=torch.long)
            local[n_id] = torch.arange(n_id.numel())
            batch = Data(edge_index=torch.stack([local[src[mask]], local[dst[mask]]]),
                         n_id=n_id)
            if getattr(self.data, "edge_attr", None) is not None:
                batch.edge_attr = self.data.edge_attr[mask]
            batch.batch_size = seeds.numel()
            yield batch


@st.composite
def graphs(draw):
    edge_index, n, _ = draw(edge_lists(8, 20, False))
    n = max(n, 1)
    g = torch.Generator().manual_seed(draw(st.integers(0, 999)))
    return Data(x=torch.randn(n, 5, generator=g), edge_index=edge_index,
                edge_attr=torch.randn(edge_index.shape[1], 3, generator=g))


MODELS = [
    lambda: GraphSAGE(5, 8, num_layers=3, out_channels=4),
    lambda: GIN(5, 8, num_layers=2, norm="batch_norm"),
    lambda: GAT(5, 8, num_layers=2, out_channels=3, heads=2, edge_dim=3),
    lambda: GraphSAGE(5, 8, num_layers=2, out_channels=4, jk="last", act_first=True),
]


@pytest.mark.parametrize("make", MODELS)
@settings(max_examples=8, deadline=None)
@given(data=graphs(), batch_size=st.integers(1, 4))
def test_inference_equals_forward(make, data, batch_size):
    torch.manual_seed(0)
    model = make().eval()
    expected = model(data.x, data.edge_index, edge_attr=data.edge_attr) \
        if model.supports_edge_attr else model(data.x, data.edge_index)
    got = model.inference(OneHopLoader(data, batch_size))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_gcn_single_batch_and_cache():
    data = Data(x=torch.randn(6, 5), edge_index=torch.tensor([[0, 1, 2, 3, 5], [1, 2, 3, 0, 5]]))
    model = GCN(5, 8, num_layers=3, out_channels=2).eval()
    loader = OneHopLoader(data, batch_size=6)
    got = model.inference(loader, cache=True)
    torch.testing.assert_close(got, model(data.x, data.edge_index))
    assert loader.passes == 1  # later layers reuse the cached batches
    assert got.device == torch.device("cpu")


def test_inference_errors():
    data = Data(x=torch.randn(4, 5), edge_index=torch.tensor([[0, 1], [1, 2]]))
    model = GraphSAGE(5, 8, num_layers=2)
    with pytest.raises(RuntimeError, match="eval"):
        model.inference(OneHopLoader(data, 2))
    model.eval()
    with pytest.raises(ValueError, match="one hop"):
        model.inference(OneHopLoader(data, 2, num_neighbors=(-1, -1)))
    with pytest.raises(ValueError, match="'data'"):
        model.inference([])
    with pytest.raises(ValueError, match="cover"):
        loader = OneHopLoader(data, 2)
        loader.order = loader.order[:3]
        model.inference(loader)
    with pytest.raises(ValueError, match="jk"):
        GraphSAGE(5, 8, num_layers=2, jk="cat").eval().inference(OneHopLoader(data, 2))
