"""The reference library's versions of the benchmark workloads, with gfx's weights.

Used by ``python -m gfx bench`` (loaded by path: the library itself never imports the
reference library).  ``build(workload, gfx_model)`` returns a model of the same shape
whose ``state_dict`` is loaded from the gfx model.
"""
import torch
import torch.nn.functional as F
import torch_geometric.nn as pyg_nn


class TwoLayer(torch.nn.Module):
    def __init__(self, conv1, conv2):
        super().__init__()
        self.conv1, self.conv2 = conv1, conv2

    def forward(self, x, edge_index):
        return self.conv2(F.relu(self.conv1(x, edge_index)), edge_index)


def _mlp(f):
    return torch.nn.Sequential(pyg_nn.Linear(f, f), torch.nn.ReLU(), pyg_nn.Linear(f, f))


def _convs(workload: str, f: int):
    if workload == "gcn":
        return pyg_nn.GCNConv(f, f), pyg_nn.GCNConv(f, f)
    if workload == "sage" or workload.startswith("hetero-sage"):
        return pyg_nn.SAGEConv(f, f), pyg_nn.SAGEConv(f, f)
    if workload == "gin":
        return pyg_nn.GINConv(_mlp(f)), pyg_nn.GINConv(_mlp(f))
    if workload == "gat":
        return pyg_nn.GATConv(f, f // 4, heads=4), pyg_nn.GATConv(f, f // 4, heads=4)
    raise ValueError(f"no reference model for workload '{workload}'")


def build(workload: str, gfx_model: torch.nn.Module) -> torch.nn.Module:
    state = gfx_model.state_dict()
    if workload.startswith("hetero-sage"):
        # gfx.to_hetero keeps the same module tree as the reference's to_hetero.
        return _hetero(workload, gfx_model, state)
    f = next(v.shape[-1] for k, v in state.items() if k.endswith("weight") and v.dim() == 2)
    model = TwoLayer(*_convs(workload, f))
    model.load_state_dict(state)
    return model


def _hetero(workload, gfx_model, state):
    meta = getattr(gfx_model, "meta", {}).get("metadata")
    if meta is None:
        raise ValueError("the gfx hetero model does not record its metadata")
    f = next(v for k, v in state.items() if k.endswith("lin_l.weight")).shape[1]
    model = pyg_nn.to_hetero(TwoLayer(*_convs(workload, f)), meta, aggr="sum")
    model.load_state_dict(state, strict=False)
    return model


def neighbor_loader_and_model(graph, fanout, batch_size, features, hidden, classes):
    """The reference's NeighborLoader and GraphSAGE for ``python -m gfx.bench_neighbor``."""
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader
    loader = NeighborLoader(Data(**graph), num_neighbors=fanout, batch_size=batch_size,
                            shuffle=True)
    return loader, pyg_nn.GraphSAGE(features, hidden, len(fanout), classes)
