"""Oracle tests of issue 14 part B (summary, BasicGNN.inference, molecular / temporal /
misc models) against torch_geometric, called as a black box."""
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("torch_geometric")
import torch_geometric.nn as pyg  # noqa: E402

import gfx.nn as gnn  # noqa: E402
from tests.oracle.common import compare, hypothesis_graph  # noqa: E402


@pytest.mark.parametrize("kwargs", [{}, dict(max_depth=1), dict(leaf_module=None),
                                    dict(max_depth=0)])
@pytest.mark.parametrize("model_kwargs", [{}, dict(norm="batch_norm", jk="cat")])
def test_summary_matches(kwargs, model_kwargs):
    pytest.importorskip("tabulate", reason="the reference summary needs tabulate")
    x, edge_index = torch.randn(20, 16), torch.randint(20, (2, 30))
    ours = gnn.summary(gnn.GCN(16, 8, num_layers=2, out_channels=4, **model_kwargs),
                       x, edge_index, **kwargs)
    theirs = pyg.summary(pyg.GCN(16, 8, num_layers=2, out_channels=4, **model_kwargs),
                         x, edge_index, **kwargs)
    assert ours == theirs


def test_summary_nested_and_lazy_match():
    pytest.importorskip("tabulate", reason="the reference summary needs tabulate")

    def build(linear):
        return torch.nn.Sequential(linear(-1, 4), torch.nn.Sequential(
            torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(4, 2))))
    x = torch.randn(5, 3)
    assert gnn.summary(build(gnn.Linear), x, max_depth=5) == \
        pyg.summary(build(pyg.Linear), x, max_depth=5)


@pytest.mark.parametrize("mask_type", ["edge", "node", "node_and_edge"])
@pytest.mark.parametrize("output_idx", [None, 0])
@settings(max_examples=5, deadline=None)
@given(g=hypothesis_graph(channels=3))
def test_captum_model_matches(mask_type, output_idx, g):
    x, edge_index = g["x"], g["edge_index"]  # given self-loops included: GCNConv re-adds them
    torch.manual_seed(0)
    ours = gnn.to_captum_model(gnn.GCN(3, 4, num_layers=2, out_channels=2), mask_type,
                               output_idx)
    theirs = pyg.to_captum_model(pyg.GCN(3, 4, num_layers=2, out_channels=2), mask_type,
                                 output_idx)
    inputs, extra = gnn.to_captum_input(x, edge_index, mask_type)
    ref_inputs, ref_extra = pyg.to_captum_input(x, edge_index, mask_type)
    assert [t.shape for t in inputs] == [t.shape for t in ref_inputs]
    assert len(extra) == len(ref_extra)
    # random mask values so that the edge weighting matters
    gen = torch.Generator().manual_seed(1)
    inputs = [torch.rand(t.shape, generator=gen) if t.dim() == 2 else t for t in inputs]
    compare(ours, theirs, *inputs, *extra)


def test_captum_output_to_dicts_matches():
    metadata = (["a", "b"], [("a", "to", "b"), ("b", "to", "a")])
    attrs = (torch.randn(1, 3, 2), torch.randn(1, 2, 2), torch.randn(1, 3), torch.randn(1, 2))
    for mask_type, part in [("node", attrs[:2]), ("edge", attrs[2:]),
                            ("node_and_edge", attrs)]:
        ours = gnn.captum_output_to_dicts(part, mask_type, metadata)
        theirs = pyg.captum_output_to_dicts(part, mask_type, metadata)
        for a, b in zip(ours, theirs):
            assert (a is None) == (b is None)
            if a is not None:
                assert a.keys() == b.keys()
                for k in a:
                    assert torch.equal(a[k], b[k])


@st.composite
def molecule_batches(draw, channels=3, edge_dim=4):
    """Two to three small graphs in one batch (``batch`` sorted, every graph non-empty)."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    edges, batch, start = [], [], 0
    for k, n in enumerate(sizes):
        m = int(torch.randint(0, 2 * n + 1, (1,), generator=g))
        edges.append(torch.randint(0, n, (2, m), generator=g) + start)
        batch += [k] * n
        start += n
    edge_index = torch.cat(edges, dim=1)
    return dict(x=torch.randn(start, channels, generator=g), edge_index=edge_index,
                edge_attr=torch.randn(edge_index.shape[1], edge_dim, generator=g),
                batch=torch.tensor(batch))


@settings(max_examples=10, deadline=None)
@given(g=molecule_batches())
def test_attentive_fp_matches(g):
    ours = gnn.AttentiveFP(3, 8, 2, edge_dim=4, num_layers=3, num_timesteps=2)
    theirs = pyg.AttentiveFP(3, 8, 2, edge_dim=4, num_layers=3, num_timesteps=2)
    compare(ours, theirs, g["x"], g["edge_index"], g["edge_attr"], g["batch"])


@settings(max_examples=10, deadline=None)
@given(g=molecule_batches())
def test_neural_fingerprint_matches(g):
    ours = gnn.NeuralFingerprint(3, 8, 5, num_layers=2, max_degree=3)
    theirs = pyg.NeuralFingerprint(3, 8, 5, num_layers=2, max_degree=3)
    num_graphs = int(g["batch"].max()) + 1
    compare(ours, theirs, g["x"], g["edge_index"], g["batch"], num_graphs)


def all_pairs_graph(pos, batch):
    """Every ordered pair of distinct atoms of one molecule, with its distance."""
    same = (batch.view(-1, 1) == batch.view(1, -1)) & ~torch.eye(len(batch), dtype=torch.bool)
    edge_index = same.nonzero().t()
    return edge_index, (pos[edge_index[0]] - pos[edge_index[1]]).norm(dim=-1)


@st.composite
def molecules_3d(draw):
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    n = sum(sizes)
    return dict(z=torch.randint(1, 10, (n,), generator=g), pos=torch.randn(n, 3, generator=g),
                batch=torch.cat([torch.full((s,), k) for k, s in enumerate(sizes)]))


@pytest.mark.parametrize("kwargs", [{}, dict(readout="mean"),
                                    dict(mean=1.5, std=2.0, atomref=torch.randn(100, 1))])
@settings(max_examples=5, deadline=None)
@given(g=molecules_3d())
def test_schnet_matches(kwargs, g):
    args = dict(hidden_channels=8, num_filters=6, num_interactions=2, num_gaussians=5,
                cutoff=3.0, interaction_graph=all_pairs_graph, **kwargs)
    compare(gnn.SchNet(**args), pyg.SchNet(**args), g["z"], g["pos"], g["batch"])


def temporal_events(num_nodes=6, num_events=24, raw_msg_dim=3, seed=0):
    """A synthetic temporal graph: a ring ``i -> i + 1`` first (so that every node has
    pending messages from then on), then random interactions, at non-decreasing integer
    times (ties included)."""
    g = torch.Generator().manual_seed(seed)
    ring = torch.arange(num_nodes)
    rest = num_events - num_nodes
    src = torch.cat([ring, torch.randint(0, num_nodes, (rest,), generator=g)])
    dst = torch.cat([ring.roll(-1), torch.randint(0, num_nodes, (rest,), generator=g)])
    t = torch.randint(0, 3, (num_events,), generator=g).cumsum(0)
    return src, dst, t, torch.randn(num_events, raw_msg_dim, generator=g)


@pytest.mark.parametrize("aggr", ["last", "mean"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tgn_memory_matches(aggr, seed):
    """Every queried node has pending messages: the reference's LastAggregator hands a
    node without messages another node's message (gfx gives it zeros)."""
    from torch_geometric.nn.models import tgn as ref_tgn

    from gfx.nn.models import tgn
    n, raw, mem, tdim = 6, 3, 4, 2

    def build(mod):
        agg = mod.LastAggregator() if aggr == "last" else mod.MeanAggregator()
        return mod.TGNMemory(n, raw, mem, tdim, mod.IdentityMessage(raw, mem, tdim), agg)
    ours, theirs = build(tgn), build(ref_tgn)
    assert str(ours) == str(theirs)
    theirs.load_state_dict(ours.state_dict())
    src, dst, t, msg = temporal_events(n, 24, raw, seed)
    for start in range(0, 24, 6):
        sl = slice(start, start + 6)
        n_id = torch.cat([src[sl], dst[sl]]).unique()
        a, b = ours(n_id), theirs(n_id)
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y)
        a[0].sum().backward()
        b[0].sum().backward()
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            zero = torch.zeros_like(p)  # a parameter no message reached may have no grad
            torch.testing.assert_close(zero if p.grad is None else p.grad,
                                       zero if q.grad is None else q.grad, msg=name)
        ours.update_state(src[sl], dst[sl], t[sl], msg[sl])
        theirs.update_state(src[sl], dst[sl], t[sl], msg[sl])
        ours.detach()
        theirs.detach()
        torch.testing.assert_close(ours.memory, theirs.memory)
        torch.testing.assert_close(ours.last_update, theirs.last_update)
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours.memory, theirs.memory)
    everyone = torch.arange(n)
    for x, y in zip(ours(everyone), theirs(everyone)):
        torch.testing.assert_close(x, y)


def knowledge_events(num_nodes=5, num_rels=3, num_events=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    return list(zip(torch.randint(0, num_nodes, (num_events,), generator=g).tolist(),
                    torch.randint(0, num_rels, (num_events,), generator=g).tolist(),
                    torch.randint(0, num_nodes, (num_events,), generator=g).tolist(),
                    torch.randint(0, 2, (num_events,), generator=g).cumsum(0).tolist()))


@pytest.mark.parametrize("seed", [0, 1])
def test_renet_matches(seed):
    from torch_geometric.data import Data as RefData

    from gfx.data import Batch, Data
    seq_len = 3
    ours_pt, ref_pt = gnn.RENet.pre_transform(seq_len), pyg.RENet.pre_transform(seq_len)
    events = []
    for s, r, o, t in knowledge_events(seed=seed):
        one = dict(sub=torch.tensor([s]), rel=torch.tensor([r]), obj=torch.tensor([o]),
                   t=torch.tensor([t]))
        a, b = ours_pt(Data(**one)), ref_pt(RefData(**one))
        for key in ("h_sub", "h_sub_t", "h_obj", "h_obj_t"):
            assert torch.equal(a[key], b[key]), key
        events.append(a)
    batch = Batch.from_data_list(events[-8:], follow_batch=["h_sub", "h_obj"])
    torch.manual_seed(seed)
    ours = gnn.RENet(5, 3, 6, seq_len)  # the reference fails with num_layers > 1
    theirs = pyg.RENet(5, 3, 6, seq_len)
    compare(ours, theirs, batch)
    logits = torch.randn(8, 5)
    assert torch.allclose(ours.test(logits, batch.obj), theirs.test(logits, batch.obj))


@pytest.fixture
def dimenet_reference(monkeypatch):
    """The reference DimeNet module with its two extension-backed helpers replaced:
    radius_graph (torch_cluster) by gfx's, and triplets (torch_sparse) by gfx's, which
    tests/nn/test_dimenet.py checks against a brute-force enumeration."""
    import torch_geometric.nn.models.dimenet as ref

    from gfx.nn.models.dimenet import triplets
    from gfx.nn.pool.knn import radius_graph
    monkeypatch.setattr(ref, "radius_graph", radius_graph)
    monkeypatch.setattr(ref, "triplets", triplets)
    return ref


DIMENET_COMMON = dict(num_spherical=3, num_radial=4, cutoff=2.5, num_blocks=2,
                      output_initializer="glorot_orthogonal")
DIMENET_ARGS = {
    False: dict(hidden_channels=8, out_channels=2, num_bilinear=3, **DIMENET_COMMON),
    True: dict(hidden_channels=8, out_channels=2, int_emb_size=4, basis_emb_size=3,
               out_emb_channels=5, **DIMENET_COMMON),
}
_REFERENCE_DIMENETS: dict = {}


@pytest.mark.slow  # the reference derives its bases with sympy on every construction
@pytest.mark.parametrize("plus", [False, True])
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=molecules_3d())
def test_dimenet_matches(dimenet_reference, plus, g):
    cls = "DimeNetPlusPlus" if plus else "DimeNet"
    if plus not in _REFERENCE_DIMENETS:  # built once, weights reloaded per example
        _REFERENCE_DIMENETS[plus] = getattr(dimenet_reference, cls)(**DIMENET_ARGS[plus])
    theirs = _REFERENCE_DIMENETS[plus]
    theirs.zero_grad(set_to_none=True)
    # float32 through several bilinear blocks: parameter gradients reach ~1e2, so the
    # comparison allows float32 rounding at that scale.
    compare(getattr(gnn, cls)(**DIMENET_ARGS[plus]), theirs, g["z"], g["pos"], g["batch"],
            atol=1e-3, rtol=1e-3)


@st.composite
def compact_molecules(draw):
    """Molecules of 2 to 4 atoms within 1.8 of each other: every atom has neighbours
    (the reference drops trailing atoms without any, and its BatchNorm needs 2 rows)."""
    sizes = draw(st.lists(st.integers(2, 4), min_size=1, max_size=3))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    n = sum(sizes)
    return dict(z=torch.randint(1, 10, (n,), generator=g),
                pos=torch.rand(n, 3, generator=g) + 10 * torch.cat(
                    [torch.full((s, 1), float(k)) for k, s in enumerate(sizes)]),
                batch=torch.cat([torch.full((s,), k) for k, s in enumerate(sizes)]))


@pytest.mark.parametrize("cutoff", [5.0, 3.0])
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=compact_molecules())
def test_gnnff_matches(monkeypatch, cutoff, g):
    """radius_graph (torch_cluster) and triplets (torch_sparse) of the reference module are
    replaced by gfx's, as for DimeNet."""
    import torch_geometric.nn.models.gnnff as ref

    from gfx.nn.models.dimenet import triplets
    from gfx.nn.pool.knn import radius_graph
    monkeypatch.setattr(ref, "radius_graph", radius_graph)
    monkeypatch.setattr(ref, "triplets", triplets)
    torch.manual_seed(0)
    pos = g["pos"]
    compare(gnn.GNNFF(4, 6, num_layers=2, cutoff=cutoff),
            ref.GNNFF(4, 6, num_layers=2, cutoff=cutoff), g["z"], pos, g["batch"])


@pytest.mark.parametrize("kwargs", [dict(lmax=1), dict(lmax=2, vecnorm_type="max_min",
                                                       reduce_op="mean", mean=0.5, std=2.0),
                                    dict(lmax=1, derivative=True, atomref=torch.randn(100))])
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=compact_molecules())
def test_visnet_matches(monkeypatch, kwargs, g):
    """radius_graph (torch_cluster) of the reference module is replaced by gfx's."""
    import torch_geometric.nn.models.visnet as ref

    from gfx.nn.pool.knn import radius_graph
    monkeypatch.setattr(ref, "radius_graph", radius_graph)
    args = dict(num_heads=2, num_layers=2, hidden_channels=8, num_rbf=5, cutoff=3.0,
                **kwargs)
    compare(gnn.ViSNet(**args), ref.ViSNet(**args), g["z"], g["pos"], g["batch"])
