import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gfx.nn import CuGraphSAGEConv
from tests.graphs import edge_lists, neighbour_lists


def loop_sage(conv, x, edge_index, num_dst, aggr):
    """lin([aggregate of neighbours || root]), neighbour by neighbour."""
    if conv.project:
        x = torch.relu(x @ conv.pre_lin.weight.t() + conv.pre_lin.bias)
    reduce = {"mean": lambda t: t.mean(0), "sum": lambda t: t.sum(0),
              "max": lambda t: t.max(0).values, "min": lambda t: t.min(0).values}[aggr]
    rows = []
    for i, nbrs in enumerate(neighbour_lists(edge_index, num_dst)):
        agg = reduce(torch.stack([x[j] for _, j in nbrs])) if nbrs else x.new_zeros(x.shape[1])
        rows.append(torch.cat([agg, x[i]]) if conv.root_weight else agg)
    out = torch.stack(rows) @ conv.lin.weight.t()
    if conv.lin.bias is not None:
        out = out + conv.lin.bias
    return torch.nn.functional.normalize(out, dim=-1) if conv.normalize else out


@settings(max_examples=10, deadline=None)
@given(edge_lists(bipartite=True), st.sampled_from(["mean", "sum", "max", "min"]),
       st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_cugraph_sage_matches_loop_formula(graph, aggr, normalize, root_weight, project,
                                           csc):
    edge_index, num_src, num_dst = graph
    num_src = max(num_src, num_dst)  # targets are the first rows of x
    torch.manual_seed(0)
    conv = CuGraphSAGEConv(3, 4, aggr=aggr, normalize=normalize, root_weight=root_weight,
                           project=project).double()
    x = torch.randn(num_src, 3, dtype=torch.float64)
    if csc or num_dst != num_src:  # a CSC triple carries both sizes
        graph_input = CuGraphSAGEConv.to_csc(edge_index, (num_src, num_dst))
    else:
        graph_input = edge_index
    expected = loop_sage(conv, x, edge_index, num_dst, aggr)
    torch.testing.assert_close(conv(x, graph_input), expected)


def test_to_csc_orders_by_target_and_permutes_attributes():
    edge_index = torch.tensor([[0, 1, 2, 3], [2, 0, 2, 1]])
    (row, colptr, n), attr = CuGraphSAGEConv.to_csc(edge_index, (4, 3),
                                                    torch.tensor([10, 11, 12, 13]))
    assert row.tolist() == [1, 3, 0, 2] and colptr.tolist() == [0, 1, 2, 4] and n == 4
    assert attr.tolist() == [11, 13, 10, 12]


def test_cugraph_sage_layout_and_repr():
    conv = CuGraphSAGEConv(4, 5, project=True)
    assert str(conv) == "CuGraphSAGEConv(4, 5, aggr=mean)"
    assert {k: tuple(v.shape) for k, v in conv.state_dict().items()} == {
        "pre_lin.weight": (4, 4), "pre_lin.bias": (4,), "lin.weight": (5, 8),
        "lin.bias": (5,)}
    assert set(CuGraphSAGEConv(4, 5, root_weight=False, bias=False).state_dict()) == \
        {"lin.weight"}


def test_cugraph_sage_errors():
    with pytest.raises(ValueError, match="aggr"):
        CuGraphSAGEConv(4, 5, aggr="lstm")
    conv = CuGraphSAGEConv(2, 2)
    x, ei = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="max_num_neighbors"):
        conv(x, ei, max_num_neighbors=-1)
    with pytest.raises(ValueError, match="colptr"):
        conv(x, (ei[0], torch.tensor([0, 1, 1]), 3))
    with pytest.raises(ValueError, match="CSC"):
        conv(x, (ei[0], ei[1]))
    with pytest.raises(TypeError, match="edge_index"):
        conv(x, "0-1 1-2")
    with pytest.raises(ValueError, match="'x'"):
        conv(torch.randn(3, 4), ei)


def test_cugraph_sage_compiles_with_edge_index_and_csc_inputs():
    import gfx
    torch.manual_seed(0)
    conv = CuGraphSAGEConv(3, 4, aggr="max")
    compiled = gfx.compile(conv, backend="reference")
    x, edge_index = torch.randn(5, 3), torch.tensor([[0, 1, 2, 4], [1, 2, 3, 1]])
    torch.testing.assert_close(compiled(x, edge_index), conv(x, edge_index))
    # A CSC triple is a structured input: captured again, flattened, and equal to eager.
    csc = CuGraphSAGEConv.to_csc(edge_index, (5, 5))
    torch.testing.assert_close(compiled(x, csc), conv(x, csc))
