"""TGNMemory: the memory protocol computed by hand, aggregators by loops, and a short
training run on a synthetic temporal graph."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from gfx.nn import TGNMemory
from gfx.nn.models.tgn import IdentityMessage, LastAggregator, MeanAggregator, TimeEncoder


def synthetic_temporal_graph(num_nodes=8, num_events=64, raw_msg_dim=2, seed=0):
    """Events ``(src, dst, t, msg)`` sorted by time: each node ``i`` mostly talks to
    ``(i + 1) % num_nodes`` (a learnable pattern), sometimes to a random node."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, num_nodes, (num_events,), generator=g)
    noise = torch.rand(num_events, generator=g) < 0.2
    dst = torch.where(noise, torch.randint(0, num_nodes, (num_events,), generator=g),
                      (src + 1) % num_nodes)
    t = torch.randint(1, 4, (num_events,), generator=g).cumsum(0)
    return src, dst, t, torch.randn(num_events, raw_msg_dim, generator=g)


def make(aggr=None, n=4, raw=2, mem=3, tdim=2):
    return TGNMemory(n, raw, mem, tdim, IdentityMessage(raw, mem, tdim),
                     aggr or LastAggregator())


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=10))
def test_aggregators_by_loop(entries):
    index = torch.tensor([i for i, _ in entries], dtype=torch.long)
    t = torch.tensor([tt for _, tt in entries], dtype=torch.long)
    msg = torch.randn(len(entries), 2)
    last, mean = LastAggregator()(msg, index, t, 4), MeanAggregator()(msg, index, t, 4)
    for node in range(4):
        ks = [k for k in range(len(entries)) if entries[k][0] == node]
        if not ks:
            assert not last[node].any() and not mean[node].any()
            continue
        latest = max(ks, key=lambda k: (entries[k][1], k))
        torch.testing.assert_close(last[node], msg[latest])
        torch.testing.assert_close(mean[node], msg[ks].mean(0))


def test_time_encoder_formula():
    enc = TimeEncoder(3)
    t = torch.tensor([0.0, 1.5, 7.0])
    expected = torch.cos(t.view(-1, 1) * enc.lin.weight.view(1, -1) + enc.lin.bias)
    torch.testing.assert_close(enc(t), expected)


def test_memory_protocol_by_hand():
    torch.manual_seed(0)
    memory = make()
    gru, enc = memory.gru, memory.time_enc
    e = torch.randn(1, 2)
    # training: update_state first refreshes nodes 0 and 1 (no messages: GRU of zeros)
    memory.update_state(torch.tensor([0]), torch.tensor([1]), torch.tensor([5]), e)
    s = gru(torch.zeros(2, 10), torch.zeros(2, 3)).detach()  # 10 = 2 + 2 * 3 + 2
    torch.testing.assert_close(memory.memory[:2], s)
    assert memory.last_update.tolist() == [0, 0, 0, 0]
    # the stored event reaches node 0 as a source and node 1 as a destination
    out, last = memory(torch.tensor([0, 1]))
    phi = enc(torch.tensor([5.0]))
    m0 = torch.cat([s[0], s[1], e[0], phi[0]])
    m1 = torch.cat([s[1], s[0], e[0], phi[0]])
    torch.testing.assert_close(out, gru(torch.stack([m0, m1]), s))
    assert last.tolist() == [5, 5]
    # nodes 2 and 3 never interacted: their stored memory is still zero
    assert not memory.memory[2:].any()
    # switching to eval flushes the pending messages into the memory
    memory.eval()
    torch.testing.assert_close(memory.memory[:2], gru(torch.stack([m0, m1]), s).detach())
    assert memory.last_update.tolist()[:2] == [5, 5]
    torch.testing.assert_close(memory(torch.tensor([0]))[0], memory.memory[:1])
    memory.reset_state()
    assert not memory.memory.any() and not memory.last_update.any()


def test_errors():
    memory = make()
    with pytest.raises(IndexError, match="n_id"):
        memory(torch.tensor([4]))
    with pytest.raises(ValueError, match="raw_msg"):
        memory.update_state(torch.tensor([0]), torch.tensor([1]), torch.tensor([1]),
                            torch.randn(1, 5))
    with pytest.raises(ValueError, match="one entry per event"):
        memory.update_state(torch.tensor([0, 1]), torch.tensor([1]), torch.tensor([1]),
                            torch.randn(1, 2))
    with pytest.raises(ValueError, match="out_channels"):
        TGNMemory(4, 2, 3, 2, torch.nn.Identity(), LastAggregator())


def test_training_on_synthetic_graph_learns_pattern():
    torch.manual_seed(0)
    n = 8
    src, dst, t, msg = synthetic_temporal_graph(n, 96)
    memory = TGNMemory(n, 2, 8, 4, IdentityMessage(2, 8, 4), LastAggregator())
    score = torch.nn.Bilinear(8, 8, 1)
    opt = torch.optim.Adam([*memory.parameters(), *score.parameters()], lr=0.02)

    def epoch(train: bool) -> float:
        memory.train(train)
        memory.reset_state()
        total = 0.0
        for start in range(0, len(src), 8):
            sl = slice(start, start + 8)
            neg = torch.randint(0, n, (src[sl].numel(),))
            n_id = torch.arange(n)
            z, _ = memory(n_id)
            pos_out = score(z[src[sl]], z[dst[sl]])
            neg_out = score(z[src[sl]], z[neg])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                torch.cat([pos_out, neg_out]),
                torch.cat([torch.ones_like(pos_out), torch.zeros_like(neg_out)]))
            if train:
                opt.zero_grad()
                loss.backward()
                opt.step()
            memory.update_state(src[sl], dst[sl], t[sl], msg[sl])
            memory.detach()
            total += loss.item()
        return total

    first = epoch(True)
    for _ in range(15):
        last = epoch(True)
    assert last < first
    assert memory.gru.weight_ih.grad is not None and memory.time_enc.lin.weight.grad is not None
