"""gfx.nn.DataParallel: the node-balanced split and the single-device (CPU) path."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.data import Data
from gfx.nn import DataParallel
from gfx.nn.data_parallel import split_by_num_nodes


class GraphSum(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 1)

    def forward(self, data):
        return self.lin(data.x).sum(), data.batch, data.x_batch


def graphs():
    g = torch.Generator().manual_seed(0)
    return [Data(x=torch.randn(n, 2, generator=g), edge_index=torch.tensor([[0], [n - 1]]))
            for n in (3, 1, 2)]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=12), st.integers(1, 5))
def test_split_is_contiguous_covering_and_balanced(num_nodes, num_devices):
    bounds = split_by_num_nodes(num_nodes, num_devices)
    assert bounds[0] == 0 and bounds[-1] == len(num_nodes)
    assert all(a < b for a, b in zip(bounds, bounds[1:]))  # no empty chunk
    assert len(bounds) - 1 <= num_devices
    total = sum(num_nodes)
    if total:
        # each graph sits on the device that holds its middle node
        before = [sum(num_nodes[:i]) + num_nodes[i] / 2 for i in range(len(num_nodes))]
        devices = [min(int(num_devices * m / total), num_devices - 1) for m in before]
        expected = [0] + [i + 1 for i in range(len(devices) - 1)
                          if devices[i] != devices[i + 1]] + [len(num_nodes)]
        assert bounds == expected


def test_split_examples():
    assert split_by_num_nodes([5, 5, 5, 5], 2) == [0, 2, 4]
    assert split_by_num_nodes([10, 1, 1], 2) == [0, 1, 3]
    assert split_by_num_nodes([1, 1], 4) == [0, 1, 2]
    assert split_by_num_nodes([0, 0, 0], 3) == [0, 1, 2, 3]


def test_cpu_runs_one_batch():
    with pytest.warns(UserWarning, match="DistributedDataParallel"):
        model = DataParallel(GraphSum(), follow_batch=["x"])
    data = graphs()
    total, batch, x_batch = model(data)
    expected = sum(model.module.lin(d.x).sum() for d in data)
    torch.testing.assert_close(total, expected)
    assert batch.tolist() == [0, 0, 0, 1, 2, 2]
    assert torch.equal(batch, x_batch)
    total.backward()
    assert model.module.lin.weight.grad is not None
    assert model.src_device == torch.device("cpu")


def test_exclude_keys():
    class Keys(torch.nn.Module):
        def forward(self, data):
            return sorted(data.keys())
    with pytest.warns(UserWarning):
        model = DataParallel(Keys(), exclude_keys=["edge_index"])
    assert "edge_index" not in model(graphs())


def test_bad_input():
    with pytest.warns(UserWarning):
        model = DataParallel(GraphSum())
    with pytest.raises(ValueError, match="data_list"):
        model([])
    with pytest.raises(TypeError, match="data_list"):
        model(graphs()[0])
    with pytest.raises(ValueError, match="num_devices"):
        split_by_num_nodes([1], 0)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_two_devices_match_one():
    model = GraphSum().cuda()
    with pytest.warns(UserWarning):
        parallel = DataParallel(model, follow_batch=["x"])
    total, _, _ = parallel(graphs() * 2)
    expected = sum(model.lin(d.x.cuda()).sum() for d in graphs() * 2)
    torch.testing.assert_close(total.sum(), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_one_cuda_device_runs_there():
    model = GraphSum().cuda()
    with pytest.warns(UserWarning):
        parallel = DataParallel(model, device_ids=[0], follow_batch=["x"])
    total, batch, _ = parallel(graphs())
    assert total.device.type == "cuda" and batch.device.type == "cuda"
    expected = sum(model.lin(d.x.cuda()).sum() for d in graphs())
    torch.testing.assert_close(total, expected)
