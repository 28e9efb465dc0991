"""GraphGym's mini-batch samplers (``cfg.train.sampler``): the loaders they build, which
nodes each batch scores, and short end-to-end training runs with every sampler."""
import argparse
import json

import pytest
import torch
import yaml

import gfx.graphgym as gg
from gfx.graphgym.loader import (SAMPLERS, SeedMasks, SplitBatches, create_dataset,
                                 get_loader)
from gfx.graphgym.main import run_experiment
from gfx.loader import (ClusterLoader, GraphSAINTEdgeSampler, GraphSAINTNodeSampler,
                        GraphSAINTRandomWalkSampler, NeighborLoader, RandomNodeLoader)

SAMPLED = [s for s in SAMPLERS if s != "full_batch"]
KINDS = {"neighbor": NeighborLoader, "random_node": RandomNodeLoader,
         "saint_rw": GraphSAINTRandomWalkSampler, "saint_node": GraphSAINTNodeSampler,
         "saint_edge": GraphSAINTEdgeSampler, "cluster": ClusterLoader}

NODE = {
    "dataset": {"format": "gfx", "name": "TinyNode", "task": "node",
                "task_type": "classification"},
    "train": {"eval_period": 1, "ckpt_period": 100, "enable_ckpt": False,
              "batch_size": 32, "neighbor_sizes": [5, 5], "train_parts": 4,
              "iter_per_epoch": 4, "walk_length": 3},
    "gnn": {"layers_pre_mp": 1, "layers_mp": 2, "layers_post_mp": 1, "dim_inner": 16,
            "layer_type": "sageconv", "batchnorm": False, "l2norm": False},
    "optim": {"max_epoch": 6, "base_lr": 0.05},
    "print": "file", "num_threads": 1,
}


def node_task(cfg, name="TinyNode"):
    cfg.dataset.format, cfg.dataset.name, cfg.dataset.task = "gfx", name, "node"
    cfg.train.neighbor_sizes = [4, 3]
    cfg.gnn.layers_mp = 2
    cfg.train.train_parts = 4
    cfg.train.iter_per_epoch = 3
    return create_dataset()


def run(tmp_path, name, config):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**config, "out_dir": str(tmp_path / "results")}))
    results = run_experiment(argparse.Namespace(cfg_file=str(path), repeat=1, opts=[],
                                                mark_done=False))
    return results, tmp_path / "results" / name


def stats(folder, split):
    with open(folder / "0" / split / "stats.json") as handle:
        return [json.loads(line) for line in handle]


def with_train(**values):
    config = json.loads(json.dumps(NODE))
    config["train"].update(values)
    return config


@pytest.mark.parametrize("sampler", SAMPLED)
def test_each_sampler_builds_its_loader(fresh_cfg, sampler):
    datasets = node_task(fresh_cfg)
    loader = get_loader(datasets[0], sampler, 16, split="train")
    assert isinstance(loader, KINDS[sampler])
    graph = datasets[0][0]
    for batch in loader:
        assert batch.x.shape[1] == graph.x.shape[1]
        assert batch.train_mask.shape == (batch.num_nodes,)
        # Local edges only; the node attributes are rows of the graph's (the masks too).
        if batch.edge_index.numel():
            assert int(batch.edge_index.max()) < batch.num_nodes
        rows = (batch.x.unsqueeze(1) == graph.x.unsqueeze(0)).all(-1)
        found = rows.float().argmax(1)
        assert rows.any(1).all()
        assert torch.equal(batch.y, graph.y[found])
        expected = graph.train_mask[found]
        if sampler == "neighbor":  # seeds only (SeedMasks)
            expected = expected & (torch.arange(batch.num_nodes) < batch.batch_size)
        assert torch.equal(batch.train_mask, expected)


def test_config_names_the_sampler_sizes(fresh_cfg):
    datasets = node_task(fresh_cfg)
    fresh_cfg.train.train_parts, fresh_cfg.train.iter_per_epoch = 5, 7
    fresh_cfg.train.walk_length = 6
    assert len(get_loader(datasets[0], "random_node", 16)) == 5
    clusters = get_loader(datasets[0], "cluster", 2)
    assert len(clusters.cluster_data) == 5 and len(clusters) == 3  # ceil(5 / 2)
    walks = get_loader(datasets[0], "saint_rw", 8)
    assert len(walks) == 7 and walks.walk_length == 6
    assert len(get_loader(datasets[0], "saint_edge", 8)) == 7


def test_default_sizes_are_the_reference_defaults(fresh_cfg):
    train = fresh_cfg.train
    assert train.sampler == "full_batch" and fresh_cfg.val.sampler == "full_batch"
    assert list(train.neighbor_sizes) == [20, 15, 10, 5]
    assert (train.iter_per_epoch, train.walk_length, train.batch_size) == (32, 4, 16)
    assert train.train_parts == 20


def test_neighbor_batches_score_each_split_node_once_as_a_seed(fresh_cfg):
    datasets = node_task(fresh_cfg)
    graph = datasets[0][0]
    for split, shuffle in (("train", True), ("val", False), ("test", False)):
        loader = get_loader(datasets[0], "neighbor", 16, shuffle=shuffle, split=split)
        scored = []
        for batch in loader:
            mask = batch[f"{split}_mask"]
            assert not mask[batch.batch_size:].any()  # neighbours are never scored
            assert mask[:batch.batch_size].all()  # the seeds are the split's nodes
            scored.append(batch.n_id[mask])
            # Seeds' labels are the graph's: the head compares the right pairs.
            assert torch.equal(batch.y[mask], graph.y[batch.n_id[mask]])
        scored = torch.cat(scored)
        expected = graph[f"{split}_mask"].nonzero().view(-1)
        assert torch.equal(scored.sort().values, expected)


def test_neighbor_loader_follows_the_layers_and_sizes(fresh_cfg):
    datasets = node_task(fresh_cfg)
    fresh_cfg.train.neighbor_sizes = [2, 1, 7]
    fresh_cfg.gnn.layers_mp = 2  # only the first two hops are sampled
    batch = next(iter(get_loader(datasets[0], "neighbor", 8, split="train")))
    assert len(batch.num_sampled_nodes) == 3  # seeds, hop 1, hop 2
    hop1 = batch.num_sampled_edges[0]
    assert hop1 <= 2 * batch.batch_size
    assert batch.num_sampled_edges[1] <= batch.num_sampled_nodes[1]


def test_seed_masks_without_a_split_keep_every_seed(fresh_cfg):
    datasets = node_task(fresh_cfg)
    graph = datasets[0][0]
    loader = get_loader(datasets[0], "neighbor", 50, shuffle=False)  # no split: all nodes
    seen = torch.cat([b.n_id[:b.batch_size] for b in loader])
    assert torch.equal(seen, torch.arange(graph.num_nodes))
    assert repr(SeedMasks()) == "SeedMasks()"


def test_bad_sampler_settings_name_the_key(fresh_cfg):
    datasets = node_task(fresh_cfg)
    with pytest.raises(ValueError, match="cfg.train.sampler 'metis'"):
        get_loader(datasets[0], "metis", 16)
    with pytest.raises(ValueError, match="cfg.train.batch_size"):
        get_loader(datasets[0], "neighbor", 0)
    fresh_cfg.gnn.layers_mp = 3
    with pytest.raises(ValueError, match="cfg.train.neighbor_sizes"):
        get_loader(datasets[0], "neighbor", 16)
    fresh_cfg.train.train_parts = 0
    with pytest.raises(ValueError, match="cfg.train.train_parts"):
        get_loader(datasets[0], "cluster", 16)
    fresh_cfg.dataset.format, fresh_cfg.dataset.name = "gfx", "TinyGraph"
    fresh_cfg.dataset.task = "graph"
    graphs = create_dataset()
    with pytest.raises(ValueError, match="needs cfg.dataset.task 'node'"):
        get_loader(graphs[0], "saint_node", 4)


@pytest.mark.parametrize("sampler", SAMPLED)
def test_each_sampler_trains_a_node_classifier(tmp_path, sampler):
    results, folder = run(tmp_path, sampler, with_train(sampler=sampler))
    train = stats(folder, "train")
    assert len(train) == 6
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in train)
    assert train[-1]["loss"] < train[0]["loss"]  # it learns
    assert results["test"]["accuracy"] > 0.4  # 4 classes: chance is 0.25


@pytest.mark.parametrize("sampler", ["neighbor", "cluster"])
def test_sampled_validation(tmp_path, sampler):
    config = with_train(sampler=sampler)
    config["val"] = {"sampler": sampler}
    results, folder = run(tmp_path, f"val_{sampler}", config)
    val = stats(folder, "val")
    assert len(val) == 6 and results["val"]["accuracy"] > 0.4


def test_neighbor_sampling_reaches_the_documented_accuracy(tmp_path):
    """The embedded synthetic node dataset (1000 nodes, 4 classes, homophily 0.8): a
    two-layer GraphSAGE trained for 8 epochs on neighbour-sampled batches of 64 seeds
    (fan-out [10, 10], 10 steps an epoch) and evaluated on every test node reaches at
    least 0.85 test accuracy (0.96 when this was written; the same 8 epochs full-batch,
    one step each, reach 0.63)."""
    config = with_train(sampler="neighbor", batch_size=64, neighbor_sizes=[10, 10])
    config["dataset"]["name"] = "SyntheticNode"
    config["val"] = {"sampler": "neighbor"}
    config["optim"] = {"max_epoch": 8, "base_lr": 0.01}
    config["train"]["eval_period"] = 7
    results, _ = run(tmp_path, "documented", config)
    assert results["test"]["accuracy"] >= 0.85


def test_loaders_of_a_run(fresh_cfg):
    node_task(fresh_cfg)
    fresh_cfg.train.sampler = "saint_node"
    fresh_cfg.val.sampler = "neighbor"
    train, val, test = gg.create_loader()
    assert isinstance(train, SplitBatches) and train.split == "train"
    assert isinstance(train.loader, GraphSAINTNodeSampler) and len(train.loader) == 3
    assert train.num_steps == 3  # attributes are the wrapped loader's
    assert isinstance(val, NeighborLoader) and isinstance(test, NeighborLoader)
    graph = create_dataset()[0][0]
    assert sum(int(b.val_mask.sum()) for b in val) == int(graph.val_mask.sum())


def test_split_batches_leave_out_batches_without_split_nodes(fresh_cfg):
    datasets = node_task(fresh_cfg)
    fresh_cfg.train.train_parts = 60  # blocks of 2 nodes: many hold no training node
    loader = get_loader(datasets[0], "random_node", 16, shuffle=False)
    kept = list(SplitBatches(loader, "train"))
    every = list(loader)
    with_train_nodes = [b for b in every if b.train_mask.any()]
    assert 0 < len(kept) == len(with_train_nodes) < len(every)
    assert all(torch.equal(a.n_id, b.n_id) for a, b in zip(kept, with_train_nodes))
    graph = datasets[0][0]
    assert sum(int(b.train_mask.sum()) for b in kept) == int(graph.train_mask.sum())
    assert repr(SplitBatches(loader, "val")) == "SplitBatches(RandomNodeLoader(), split='val')"


def test_a_run_with_empty_batches_logs_finite_losses(tmp_path):
    results, folder = run(tmp_path, "sparse", with_train(sampler="random_node",
                                                         train_parts=60))
    train, val = stats(folder, "train"), stats(folder, "val")
    assert len(train) == 6 and len(val) == 6  # validation still runs every epoch
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in train)


def test_compiled_layers_train_on_neighbor_batches(tmp_path):
    config = with_train(sampler="neighbor")
    config["gfx"] = {"compile": True, "backend": "cpp"}
    results, folder = run(tmp_path, "compiled", config)
    assert len(stats(folder, "train")) == 6  # batches of varying sizes, one model
    assert results["test"]["accuracy"] > 0.4
