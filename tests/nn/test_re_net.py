"""RENet: histories against a brute-force definition, forward against a loop."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from gfx.data import Batch, Data
from gfx.nn import RENet

events_strategy = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1), st.integers(0, 3),
                                     st.integers(0, 2)), min_size=1, max_size=15)


def timeline(events):
    """Sort by time: (sub, rel, obj, t) with t the running sum of the drawn steps."""
    out, t = [], 0
    for s, r, o, step in events:
        t += step
        out.append((s, r, o, t))
    return out


def brute_history(events, k, seq_len, side):
    """The window of event k: the last ``seq_len`` distinct times before its time; the
    entities met by its key at each of those times, slot = position in the window."""
    s, r, o, t = events[k]
    times = sorted({e[3] for e in events[:k] if e[3] < t})[-seq_len:]
    offset = seq_len - len(times)
    ids, slots = [], []
    for slot, tau in enumerate(times):
        for s2, r2, o2, t2 in events[:k]:
            if t2 != tau or r2 != r:
                continue
            if side == "sub" and s2 == s:
                ids.append(o2)
                slots.append(slot + offset)
            if side == "obj" and o2 == o:
                ids.append(s2)
                slots.append(slot + offset)
    return ids, slots


def with_history(events, seq_len):
    pt = RENet.pre_transform(seq_len)
    return [pt(Data(sub=torch.tensor([s]), rel=torch.tensor([r]), obj=torch.tensor([o]),
                    t=torch.tensor([t]))) for s, r, o, t in events]


@settings(max_examples=10, deadline=None)
@given(events_strategy, st.integers(1, 3))
def test_pre_transform_brute_force(raw, seq_len):
    events = timeline(raw)
    for k, data in enumerate(with_history(events, seq_len)):
        for side in ("sub", "obj"):
            ids, slots = brute_history(events, k, seq_len, side)
            assert data[f"h_{side}"].tolist() == ids
            assert data[f"h_{side}_t"].tolist() == slots


@settings(max_examples=8, deadline=None)
@given(events_strategy)
def test_forward_formula(raw):
    seq_len = 2
    events = timeline(raw)
    batch = Batch.from_data_list(with_history(events, seq_len),
                                 follow_batch=["h_sub", "h_obj"])
    model = RENet(4, 2, 3, seq_len, num_layers=2).double()
    log_obj, log_sub = model(batch)
    for k, (s, r, o, _) in enumerate(events):
        for side, gru, lin, got, anchor in (("sub", model.sub_gru, model.sub_lin, log_obj, s),
                                            ("obj", model.obj_gru, model.obj_lin, log_sub, o)):
            ids, slots = brute_history(events, k, seq_len, side)
            steps = []
            for slot in range(seq_len):
                members = [i for i, sl in zip(ids, slots) if sl == slot]
                g = model.ent[members].mean(0) if members else torch.zeros(3, dtype=torch.float64)
                steps.append(torch.cat([model.ent[anchor], g, model.rel[r]]))
            _, h = gru(torch.stack(steps).unsqueeze(0))
            feats = torch.cat([model.ent[anchor], h[-1, 0], model.rel[r]])
            torch.testing.assert_close(got[k], F.log_softmax(lin(feats), dim=0))


def test_metrics_and_errors():
    model = RENet(4, 2, 3, seq_len=2)
    logits = torch.tensor([[0.9, 0.1, 0.5, 0.0], [0.1, 0.2, 0.3, 0.4]])
    y = torch.tensor([2, 0])  # ranks 2 and 4
    torch.testing.assert_close(model.test(logits, y),
                               torch.tensor([(1 / 2 + 1 / 4) / 2, 0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="follow_batch"):
        model(with_history([(0, 0, 1, 0)], 2)[0])
    pt = RENet.pre_transform(2)
    pt(Data(sub=torch.tensor([0]), rel=torch.tensor([0]), obj=torch.tensor([1]),
            t=torch.tensor([5])))
    with pytest.raises(ValueError, match="time order"):
        pt(Data(sub=torch.tensor([0]), rel=torch.tensor([0]), obj=torch.tensor([1]),
                t=torch.tensor([4])))
    with pytest.raises(ValueError, match="one event"):
        pt(Data(sub=torch.tensor([0, 1]), rel=torch.tensor([0]), obj=torch.tensor([1]),
                t=torch.tensor([6])))
    with pytest.raises(ValueError, match="seq_len"):
        RENet.pre_transform(0)
