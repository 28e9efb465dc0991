"""Shared helpers of the set-aggregation tests: random grouped inputs and loop references.

Named without the ``test_`` prefix so that pytest does not collect it.
"""
from __future__ import annotations

import torch
from hypothesis import strategies as st


@st.composite
def grouped(draw, channels: int = 3, max_groups: int = 5, max_elements: int = 10):
    """``(x, index, num_groups)``: float64 ``x`` ``[L, channels]``, an unsorted ``index``.

    Groups may be empty (all of them when ``L == 0``) or hold a single element.
    """
    num_groups = draw(st.integers(1, max_groups))
    length = draw(st.integers(0, max_elements))
    index = draw(st.lists(st.integers(0, num_groups - 1), min_size=length, max_size=length))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(length, channels, generator=g, dtype=torch.float64)
    return x, torch.tensor(index, dtype=torch.long), num_groups


def sorted_form(x, index, num_groups):
    """``(x_sorted, index_sorted, ptr)``: the same groups, sorted stably, with CSR pointers."""
    order = torch.argsort(index, stable=True)
    counts = torch.bincount(index, minlength=num_groups)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    return x[order], index[order], ptr


def members(x, index, g):
    """The rows of ``x`` in group ``g``, in order of appearance."""
    return x[index == g]


def padded(rows, width, channels):
    """``rows`` followed by zero rows up to ``width``."""
    extra = torch.zeros(width - rows.size(0), channels, dtype=rows.dtype)
    return torch.cat([rows, extra], dim=0)


def largest_group(index, num_groups):
    """The size of the largest group, at least 1 (the padded width of the dense form)."""
    return max(int(torch.bincount(index, minlength=num_groups).max()) if index.numel() else 0, 1)


def manual_mab(block, queries, keys):
    """A multihead attention block computed from its parameters, for one unpadded set.

    ``queries`` ``[Q, C]``, ``keys`` ``[n, C]``; with ``n == 0`` every attention weight is
    0, so the attention term is the output projection of zero (its bias).
    """
    c = queries.size(1)
    heads = block.attn.num_heads
    w, b = block.attn.in_proj_weight, block.attn.in_proj_bias
    q = queries @ w[:c].t() + b[:c]
    if keys.size(0) == 0:
        att = torch.zeros_like(queries) + block.attn.out_proj.bias
    else:
        k = keys @ w[c:2 * c].t() + b[c:2 * c]
        v = keys @ w[2 * c:].t() + b[2 * c:]
        d = c // heads
        parts = []
        for h in range(heads):
            sl = slice(h * d, (h + 1) * d)
            scores = q[:, sl] @ k[:, sl].t() / d ** 0.5
            parts.append(torch.softmax(scores, dim=1) @ v[:, sl])
        att = torch.cat(parts, dim=1) @ block.attn.out_proj.weight.t() + block.attn.out_proj.bias
    out = queries + att
    if block.layer_norm1 is not None:
        out = torch.nn.functional.layer_norm(out, (c,), block.layer_norm1.weight,
                                             block.layer_norm1.bias)
    out = out + torch.relu(out @ block.lin.weight.t() + block.lin.bias)
    if block.layer_norm2 is not None:
        out = torch.nn.functional.layer_norm(out, (c,), block.layer_norm2.weight,
                                             block.layer_norm2.bias)
    return out


def manual_pma(pma, rows):
    """Pooling by multihead attention for one unpadded set ``rows`` ``[n, C]``."""
    keys = torch.relu(rows @ pma.lin.weight.t() + pma.lin.bias)
    return manual_mab(pma.mab, pma.seed[0], keys)
