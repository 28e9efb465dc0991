"""gfx.graphgym.models.transform: link labels and training negatives."""
import pytest
import torch

from gfx.data import Data
from gfx.graphgym.models.transform import create_link_label, neg_sampling_transform


def test_create_link_label_marks_positives_first():
    label = create_link_label(torch.tensor([[0, 1], [1, 2]]), torch.tensor([[0, 2, 1], [2, 0, 0]]))
    assert label.dtype == torch.float and label.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_neg_sampling_transform_adds_one_negative_per_positive():
    pos = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    data = Data(x=torch.randn(6, 2), train_pos_edge_index=pos)
    torch.manual_seed(0)
    out = neg_sampling_transform(data)
    assert out is data and out.train_edge_index.shape == (2, 8)
    assert torch.equal(out.train_edge_index[:, :4], pos)
    positives = {tuple(e) for e in pos.t().tolist()}
    assert all(tuple(e) not in positives for e in out.train_edge_index[:, 4:].t().tolist())
    assert out.train_edge_label.tolist() == [1.0] * 4 + [0.0] * 4
    with pytest.raises(AttributeError, match="train_pos_edge_index"):
        neg_sampling_transform(Data(x=torch.randn(3, 2)))
