"""Fixtures of the GraphGym tests: a fresh global config per test, and tiny datasets."""
import logging

import pytest
import torch

import gfx.graphgym as gg
from gfx.data import Data, InMemoryDataset, SyntheticGraphDataset, SyntheticNodeDataset
from gfx.graphgym import register


def tiny_regression_graphs(dataset_dir=None):
    """24 small graphs whose target is their edge count divided by 10 (a float)."""
    graphs = []
    generator = torch.Generator().manual_seed(3)
    for i in range(24):
        n = 4 + i % 5
        src = torch.randint(n, (2 * n,), generator=generator)
        dst = torch.randint(n, (2 * n,), generator=generator)
        edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
        graphs.append(Data(x=torch.ones(n, 3), edge_index=edge_index,
                           y=torch.tensor([edge_index.shape[1] / 10.0])))
    return InMemoryDataset(graphs)


# Small versions of the built-in datasets, so that training runs take a second.
TINY = {
    "TinyNode": lambda d: SyntheticNodeDataset(num_nodes=120, num_features=8, avg_degree=6,
                                               feature_noise=1.0),
    "TinyGraph": lambda d: SyntheticGraphDataset(num_graphs=32, num_classes=2, min_nodes=5,
                                                 max_nodes=9, num_features=4),
    "TinyRegression": tiny_regression_graphs,
}
for _name, _factory in TINY.items():
    if _name not in register.dataset_dict:
        register.register_dataset(_name, _factory)


@pytest.fixture(autouse=True)
def fresh_cfg(tmp_path, monkeypatch):
    """Defaults in the global cfg, output under a temporary folder; the root logger's
    handlers (which set_printing replaces) are restored afterwards."""
    monkeypatch.chdir(tmp_path)
    handlers, level = logging.root.handlers[:], logging.root.level
    gg.set_cfg(gg.cfg)
    gg.cfg.out_dir = str(tmp_path / "results")
    gg.cfg.run_dir = str(tmp_path / "results" / "0")
    yield gg.cfg
    gg.set_cfg(gg.cfg)
    for handler in logging.root.handlers:
        if handler not in handlers:
            handler.close()
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


@pytest.fixture
def registry_guard():
    """Remove whatever a test registers (``registry_guard(mapping, key)``)."""
    added = []

    def track(mapping, key):
        added.append((mapping, key))
        return key

    yield track
    for mapping, key in added:
        mapping.pop(key, None)
