"""MemPooling and its KL loss against loops written from the formulas."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import MemPooling


def expected(pool, x, mask):
    B, N, _ = x.shape
    H, K, tau = pool.heads, pool.num_clusters, pool.tau
    keys = pool.k.detach()
    conv = pool.conv.weight.detach().view(H)
    S = torch.zeros(B, N, K, dtype=x.dtype)
    for b in range(B):
        for i in range(N):
            heads = []
            for h in range(H):
                t = torch.stack([(1 + ((x[b, i] - keys[h, j]) ** 2).sum() / tau)
                                 ** (-(1 + tau) / 2) for j in range(K)])
                heads.append(t / t.sum())
            mixed = sum(conv[h] * heads[h] for h in range(H))
            S[b, i] = torch.softmax(mixed, 0) * float(mask[b, i])
    return (S.transpose(1, 2) @ x) @ pool.lin.weight.detach().t(), S


@settings(max_examples=10, deadline=None)
@given(sizes=st.lists(st.integers(0, 4), min_size=1, max_size=3), seed=st.integers(0, 99),
       tau=st.sampled_from([1.0, 0.5, 2.0]))
def test_mem_pooling_formula(sizes, seed, tau):
    g = torch.Generator().manual_seed(seed)
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    x = torch.randn(int(sum(sizes)), 3, generator=g, dtype=torch.float64)
    pool = MemPooling(3, 2, heads=2, num_clusters=3, tau=tau).double()
    out, S = pool(x, batch, batch_size=len(sizes))
    n_max = max(sizes)
    dense = torch.zeros(len(sizes), n_max, 3, dtype=x.dtype)
    mask = torch.zeros(len(sizes), n_max, dtype=torch.bool)
    for b, n in enumerate(sizes):
        dense[b, :n] = x[batch == b]
        mask[b, :n] = True
    e_out, e_S = expected(pool, dense, mask)
    torch.testing.assert_close(S, e_S)
    torch.testing.assert_close(out, e_out)
    # KL(P || S) with P_ij = (S_ij^2 / sum_n S_nj) / sum_k (S_ik^2 / sum_n S_nk).
    loss, eps = 0.0, 1e-15
    for b in range(len(sizes)):
        for i in range(n_max):
            if not mask[b, i]:
                continue
            q = [float(e_S[b, i, j]) ** 2 / float(e_S[b, :, j].sum()) for j in range(3)]
            for j in range(3):
                p = max(q[j] / sum(q), eps)
                loss += p * (torch.log(torch.tensor(p)) - torch.log(e_S[b, i, j]))
    torch.testing.assert_close(MemPooling.kl_loss(S), torch.as_tensor(
        loss / len(sizes), dtype=x.dtype))


def test_mem_pooling_gradcheck_and_errors():
    pool = MemPooling(3, 2, heads=2, num_clusters=3).double()
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    batch = torch.tensor([0, 0, 1, 1, 1])
    torch.autograd.gradcheck(lambda v: pool(v, batch)[0], (x,))
    torch.autograd.gradcheck(lambda v: MemPooling.kl_loss(pool(v, batch)[1]), (x,))
    assert str(pool) == "MemPooling(3, 2, heads=2, num_clusters=3)"
    assert {k: tuple(v.shape) for k, v in pool.state_dict().items()} == \
        {"k": (2, 3, 3), "conv.weight": (1, 2, 1, 1), "lin.weight": (2, 3)}
    with pytest.raises(ValueError, match="heads"):
        MemPooling(3, 2, heads=0, num_clusters=3)
    with pytest.raises(ValueError, match="tau"):
        MemPooling(3, 2, heads=1, num_clusters=3, tau=0.0)
    with pytest.raises(ValueError, match="'x'"):
        pool(torch.randn(4, 5, dtype=torch.float64))
