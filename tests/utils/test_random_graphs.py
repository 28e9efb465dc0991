"""Random graph generators and feature perturbations: structure and rates."""
import pytest
import torch

from gfx.utils import (barabasi_albert_graph, coalesce, erdos_renyi_graph, is_undirected,
                       mask_feature, shuffle_node, stochastic_blockmodel_graph)


def test_erdos_renyi_rates_and_shape():
    torch.manual_seed(0)
    ei = erdos_renyi_graph(60, 0.3)
    assert is_undirected(ei) and bool((ei[0] != ei[1]).all())
    assert torch.equal(coalesce(ei), ei)
    assert abs(ei.size(1) / (60 * 59) - 0.3) < 0.03
    directed = erdos_renyi_graph(60, 0.3, directed=True)
    assert bool((directed[0] != directed[1]).all()) and torch.equal(coalesce(directed), directed)
    assert abs(directed.size(1) / (60 * 59) - 0.3) < 0.03
    assert erdos_renyi_graph(5, 0.0).size(1) == 0 and erdos_renyi_graph(5, 1.0).size(1) == 20
    with pytest.raises(ValueError, match="edge_prob"):
        erdos_renyi_graph(3, 2.0)


def test_stochastic_blockmodel_rates():
    torch.manual_seed(0)
    ei = stochastic_blockmodel_graph([30, 30], [[0.5, 0.02], [0.02, 0.5]])
    block = (ei >= 30).long()
    within = (block[0] == block[1]).float().mean()
    assert is_undirected(ei) and within > 0.9
    with pytest.raises(ValueError, match="edge_probs"):
        stochastic_blockmodel_graph([2, 2], [[0.5]])


def test_barabasi_albert_structure():
    torch.manual_seed(0)
    ei = barabasi_albert_graph(50, 3)
    assert is_undirected(ei) and bool((ei[0] != ei[1]).all())
    assert torch.equal(coalesce(ei), ei)
    for node in range(3, 50):  # every new node links to at most 3 earlier ones
        earlier = ei[1, (ei[0] == node) & (ei[1] < node)]
        assert 1 <= earlier.numel() <= 3
    with pytest.raises(ValueError, match="num_edges"):
        barabasi_albert_graph(3, 3)


@pytest.mark.parametrize("mode,shape", [("col", (1, 8)), ("row", (20, 1)), ("all", (20, 8))])
def test_mask_feature(mode, shape):
    torch.manual_seed(0)
    x = torch.randn(20, 8)
    out, mask = mask_feature(x, 0.5, mode, fill_value=-9.0)
    assert mask.shape == shape and mask.dtype == torch.bool
    full = mask.expand_as(x)
    assert torch.equal(out[full], x[full]) and bool((out[~full] == -9.0).all())
    same, keep = mask_feature(x, 0.5, mode, training=False)
    assert same is x and bool(keep.all())
    with pytest.raises(ValueError, match="mode"):
        mask_feature(x, mode="diag")


def test_shuffle_node_within_graphs():
    torch.manual_seed(0)
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    x = torch.arange(9.).view(-1, 1)
    out, perm = shuffle_node(x, batch)
    assert torch.equal(out, x[perm]) and sorted(perm.tolist()) == list(range(9))
    assert torch.equal(batch[perm], batch)
    out, perm = shuffle_node(x)
    assert sorted(perm.tolist()) == list(range(9))
