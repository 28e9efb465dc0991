import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gfx.nn import FiLMConv
from tests.graphs import edge_lists, neighbour_lists
from tests.nn.test_lg_conv import PairInput, assert_lowers


def loop_film(conv, x_src, x_dst, edge_index, edge_type, act, aggr):
    C = conv.out_channels

    def modulate(film, lin, src, dst):
        p = film(dst)
        return act(p[C:] * (lin.weight @ src) + p[:C])

    out = torch.stack([modulate(conv.film_skip, conv.lin_skip, v, v) for v in x_dst])
    for r in range(conv.num_relations):
        keep = (edge_type == r) if conv.num_relations > 1 else \
            torch.ones(edge_index.shape[1], dtype=torch.bool)
        for i, nbrs in enumerate(neighbour_lists(edge_index[:, keep], x_dst.shape[0])):
            if nbrs:
                msgs = torch.stack([modulate(conv.films[r], conv.lins[r], x_src[j], x_dst[i])
                                    for _, j in nbrs])
                out[i] = out[i] + (msgs.mean(0) if aggr == "mean" else msgs.sum(0))
    return out


@given(edge_lists(bipartite=True), st.integers(1, 3), st.booleans(),
       st.sampled_from(["mean", "sum"]), st.data())
def test_film_bipartite_matches_loop_formula(graph, relations, relu, aggr, data):
    edge_index, n_src, n_dst = graph
    torch.manual_seed(0)
    conv = FiLMConv((3, 2), 4, num_relations=relations,
                    act=torch.nn.ReLU() if relu else None, aggr=aggr).double()
    x_src = torch.randn(n_src, 3, dtype=torch.float64)
    x_dst = torch.randn(n_dst, 2, dtype=torch.float64)
    types = data.draw(st.lists(st.integers(0, relations - 1), min_size=edge_index.shape[1],
                               max_size=edge_index.shape[1]))
    edge_type = torch.tensor(types, dtype=torch.long)
    act = torch.relu if relu else (lambda v: v)
    expected = loop_film(conv, x_src, x_dst, edge_index, edge_type, act, aggr)
    torch.testing.assert_close(conv((x_src, x_dst), edge_index, edge_type), expected)


def test_film_custom_nn_is_copied_per_relation():
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    conv = FiLMConv(3, 2, num_relations=2, nn=net)
    assert conv.films[0] is not net and conv.films[0] is not conv.films[1]
    assert not torch.equal(conv.films[0][0].weight, conv.films[1][0].weight)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    et = torch.tensor([0, 1, 1, 0])
    expected = loop_film(conv, x, x, ei, et, torch.relu, "mean")
    torch.testing.assert_close(conv(x, ei, et), expected)


def test_film_lowers():
    x, ei = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 1]])
    et = torch.tensor([0, 1, 0, 1, 1, 0])
    low = assert_lowers(FiLMConv(3, 4, num_relations=2), x, ei, et, concrete_args={})
    assert "edges_of_type" in low.code
    assert_lowers(FiLMConv(3, 4), x, ei)
    assert_lowers(PairInput(FiLMConv((3, 2), 4, num_relations=2)), x, torch.randn(3, 2),
                  torch.tensor([[0, 4, 2], [0, 1, 1]]), torch.tensor([1, 0, 1]),
                  concrete_args={})


def test_film_state_dict_and_errors():
    conv = FiLMConv((3, 2), 4, num_relations=2)
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "lins.0.weight": (4, 3), "lins.1.weight": (4, 3), "films.0.weight": (8, 2),
        "films.0.bias": (8,), "films.1.weight": (8, 2), "films.1.bias": (8,),
        "lin_skip.weight": (4, 2), "film_skip.weight": (8, 2)}
    with pytest.raises(ValueError, match="FiLMConv.*num_relations"):
        FiLMConv(3, 2, num_relations=0)
    x = (torch.randn(3, 3), torch.randn(2, 2))
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="FiLMConv.*edge_type.*required"):
        conv(x, ei)
    with pytest.raises(ValueError, match=r"FiLMConv.*edge_type.*\[0, 2\)"):
        conv(x, ei, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="FiLMConv.*edge_type.*shape"):
        conv(x, ei, torch.tensor([0]))
    with pytest.raises(ValueError, match="FiLMConv.*target.*2 features"):
        conv((torch.randn(3, 3), torch.randn(2, 3)), ei, torch.tensor([0, 1]))
