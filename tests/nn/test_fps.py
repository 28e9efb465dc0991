"""fps against a per-point loop written from the formula; nearest against brute force."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn.pool import fps, nearest


@st.composite
def point_sets(draw, max_points=12, dims=2):
    """Points (integer grid: duplicates and distance ties happen) and a shuffled batch."""
    n = draw(st.integers(0, max_points))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randint(-3, 4, (n, dims), generator=g).double()
    num_groups = draw(st.integers(1, 3))
    batch = torch.randint(0, num_groups, (n,), generator=g)
    return x, batch


def loop_fps(x, batch, ratio, starts):
    """The documented algorithm, one point at a time (``starts``: example -> start index)."""
    out = []
    for b in sorted(set(batch.tolist())):
        idx = [i for i in range(len(batch)) if batch[i] == b]
        k = math.ceil(len(idx) * ratio)
        chosen = [starts[b]]
        mind = {i: float("inf") for i in idx}
        while len(chosen) < k:
            for i in idx:
                mind[i] = min(mind[i], float(((x[i] - x[chosen[-1]]) ** 2).sum()))
            best = max(mind[i] for i in idx)
            chosen.append(min(i for i in idx if mind[i] == best))
        out.extend(chosen)
    return out


@settings(max_examples=10, deadline=None)
@given(point_sets(), st.sampled_from([0.1, 0.5, 0.75, 1.0]))
def test_fps_matches_loop_fixed_start(points, ratio):
    x, batch = points
    got = fps(x, batch, ratio, random_start=False)
    starts = {}
    for i, b in enumerate(batch.tolist()):
        starts.setdefault(b, i)
    assert got.tolist() == loop_fps(x, batch, ratio, starts)


@settings(max_examples=10, deadline=None)
@given(point_sets(), st.sampled_from([0.3, 0.5]), st.integers(0, 100))
def test_fps_random_start_is_a_valid_run(points, ratio, seed):
    x, batch = points
    torch.manual_seed(seed)
    got = fps(x, batch, ratio, random_start=True).tolist()
    # Each example's first sample is its start; the rest follow the formula from there.
    starts, pos = {}, 0
    for b in sorted(set(batch.tolist())):
        starts[b] = got[pos]
        assert int(batch[got[pos]]) == b
        pos += math.ceil(int((batch == b).sum()) * ratio)
    assert got == loop_fps(x, batch, ratio, starts)
    torch.manual_seed(seed)
    assert fps(x, batch, ratio, random_start=True).tolist() == got  # seeded: reproducible


def test_fps_random_start_covers_all_points():
    x = torch.randn(5, 3)
    torch.manual_seed(0)
    firsts = {int(fps(x, ratio=0.2)[0]) for _ in range(200)}
    assert firsts == set(range(5))


def test_fps_square_example_and_no_batch():
    x = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    assert fps(x, ratio=0.5, random_start=False).tolist() == [0, 3]
    assert fps(x[:0]).numel() == 0
    assert fps(x, batch_size=3, random_start=False).tolist() == [0, 3]


def test_fps_bad_inputs():
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match="'ratio'"):
        fps(x, ratio=0.0)
    with pytest.raises(ValueError, match="'ratio'"):
        fps(x, ratio=1.5)
    with pytest.raises(ValueError, match="'batch'"):
        fps(x, torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="'batch_size'"):
        fps(x, torch.tensor([0, 0, 1, 2]), batch_size=2)


@settings(max_examples=10, deadline=None)
@given(point_sets(), point_sets())
def test_nearest_matches_brute_force(a, b):
    x, batch_x = a
    y, batch_y = b
    # Every example of x must have a centre: give each example of x one extra centre.
    extra = sorted(set(batch_x.tolist()))
    y = torch.cat([y, torch.zeros(len(extra), 2, dtype=y.dtype)])
    batch_y = torch.cat([batch_y, torch.tensor(extra, dtype=torch.long)])
    got = nearest(x, y, batch_x, batch_y).tolist()
    for i in range(x.shape[0]):
        cands = [j for j in range(y.shape[0]) if batch_y[j] == batch_x[i]]
        d = {j: float(((x[i] - y[j]) ** 2).sum()) for j in cands}
        best = min(d.values())
        assert got[i] == min(j for j in cands if d[j] == best)


def test_nearest_doc_example_and_errors():
    x = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    y = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    assert nearest(x, y).tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="'batch_y'"):
        nearest(x, y, torch.tensor([0, 0, 1, 1]), torch.tensor([0, 0]))
    with pytest.raises(ValueError, match="same number of features"):
        nearest(x, torch.randn(2, 3))
