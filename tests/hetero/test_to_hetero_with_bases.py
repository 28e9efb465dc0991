"""to_hetero_with_bases against dense references built from the copies' weights."""
import math
import pickle

import pytest
import torch
import torch.nn.functional as F

import gfx
import gfx.nn as gnn
from gfx.passes.to_hetero_with_bases import to_hetero_with_bases
from gfx.utils import add_self_loops
from tests.hetero.graphs import PAPER_AUTHOR, hetero_inputs

NODE_TYPES, EDGE_TYPES = PAPER_AUTHOR


def merged(x, ei):
    """The typed homogeneous graph: features, connectivity, relation ids, node counts."""
    counts = [x[t].shape[0] for t in NODE_TYPES]
    offset = {t: sum(counts[:k]) for k, t in enumerate(NODE_TYPES)}
    parts, rel = [], []
    for r, (src, name, dst) in enumerate(EDGE_TYPES):
        e = ei[(src, name, dst)]
        parts.append(torch.stack([e[0] + offset[src], e[1] + offset[dst]]))
        rel += [r] * e.shape[1]
    return torch.cat([x[t] for t in NODE_TYPES]), torch.cat(parts, 1), torch.tensor(rel), counts


def split(value, counts):
    return dict(zip(NODE_TYPES, value.split(counts)))


def coefficients(wrapper):
    return torch.stack([conv.edge_type_weight[0] for conv in wrapper.convs], 1)  # [R, B]


def dense_sage_bases(wrapper, x_all, ei_all, rel):
    """sum_b lin_l_b(mean_j a_{r,b} x_j) + lin_r_b(x_i), with explicit loops."""
    n = x_all.shape[0]
    a = coefficients(wrapper).double()
    out = 0
    for b, conv in enumerate(wrapper.convs):
        m = torch.zeros(n, n, dtype=torch.float64)
        deg = torch.zeros(n, dtype=torch.float64)
        for e, (j, i) in enumerate(ei_all.t().tolist()):
            m[i, j] += a[rel[e], b]
            deg[i] += 1
        agg = (m / deg.clamp(min=1).view(-1, 1)) @ x_all
        w_l, b_l, w_r = (p.detach().double() for p in
                         (conv.lin_l.weight, conv.lin_l.bias, conv.lin_r.weight))
        out = out + agg @ w_l.t() + b_l + x_all @ w_r.t()
    return out


class Sage(torch.nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = gnn.SAGEConv(channels, 3)

    def forward(self, x, edge_index):
        return self.conv(x, edge_index)


def test_bases_follow_the_formula():
    torch.manual_seed(0)
    model = to_hetero_with_bases(Sage(), PAPER_AUTHOR, num_bases=2).double()
    x, ei = hetero_inputs(PAPER_AUTHOR, num_nodes={"paper": 6, "author": 3},
                          dtype=torch.float64)
    out = model(x, ei)
    x_all, ei_all, rel, counts = merged(x, ei)
    expected = split(dense_sage_bases(model.conv, x_all, ei_all, rel), counts)
    for t in NODE_TYPES:
        torch.testing.assert_close(out[t], expected[t])


def test_in_channels_align_types_of_different_sizes():
    torch.manual_seed(0)
    model = to_hetero_with_bases(Sage(5), PAPER_AUTHOR, num_bases=3, in_channels={"x": 5})
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 7, "author": 2})
    out = model(x, ei)
    lins = model.align_lin__x.lins
    aligned = {t: x[t] @ lins[t].weight.t() for t in NODE_TYPES}
    assert lins["author"].weight.shape == (5, 2) and lins["paper"].bias is None
    x_all, ei_all, rel, counts = merged(aligned, ei)
    expected = split(dense_sage_bases(model.conv, x_all.double(), ei_all, rel), counts)
    for t in NODE_TYPES:
        torch.testing.assert_close(out[t].double(), expected[t], atol=1e-5, rtol=1e-5)


def test_different_sizes_without_in_channels_name_the_types():
    model = to_hetero_with_bases(Sage(-1), PAPER_AUTHOR, num_bases=2)
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 7, "author": 2})
    with pytest.raises(ValueError, match=r"'paper': \[7\], 'author': \[2\].*in_channels"):
        model(x, ei)
    with pytest.raises(ValueError, match=r"in_channels names \['h'\]"):
        to_hetero_with_bases(Sage(), PAPER_AUTHOR, num_bases=2, in_channels={"h": 4})


def test_parameters_do_not_grow_with_relations():
    def count(module):
        return sum(p.numel() for p in module.parameters())

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = gnn.Linear(4, 4)
            self.conv = gnn.SAGEConv(4, 3)

        def forward(self, x, edge_index):
            return self.conv(self.lin(x), edge_index)

    base = Model()
    model = to_hetero_with_bases(base, PAPER_AUTHOR, num_bases=3)
    assert count(model) == count(base.lin) + 3 * (count(base.conv) + len(EDGE_TYPES))
    keys = set(model.state_dict())
    assert {"conv.convs.2.edge_type_weight", "conv.convs.0.lin_l.weight", "lin.weight"} <= keys


def test_one_basis_is_initialised():
    torch.manual_seed(0)
    model = to_hetero_with_bases(Sage(), PAPER_AUTHOR, num_bases=1)
    a = model.conv.convs[0].edge_type_weight
    bound = math.sqrt(6 / (len(EDGE_TYPES) + 1))
    assert torch.isfinite(a).all() and (a.abs() <= bound).all() and (a != 0).all()
    before = a.detach().clone()
    model.conv.reset_parameters()
    assert not torch.equal(before, model.conv.convs[0].edge_type_weight)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    assert all(torch.isfinite(v).all() for v in model(x, ei).values())


def test_layers_that_add_self_loops_are_refused():
    class GCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.GCNConv(4, 3)

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)

    with pytest.raises(ValueError, match=r"'conv' \(GCNConv\) adds self-loops"):
        to_hetero_with_bases(GCN(), PAPER_AUTHOR, num_bases=2)

    class HiddenLoops(gnn.MessagePassing):
        """Adds loops without an add_self_loops attribute: caught when it runs."""

        def forward(self, x, edge_index):
            edge_index, _ = add_self_loops(edge_index, num_nodes=x.shape[0])
            return self.propagate(edge_index, x=x)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = HiddenLoops()

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)

    model = to_hetero_with_bases(Model(), PAPER_AUTHOR, num_bases=2)
    x, ei = hetero_inputs(PAPER_AUTHOR, num_edges=4)
    with pytest.raises(ValueError, match=r"'conv' \(HiddenLoops\) sends 22 messages over 12 "
                                         r"edges"):
        model(x, ei)


def dense_gat_bases(wrapper, x_all, ei_all, rel):
    """Multi-head GAT per basis with explicit loops over edges and heads."""
    n = x_all.shape[0]
    a = coefficients(wrapper).double()
    out = 0
    for b, conv in enumerate(wrapper.convs):
        heads, channels = conv.heads, conv.out_channels
        h = (x_all @ conv.lin.weight.double().t()).view(n, heads, channels)
        src = (h * conv.att_src.double()).sum(-1)
        dst = (h * conv.att_dst.double()).sum(-1)
        result = torch.zeros(n, heads, channels, dtype=torch.float64)
        for i in range(n):
            edges = [(e, j) for e, (j, t) in enumerate(ei_all.t().tolist()) if t == i]
            if not edges:
                continue
            logits = torch.stack([F.leaky_relu(src[j] + dst[i], 0.2) for _, j in edges])
            alpha = logits.softmax(0)  # [deg, heads]
            for k, (e, j) in enumerate(edges):
                result[i] += a[rel[e], b] * alpha[k].view(-1, 1) * h[j]
        out = out + result.reshape(n, heads * channels) + conv.bias.double()
    return out


def test_multi_head_gat_under_bases():
    class GAT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.GATConv(4, 3, heads=2, add_self_loops=False)

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)

    torch.manual_seed(0)
    model = to_hetero_with_bases(GAT(), PAPER_AUTHOR, num_bases=2).double().eval()
    x, ei = hetero_inputs(PAPER_AUTHOR, num_nodes={"paper": 4, "author": 3}, num_edges=6,
                          dtype=torch.float64)
    out = model(x, ei)
    x_all, ei_all, rel, counts = merged(x, ei)
    expected = split(dense_gat_bases(model.conv, x_all, ei_all, rel), counts)
    for t in NODE_TYPES:
        assert out[t].shape == (x[t].shape[0], 6)
        torch.testing.assert_close(out[t], expected[t])


@pytest.mark.parametrize("align", [False, True])
def test_edge_features_are_merged_in_edge_type_order(align):
    class GINE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.GINEConv(torch.nn.Linear(4, 3), edge_dim=2)

        def forward(self, x, edge_index, edge_attr):
            return self.conv(x, edge_index, edge_attr)

    torch.manual_seed(0)
    in_channels = {"edge_attr": 2} if align else None
    model = to_hetero_with_bases(GINE(), PAPER_AUTHOR, num_bases=2,
                                 in_channels=in_channels).double()
    x, ei = hetero_inputs(PAPER_AUTHOR, num_edges=5, dtype=torch.float64)
    widths = [1, 3, 2] if align else [2, 2, 2]
    attr = {e: torch.randn(5, w, dtype=torch.float64) for e, w in zip(EDGE_TYPES, widths)}
    out = model(x, ei, attr)
    if align:
        lins = model.align_lin__edge_attr.lins
        attr = {e: attr[e] @ lins["__".join(e)].weight.t() for e in EDGE_TYPES}
    x_all, ei_all, rel, counts = merged(x, ei)
    attr_all = torch.cat([attr[e] for e in EDGE_TYPES])
    a = coefficients(model.conv).double()
    expected = 0
    for b, conv in enumerate(model.conv.convs):
        agg = torch.zeros_like(x_all)
        for e, (j, i) in enumerate(ei_all.t().tolist()):
            edge = attr_all[e] @ conv.lin.weight.t() + conv.lin.bias
            agg[i] += a[rel[e], b] * (x_all[j] + edge).relu()
        expected = expected + conv.nn(agg + (1 + conv.eps) * x_all)
    expected = split(expected, counts)
    for t in NODE_TYPES:
        torch.testing.assert_close(out[t], expected[t])


def test_compiled_and_pickled_bases_models_equal_eager(tmp_path):
    torch.manual_seed(0)
    model = to_hetero_with_bases(Sage(-1), PAPER_AUTHOR, num_bases=2, in_channels={"x": 4})
    x, ei = hetero_inputs(PAPER_AUTHOR, features={"paper": 6, "author": 3})
    expected = model(x, ei)
    compiled = gfx.compile(model)
    leaf = {t: v.clone().requires_grad_() for t, v in x.items()}
    out = compiled(leaf, ei)
    for t in NODE_TYPES:
        torch.testing.assert_close(out[t], expected[t])
    sum(v.sum() for v in out.values()).backward()
    eager_leaf = {t: v.clone().requires_grad_() for t, v in x.items()}
    sum(v.sum() for v in model(eager_leaf, ei).values()).backward()
    for t in NODE_TYPES:
        torch.testing.assert_close(leaf[t].grad, eager_leaf[t].grad)
    torch.save(model, tmp_path / "bases.pt")
    for restored in (torch.load(tmp_path / "bases.pt", weights_only=False),
                     pickle.loads(pickle.dumps(model))):
        torch.testing.assert_close(restored(x, ei)["author"], expected["author"])


def test_bad_num_bases_and_missing_entries():
    with pytest.raises(ValueError, match="'num_bases' must be a positive int"):
        to_hetero_with_bases(Sage(), PAPER_AUTHOR, num_bases=0)
    model = to_hetero_with_bases(Sage(), PAPER_AUTHOR, num_bases=2)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    with pytest.raises(KeyError, match="edge type \\('paper', 'cites', 'paper'\\)"):
        model(x, {e: v for e, v in ei.items() if e[1] != "cites"})
    bad = dict(ei)
    bad[EDGE_TYPES[1]] = torch.tensor([[0], [9]])
    with pytest.raises(IndexError, match="node type 'author' has 5 nodes"):
        model(x, bad)


def test_any_type_names_under_bases():
    metadata = (["a b", "論文"], [("a b", "-", "論文"), ("論文", "<=", "a b")])
    model = to_hetero_with_bases(Sage(), metadata, num_bases=2, in_channels={"x": 4})
    x, ei = hetero_inputs(metadata, features={"a b": 3, "論文": 6})
    out = model(x, ei)
    assert {t: v.shape for t, v in out.items()} == {"a b": (5, 3), "論文": (5, 3)}
    restored = pickle.loads(pickle.dumps(model))
    torch.testing.assert_close(restored(x, ei)["論文"], out["論文"])


def test_train_and_eval_are_honoured_under_bases():
    class Dropping(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = gnn.SAGEConv(4, 16)

        def forward(self, x, edge_index):
            return F.dropout(self.conv(x, edge_index), p=0.5, training=self.training)

    model = to_hetero_with_bases(Dropping(), PAPER_AUTHOR, num_bases=2)
    x, ei = hetero_inputs(PAPER_AUTHOR)
    model.eval()
    torch.testing.assert_close(model(x, ei)["paper"], model(x, ei)["paper"])
    model.train()
    assert (model(x, ei)["paper"] == 0).float().mean() > 0.2
