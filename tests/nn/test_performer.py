import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import PerformerAttention


def dense_performer(att, x, mask=None):
    """Quadratic form of the formula: A = phi(Q) phi(K)^T, rows normalised, times V."""
    B, L, _ = x.shape
    H, D = att.heads, att.head_channels
    P = att.fast_attn.projection_matrix.double()
    out = torch.zeros(B, L, H * D, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            cols = slice(h * D, (h + 1) * D)
            q = x[b] @ att.q.weight[cols].t() + (att.q.bias[cols] if att.q.bias is not None else 0)
            k = x[b] @ att.k.weight[cols].t() + (att.k.bias[cols] if att.k.bias is not None else 0)
            v = x[b] @ att.v.weight[cols].t() + (att.v.bias[cols] if att.v.bias is not None else 0)
            if mask is not None:
                v = v * mask[b].view(L, 1)
            fq, fk = torch.relu(q @ P.t()) + 1e-3, torch.relu(k @ P.t()) + 1e-3
            a = fq @ fk.t()
            out[b, :, cols] = (a / a.sum(1, keepdim=True)) @ v
    return out @ att.attn_out.weight.t() + att.attn_out.bias


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.sampled_from([(8, 2, 4), (6, 3, None),
                                                               (4, 1, 5)]),
       st.booleans(), st.booleans())
def test_performer_matches_quadratic_formula(batch, length, shape, qkv_bias, masked):
    channels, heads, head_channels = shape
    torch.manual_seed(0)
    att = PerformerAttention(channels, heads, head_channels=head_channels,
                             qkv_bias=qkv_bias).double()
    x = torch.randn(batch, length, channels, dtype=torch.float64)
    mask = torch.rand(batch, length) > 0.3 if masked else None
    torch.testing.assert_close(att(x, mask), dense_performer(att, x, mask))


def test_performer_projection_is_blockwise_orthonormal():
    torch.manual_seed(0)
    att = PerformerAttention(16, 2, head_channels=8)
    p = att.fast_attn.projection_matrix
    assert p.shape == (int(8 * math.log(8)), 8)  # 16 rows: two full blocks of 8
    torch.testing.assert_close(p[:8] @ p[:8].t(), torch.eye(8), atol=1e-5, rtol=0)
    torch.testing.assert_close(p[8:] @ p[8:].t(), torch.eye(8), atol=1e-5, rtol=0)
    before = p.clone()
    att.redraw_projection_matrix()
    assert not torch.equal(before, att.fast_attn.projection_matrix)
    assert att.fast_attn.projection_matrix.shape == before.shape


def test_performer_layout_repr_and_gradients():
    att = PerformerAttention(8, 2, head_channels=4).double()
    assert str(att) == "PerformerAttention(heads=2, head_channels=4 kernel=ReLU())"
    assert {k: tuple(v.shape) for k, v in att.state_dict().items()} == {
        "fast_attn.projection_matrix": (5, 4), "q.weight": (8, 8), "k.weight": (8, 8),
        "v.weight": (8, 8), "attn_out.weight": (8, 8), "attn_out.bias": (8,)}
    x = torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(att, (x,))


def test_performer_errors():
    with pytest.raises(ValueError, match="heads"):
        PerformerAttention(9, 2)
    att = PerformerAttention(4, 2, head_channels=2)
    with pytest.raises(ValueError, match="'x'"):
        att(torch.randn(3, 4))
    with pytest.raises(ValueError, match="mask"):
        att(torch.randn(1, 3, 4), torch.ones(1, 2, dtype=torch.bool))
