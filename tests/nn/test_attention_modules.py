"""QFormer, SGFormerAttention and PolynormerAttention against per-element loops written
from the formulas."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn.attention import PolynormerAttention, QFormer, SGFormerAttention

SETTINGS = dict(max_examples=10, deadline=None)


def randomise(module):
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module


@st.composite
def padded_sets(draw, channels=6):
    b, n = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(b, n, channels, generator=g, dtype=torch.float64)
    mask = torch.rand(b, n, generator=g) < 0.7
    return x, mask


@settings(**SETTINGS)
@given(padded_sets(), st.booleans())
def test_sgformer_attention_formula(data, use_mask):
    x, mask = data
    att = randomise(SGFormerAttention(6, heads=2, head_channels=3, qkv_bias=True).double())
    b, n, _ = x.shape
    out = att(x, mask if use_mask else None)
    for s in range(b):
        heads = []
        for h in range(2):
            cols = slice(3 * h, 3 * h + 3)
            q = att.q(x[s])[:, cols]
            k = att.k(x[s])[:, cols]
            v = att.v(x[s])[:, cols]
            if use_mask:
                v = v * mask[s, :, None]
            q = q / q.norm(dim=1, keepdim=True)
            k = k / k.norm(dim=1, keepdim=True)
            z = [(q[i] @ (k.t() @ v) + n * v[i]) / (q[i] @ k.sum(0) + n) for i in range(n)]
            heads.append(torch.stack(z))
        torch.testing.assert_close(out[s], torch.stack(heads).mean(0))


@settings(**SETTINGS)
@given(padded_sets(), st.booleans(), st.booleans())
def test_polynormer_attention_formula(data, shared, use_mask):
    x, mask = data
    att = randomise(PolynormerAttention(6, heads=2, head_channels=3, beta=0.4,
                                        qk_shared=shared).double())
    out = att(x, mask if use_mask else None)
    b, n, _ = x.shape
    for s in range(b):
        k_all = torch.sigmoid(att.k(x[s]))
        q_all = k_all if shared else torch.sigmoid(att.q(x[s]))
        v_all = att.v(x[s]) * (mask[s, :, None] if use_mask else 1.0)
        z = torch.empty(n, 6, dtype=x.dtype)
        for h in range(2):
            cols = [c * 2 + h for c in range(3)]  # channel-major layout
            q, k, v = q_all[:, cols], k_all[:, cols], v_all[:, cols]
            for i in range(n):
                z[i, cols] = (q[i] @ (k.t() @ v)) / (q[i] @ k.sum(0))
        gated = torch.nn.functional.layer_norm(z, (6,), att.lns.weight, att.lns.bias) \
            * (att.h_lins(x[s]) + 0.4)
        torch.testing.assert_close(out[s], torch.relu(att.lin_out(gated)))


def manual_encoder_layer(layer, x):
    """A post-norm transformer encoder layer from its parameters (one sequence)."""
    c = x.size(1)
    heads = layer.self_attn.num_heads
    w, bias = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias
    q, k, v = (x @ w[i * c:(i + 1) * c].t() + bias[i * c:(i + 1) * c] for i in range(3))
    d = c // heads
    parts = [torch.softmax(q[:, h * d:(h + 1) * d] @ k[:, h * d:(h + 1) * d].t() / d ** 0.5,
                           dim=1) @ v[:, h * d:(h + 1) * d] for h in range(heads)]
    sa = torch.cat(parts, 1) @ layer.self_attn.out_proj.weight.t() + layer.self_attn.out_proj.bias
    x = torch.nn.functional.layer_norm(x + sa, (c,), layer.norm1.weight, layer.norm1.bias)
    ff = layer.linear2(torch.relu(layer.linear1(x)))
    return torch.nn.functional.layer_norm(x + ff, (c,), layer.norm2.weight, layer.norm2.bias)


@settings(**SETTINGS)
@given(padded_sets(channels=4), st.integers(1, 2))
def test_qformer_formula(data, layers):
    x, _ = data
    model = randomise(QFormer(4, 8, 3, num_heads=2, num_layers=layers).double())
    for s in range(x.size(0)):
        h = model.layer_norm(x[s])
        for layer in model.encoder.layers:
            h = manual_encoder_layer(layer, h)
        torch.testing.assert_close(model(x)[s], model.project(h))


def test_repr_keys_and_errors():
    assert str(QFormer(4, 8, 3, 2, 2)) == "QFormer(num_heads=2, num_layers=2)"
    assert "encoder_layer.linear1.weight" in QFormer(4, 8, 3, 2, 1).state_dict()
    assert str(SGFormerAttention(8, 2, 4)) == "SGFormerAttention(heads=2, head_channels=4)"
    assert set(PolynormerAttention(8, 2, 4).state_dict()) == {
        "h_lins.weight", "h_lins.bias", "k.weight", "v.weight", "lns.weight", "lns.bias",
        "lin_out.weight", "lin_out.bias"}
    with pytest.raises(ValueError, match="'num_heads'"):
        QFormer(5, 8, 3, 2, 1)
    with pytest.raises(ValueError, match="'heads'"):
        SGFormerAttention(8, 3)
    with pytest.raises(ValueError, match=r"\[B, N, 8\]"):
        PolynormerAttention(8, 2, 4)(torch.randn(5, 8))
