"""Captum helpers: edge masks scale messages, node inputs are x, hetero splitting."""
import pytest
import torch
from hypothesis import given, settings

from gfx.nn import GCN, GraphConv, SAGEConv, to_hetero
from gfx.nn.models.captum import (CaptumHeteroModel, CaptumModel, captum_output_to_dicts,
                                  to_captum_input, to_captum_model)
from tests.oracle.common import hypothesis_graph


def dense_graph_conv(conv, x, edge_index, mask):
    """GraphConv with sum aggregation, written from its formula:
    out_i = W_root x_i + W_rel sum_{(j, i)} m_ji x_j."""
    agg = torch.zeros_like(x)
    for k in range(edge_index.shape[1]):
        j, i = edge_index[:, k].tolist()
        agg[i] = agg[i] + mask[k] * x[j]
    return conv.lin_root(x) + conv.lin_rel(agg)


@settings(max_examples=10, deadline=None)
@given(g=hypothesis_graph(channels=3))
def test_edge_mask_scales_messages(g):
    x, edge_index = g["x"], g["edge_index"]
    conv = GraphConv(3, 2)
    model = to_captum_model(conv, "edge")
    (mask,), extra = to_captum_input(x, edge_index, "edge")
    assert mask.shape == (1, edge_index.shape[1]) and mask.requires_grad
    weights = torch.rand(1, edge_index.shape[1], requires_grad=True)
    out = model(weights, *extra)
    torch.testing.assert_close(out, dense_graph_conv(conv, x, edge_index, weights[0]))
    # masks are cleared afterwards: the plain layer is unchanged
    torch.testing.assert_close(conv(x, edge_index), dense_graph_conv(
        conv, x, edge_index, torch.ones(edge_index.shape[1])))
    if edge_index.shape[1]:
        out.sum().backward()
        expected = torch.stack([(conv.lin_rel.weight @ x[j]).sum()  # no bias
                                for j in edge_index[0].tolist()])
        torch.testing.assert_close(weights.grad[0], expected.detach())


def test_node_and_edge_inputs_and_output_idx():
    x = torch.randn(5, 3)
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    gcn = GCN(3, 4, num_layers=2, out_channels=2)
    full = gcn(x, edge_index)
    for mask_type in ("node", "node_and_edge"):
        inputs, extra = to_captum_input(x, edge_index, mask_type)
        assert inputs[0].shape == (1, 5, 3)
        model = to_captum_model(gcn, mask_type, output_idx=2)
        torch.testing.assert_close(model(*inputs, *extra), full[2:3])
        torch.testing.assert_close(to_captum_model(gcn, mask_type)(*inputs, *extra), full)
    inputs, extra = to_captum_input(x, edge_index, "edge", "more")
    assert extra[0] is x and extra[1] is edge_index and extra[2] == "more"
    edge_out = to_captum_model(gcn, "edge", output_idx=4)(*inputs, *extra[:2])
    torch.testing.assert_close(edge_out, full[4:5])


def test_errors():
    x, edge_index = torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="mask_type"):
        to_captum_model(GraphConv(2, 2), "graph")
    with pytest.raises(ValueError, match="leading dimension of 1"):
        to_captum_model(GraphConv(2, 2), "edge")(torch.ones(2, 2), x, edge_index)
    with pytest.raises(TypeError, match="both"):
        to_captum_input({"a": x}, edge_index, "edge")
    with pytest.raises(ValueError, match="edge_index"):
        to_captum_input(x, edge_index[0], "edge")
    with pytest.raises(ValueError, match="captum_attrs"):
        captum_output_to_dicts((x,), "node_and_edge", (["a"], [("a", "to", "a")]))
    with pytest.raises(ValueError, match="metadata"):
        to_captum_model(GraphConv(2, 2), "edge", metadata=(["a"],))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = SAGEConv((-1, -1), 2)

    def forward(self, x, edge_index):
        return self.conv(x, edge_index)


METADATA = (["a", "b"], [("a", "to", "b"), ("b", "to", "a")])


def hetero_inputs():
    g = torch.Generator().manual_seed(0)
    x_dict = {"a": torch.randn(3, 2, generator=g), "b": torch.randn(2, 2, generator=g)}
    edge_dict = {("a", "to", "b"): torch.tensor([[0, 1, 2], [0, 1, 1]]),
                 ("b", "to", "a"): torch.tensor([[0, 1], [2, 0]])}
    return x_dict, edge_dict


def test_hetero_edge_masks_per_type():
    x_dict, edge_dict = hetero_inputs()
    model = to_hetero(Net(), METADATA)
    full = model(x_dict, edge_dict)
    wrapped = to_captum_model(model, "edge", metadata=METADATA)
    assert isinstance(wrapped, CaptumHeteroModel)
    inputs, extra = to_captum_input(x_dict, edge_dict, "edge")
    assert [t.shape for t in inputs] == [(1, 3), (1, 2)]
    out = wrapped(*inputs, *extra)
    torch.testing.assert_close(out["b"], full["b"])
    # dropping the second a->b edge (mask 0) equals removing it (mean aggregation)
    out = wrapped(torch.tensor([[1.0, 0.0, 1.0]]), inputs[1], *extra)
    pruned = dict(edge_dict)
    pruned[("a", "to", "b")] = edge_dict[("a", "to", "b")][:, [0, 2]]
    expected = model(x_dict, pruned)
    torch.testing.assert_close(out["b"][0], expected["b"][0])
    torch.testing.assert_close(out["a"], full["a"])  # the other type is untouched


def test_hetero_node_inputs_and_dicts():
    x_dict, edge_dict = hetero_inputs()
    model = to_hetero(Net(), METADATA)
    model(x_dict, edge_dict)
    inputs, extra = to_captum_input(x_dict, edge_dict, "node_and_edge")
    assert [t.shape for t in inputs] == [(1, 3, 2), (1, 2, 2), (1, 3), (1, 2)]
    out = to_captum_model(model, "node_and_edge", metadata=METADATA)(*inputs, *extra)
    torch.testing.assert_close(out["a"], model(x_dict, edge_dict)["a"])
    nodes, edges = captum_output_to_dicts(inputs, "node_and_edge", METADATA)
    assert torch.equal(nodes["b"], x_dict["b"]) and edges[("b", "to", "a")].shape == (2,)
    nodes, edges = captum_output_to_dicts(inputs[2:], "edge", METADATA)
    assert nodes is None and set(edges) == set(METADATA[1])


def test_integrated_gradients_completeness():
    attr = pytest.importorskip("captum.attr")
    torch.manual_seed(0)
    x = torch.randn(6, 3)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5, 1], [1, 2, 3, 4, 5, 0, 3]])
    gcn = GCN(3, 8, num_layers=2, out_channels=2)
    model = to_captum_model(gcn, "edge", output_idx=3)
    inputs, extra = to_captum_input(x, edge_index, "edge")
    ig = attr.IntegratedGradients(model)
    attributions, delta = ig.attribute(inputs, target=1, additional_forward_args=extra,
                                       internal_batch_size=1, n_steps=200,
                                       return_convergence_delta=True)
    assert attributions[0].shape == (1, 7)
    # completeness: attributions add up to f(ones) - f(zeros)
    gap = model(torch.ones(1, 7), *extra)[0, 1] - model(torch.zeros(1, 7), *extra)[0, 1]
    torch.testing.assert_close(attributions[0].sum(), gap.detach(), atol=1e-2, rtol=1e-2)
    # edges that cannot reach node 3 within two hops get no attribution
    assert attributions[0][0, 4].abs() < 1e-6 and attributions[0][0, 5].abs() < 1e-6
