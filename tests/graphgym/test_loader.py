"""Datasets, splits and loaders built from the config."""
import os

import pytest
import torch

import gfx.graphgym as gg
from gfx.data import KarateClub, SyntheticNodeDataset
from gfx.graphgym import register
from gfx.graphgym.loader import create_dataset

PLANETOID = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data",
                         "planetoid")


def use(cfg, name, task="node", **dataset):
    cfg.dataset.format, cfg.dataset.name, cfg.dataset.task = "gfx", name, task
    for key, value in dataset.items():
        cfg.dataset[key] = value


def test_node_dataset_keeps_its_own_split(fresh_cfg):
    use(fresh_cfg, "SyntheticNode")
    datasets = create_dataset()
    assert len(datasets) == 3 and all(d is datasets[0] for d in datasets)
    graph, original = datasets[0][0], SyntheticNodeDataset()[0]
    for split in ("train", "val", "test"):
        assert torch.equal(graph[f"{split}_mask"], original[f"{split}_mask"])
    assert (fresh_cfg.share.dim_in, fresh_cfg.share.dim_out) == (32, 4)
    assert fresh_cfg.share.num_splits == 3


def test_nodes_without_masks_are_split_by_the_config(fresh_cfg):
    use(fresh_cfg, "karateclub", split=[0.6, 0.2, 0.2])  # names are case-insensitive
    graph = create_dataset()[0][0]
    masks = [graph[f"{s}_mask"] for s in ("train", "val", "test")]
    assert [int(m.sum()) for m in masks] == [20, 7, 7]
    assert torch.equal(masks[0] | masks[1] | masks[2], torch.ones(34, dtype=torch.bool))
    assert not (masks[0] & masks[1]).any() and not (masks[1] & masks[2]).any()
    again = create_dataset()[0][0]
    assert torch.equal(again.train_mask, masks[0])  # same seed, same split
    fresh_cfg.seed = 1
    assert not torch.equal(create_dataset()[0][0].train_mask, masks[0])
    assert KarateClub()[0].val_mask is None  # the dataset itself is untouched
    use(fresh_cfg, "KarateClub", split=[0.8, 0.2])
    assert len(create_dataset()) == 2 and fresh_cfg.share.num_splits == 2


def test_graph_datasets_are_split_into_graph_sets(fresh_cfg):
    use(fresh_cfg, "TinyGraph", task="graph", split=[0.5, 0.25, 0.25], shuffle_split=False)
    train, val, test = create_dataset()
    assert (len(train), len(val), len(test)) == (16, 8, 8)
    assert fresh_cfg.share.dim_out == 2 and fresh_cfg.share.dim_in == 4
    loaders = gg.create_loader()
    batch = next(iter(loaders[1]))
    assert batch.num_graphs == 8 and batch.y.shape == (8,)


def pair_set(edge_index):
    return {(min(u, v), max(u, v)) for u, v in edge_index.t().tolist()}


@pytest.mark.parametrize("mode", ["all", "disjoint"])
def test_link_prediction_splits(fresh_cfg, mode):
    use(fresh_cfg, "TinyNode", task="link_pred", split=[0.8, 0.1, 0.1], edge_train_mode=mode)
    datasets = create_dataset()
    full = SyntheticNodeDataset(num_nodes=120, num_features=8, avg_degree=6,
                                feature_noise=1.0)[0]
    edges = pair_set(full.edge_index)
    positives = []
    for name, dataset in zip(("train", "val", "test"), datasets):
        graph = dataset[0]
        index, label = graph[f"{name}_edge_index"], graph[f"{name}_edge_label"]
        pos, neg = index[:, label == 1], index[:, label == 0]
        assert pos.shape[1] == neg.shape[1] > 0
        assert pair_set(pos) <= edges and not pair_set(neg) & edges
        assert bool((neg[0] != neg[1]).all())
        positives.append(pair_set(pos))
        if name != "train":  # evaluation pairs never carry messages
            assert not pair_set(graph.edge_index) & pair_set(pos)
    assert not positives[0] & positives[1] and not positives[1] & positives[2]
    train_messages = pair_set(datasets[0][0].edge_index)
    if mode == "all":
        assert train_messages == positives[0]
    else:  # supervision pairs are held out of training messages
        assert not train_messages & positives[0]
        assert pair_set(datasets[1][0].edge_index) == train_messages | positives[0]
    assert fresh_cfg.share.dim_out == 1


def test_resampled_negatives_change_and_positives_stay(fresh_cfg):
    use(fresh_cfg, "TinyNode", task="link_pred", resample_negative=True)
    train = create_dataset()[0]
    first, second = train[0].train_edge_index, train[0].train_edge_index
    num_pos = int(train[0].train_edge_label.sum())
    assert torch.equal(first[:, :num_pos], second[:, :num_pos])
    assert not torch.equal(first[:, num_pos:], second[:, num_pos:])


def test_transforms(fresh_cfg):
    use(fresh_cfg, "KarateClub", transform="normalize_features", to_undirected=True)
    fresh_cfg.dataset.remove_feature = False
    graph = create_dataset()[0][0]
    assert torch.allclose(graph.x.sum(1), torch.ones(34))
    fresh_cfg.dataset.remove_feature = True
    assert create_dataset()[0][0].x.shape == (34, 1)
    fresh_cfg.dataset.transform = "ego"
    with pytest.raises(ValueError, match="cfg.dataset.transform must be one of"):
        create_dataset()


def test_dataset_lookup_errors_and_registered_loaders(fresh_cfg, registry_guard):
    use(fresh_cfg, "NoSuchSet")
    with pytest.raises(KeyError, match="no dataset named 'NoSuchSet'.*KarateClub"):
        create_dataset()
    fresh_cfg.dataset.format = "OGB"
    with pytest.raises(ValueError, match="format 'OGB' is handled by no registered loader"):
        create_dataset()

    @gg.register_loader(registry_guard(register.loader_dict, "test_ogb"))
    def load_ogb_like(fmt, name, dataset_dir):
        return KarateClub() if fmt == "OGB" else None

    fresh_cfg.dataset.split = [0.5, 0.5]
    assert create_dataset()[0][0].num_nodes == 34


def test_unsupported_sampler_is_named(fresh_cfg):
    use(fresh_cfg, "KarateClub")
    fresh_cfg.train.sampler = "metis"
    with pytest.raises(ValueError, match="sampler 'metis' is not supported"):
        gg.create_loader()


@pytest.mark.skipif(not os.path.isdir(PLANETOID), reason="shared/data/planetoid not present")
def test_cora_from_the_planetoid_folder(fresh_cfg):
    fresh_cfg.dataset.format, fresh_cfg.dataset.name = "PyG", "Cora"
    fresh_cfg.dataset.dir = PLANETOID
    graph = create_dataset()[0][0]
    assert [int(graph[f"{s}_mask"].sum()) for s in ("train", "val", "test")] == [140, 500, 1000]
    assert (fresh_cfg.share.dim_in, fresh_cfg.share.dim_out) == (1433, 7)
