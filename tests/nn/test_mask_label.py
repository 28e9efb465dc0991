"""MaskLabel: label embeddings added or concatenated on the masked rows only."""
import pytest
import torch

from gfx.nn import MaskLabel


@pytest.mark.parametrize("as_index", [False, True])
def test_add_and_concat(as_index):
    torch.manual_seed(0)
    x, y = torch.randn(6, 3), torch.tensor([0, 2, 1, 1, 0, 2])
    mask = torch.tensor([True, False, True, True, False, False])
    m = mask.nonzero().view(-1) if as_index else mask
    add = MaskLabel(3, 3)
    want = x.clone()
    for i in range(6):
        if mask[i]:
            want[i] += add.emb.weight[y[i]]
    torch.testing.assert_close(add(x, y, m), want)
    cat = MaskLabel(3, 4, method="concat")
    extra = torch.zeros(6, 4)
    for i in range(6):
        if mask[i]:
            extra[i] = cat.emb.weight[y[i]]
    torch.testing.assert_close(cat(x, y, m), torch.cat([x, extra], dim=1))
    x0 = x.clone()
    add(x, y, m)
    assert torch.equal(x, x0)  # the input is not modified


def test_ratio_mask():
    torch.manual_seed(0)
    mask = torch.zeros(4000, dtype=torch.bool)
    mask[::2] = True
    out = MaskLabel.ratio_mask(mask, 0.25)
    assert not (out & ~mask).any()
    assert abs(out.sum().item() / 2000 - 0.25) < 0.04
    assert torch.equal(MaskLabel.ratio_mask(mask, 1.0), mask)
    assert not MaskLabel.ratio_mask(mask, 0.0).any()


def test_errors_and_repr():
    assert str(MaskLabel(3, 4)) == "MaskLabel()"
    with pytest.raises(ValueError, match="method"):
        MaskLabel(3, 4, method="mul")
    with pytest.raises(ValueError, match="out_channels"):
        MaskLabel(3, 4)(torch.randn(2, 3), torch.tensor([0, 1]), torch.tensor([True, True]))
    with pytest.raises(ValueError, match="'y'"):
        MaskLabel(3, 3)(torch.randn(2, 3), torch.tensor([0]), torch.tensor([True, True]))
    with pytest.raises(ValueError, match="ratio"):
        MaskLabel.ratio_mask(torch.ones(3, dtype=torch.bool), 2.0)
