"""Seeded construction draws the same initial weights as the reference library, and
``str()`` reads the same, for every component both libraries have.

Equal draws under ``torch.manual_seed`` are what makes seeded training curves equal after
a port; each row builds the gfx component and the reference's with the same arguments.
"""
import pytest
import torch

torch_geometric = pytest.importorskip("torch_geometric")

import gfx.nn as gnn  # noqa: E402

pyg = torch_geometric.nn
F = 5
META = (["a", "b"], [("a", "r", "b")])


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(F, F))


CASES = [
    ("SimpleConv",), ("GCNConv", F, 4), ("ChebConv", F, 4, 3), ("SAGEConv", F, 4),
    ("SAGEConv", (F, 3), 4), ("GraphConv", F, 4), ("GatedGraphConv", 4, 2),
    ("ResGatedGraphConv", F, 4), ("GATConv", F, 4, {"heads": 2}),
    ("GATv2Conv", F, 4, {"heads": 2}), ("TransformerConv", F, 4, {"heads": 2}),
    ("AGNNConv",), ("TAGConv", F, 4), ("ARMAConv", F, 4), ("SGConv", F, 4),
    ("SSGConv", F, 4, 0.1), ("APPNP", 3, 0.1), ("MFConv", F, 4), ("GeneralConv", F, 4),
    ("LGConv",), ("GCN2Conv", F, 0.1), ("ClusterGCNConv", F, 4), ("GENConv", F, 4),
    ("GENConv", F, 4, {"aggr": "power", "learn_p": True, "msg_norm": True}),
    ("LEConv", F, 4), ("FiLMConv", F, 4), ("RGCNConv", F, 4, 3), ("FastRGCNConv", F, 4, 3),
    ("GINEConv", "MLP", {"edge_dim": 3}), ("GINConv", "MLP"), ("EdgeConv", "MLP"),
    ("HGTConv", F, 4, META), ("HANConv", F, 4, META),
    ("PNAConv", F, 4, ["mean", "max"], ["identity", "amplification"],
     torch.tensor([0, 3, 2, 1])),
    ("BatchNorm", F), ("InstanceNorm", F), ("LayerNorm", F), ("GraphNorm", F),
    ("GraphSizeNorm",), ("PairNorm",), ("MeanSubtractionNorm",), ("MessageNorm", True),
    ("Linear", F, 4), ("HeteroLinear", F, 4, 3), ("HeteroDictLinear", F, 4, ["a", "b"]),
    ("MLP", [F, 8, 4]), ("GCN", F, 8, 2), ("GraphSAGE", F, 8, 2), ("GIN", F, 8, 2),
    ("GAT", F, 8, 2), ("EdgeCNN", F, 8, 2), ("JumpingKnowledge", "cat"),
    ("JumpingKnowledge", "lstm", 4, 2),
]


def build(lib, case):
    name, args = case[0], list(case[1:])
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    args = [mlp() if a == "MLP" else a for a in args]
    torch.manual_seed(0)
    return getattr(lib, name)(*args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_seeded_initialisation_and_str_equal_the_reference(case):
    ours, theirs = build(gnn, case), build(pyg, case)
    assert str(ours) == str(theirs)
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)
