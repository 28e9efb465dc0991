"""Config defaults, loading (GraphGym YAML files unchanged, unknown keys named), dumping
and reloading, and output folders."""
import argparse
import os

import pytest
import yaml

import gfx.graphgym as gg

# A config written for the original GraphGym: legacy keys (device, augment_*) included.
GRAPHGYM_YAML = """\
out_dir: results
device: cpu
dataset:
  format: PyG
  name: Cora
  task: node
  task_type: classification
  transductive: True
  split: [0.8, 0.2]
  augment_feature: []
  augment_feature_dims: [10]
  augment_feature_repr: position
  augment_label: ''
  augment_label_dims: 5
  transform: none
train:
  batch_size: 128
  eval_period: 20
  ckpt_period: 100
model:
  type: gnn
  loss_fun: cross_entropy
  edge_decoding: dot
  graph_pooling: add
gnn:
  layers_pre_mp: 1
  layers_mp: 2
  layers_post_mp: 1
  dim_inner: 256
  layer_type: generalconv
  stage_type: stack
  batchnorm: True
  act: prelu
  dropout: 0.0
  agg: add
  normalize_adj: False
optim:
  optimizer: adam
  base_lr: 0.01
  max_epoch: 400
"""


def load(path, *opts):
    return gg.load_cfg(gg.cfg, argparse.Namespace(cfg_file=str(path), opts=list(opts)))


def test_defaults():
    cfg = gg.cfg
    assert cfg.dataset.name == "Cora" and cfg.dataset.task == "node"
    assert cfg.gnn.layers_mp == 2 and cfg.gnn.dim_inner == 16
    assert cfg.gnn.layer_type == "generalconv" and cfg.gnn.act == "relu"
    assert cfg.optim.base_lr == 0.01 and cfg.optim.max_epoch == 200
    assert cfg.optim.scheduler == "cos" and list(cfg.optim.steps) == [30, 60, 90]
    assert cfg.train.eval_period == 10 and cfg.bn.eps == 1e-5
    assert cfg.gfx.compile is False


def test_graphgym_yaml_loads_unchanged(tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(GRAPHGYM_YAML)
    cfg = load(path)
    assert cfg.gnn.dim_inner == 256 and cfg.gnn.act == "prelu"
    assert list(cfg.dataset.split) == [0.8, 0.2]
    assert cfg.dataset.augment_feature_dims == [10]
    assert cfg.device == "cpu" and cfg.accelerator == "cpu"
    assert cfg.gnn.head == "node"  # "default" resolved from the task
    assert cfg.optim.max_epoch == 400


def test_command_line_overrides_come_after_the_file(tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(GRAPHGYM_YAML)
    cfg = load(path, "gnn.layers_mp", "5", "optim.base_lr", "0.1", "gnn.layer_type", "gcnconv")
    assert cfg.gnn.layers_mp == 5 and cfg.optim.base_lr == 0.1
    assert cfg.gnn.layer_type == "gcnconv"


def test_unknown_key_in_file_is_named(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("gnn:\n  layers_mpp: 3\n")
    with pytest.raises(KeyError, match=r"unknown config key 'gnn.layers_mpp'.*typo.yaml.*"
                                       r"did you mean gnn.layers_mp"):
        load(path)


def test_unknown_group_and_unknown_override_are_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("gnnn:\n  layers_mp: 3\n")
    with pytest.raises(KeyError, match="unknown config key 'gnnn.layers_mp'"):
        load(path)
    path.write_text("{}\n")
    with pytest.raises(KeyError, match="'optim.lr' in the command line"):
        load(path, "optim.lr", "0.1")


def test_type_mismatch_names_key_and_int_becomes_float(tmp_path):
    path = tmp_path / "types.yaml"
    path.write_text("gnn:\n  layers_mp: two\n")
    with pytest.raises(ValueError, match="'gnn.layers_mp'.*expected int"):
        load(path)
    path.write_text("optim:\n  base_lr: 1\n  weight_decay: 1e-4\n")
    cfg = load(path)
    assert cfg.optim.base_lr == 1.0 and isinstance(cfg.optim.base_lr, float)
    assert cfg.optim.weight_decay == pytest.approx(1e-4)


def test_invalid_choices_are_refused(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text("dataset:\n  task: nodes\n")
    with pytest.raises(ValueError, match="cfg.dataset.task must be one of"):
        load(path)


def test_dump_then_load_round_trip(tmp_path):
    path = tmp_path / "example.yaml"
    path.write_text(GRAPHGYM_YAML)
    load(path, "gnn.dim_inner", "48", "dataset.split", "[0.6,0.2,0.2]")
    gg.cfg.out_dir = str(tmp_path / "out")
    gg.dump_cfg(gg.cfg)
    dumped = tmp_path / "out" / gg.cfg.cfg_dest
    expected = gg.cfg.clone()
    gg.set_cfg(gg.cfg)
    reloaded = load(dumped)
    assert reloaded == expected
    assert yaml.safe_load(dumped.read_text())["gnn"]["dim_inner"] == 48


def test_builtin_configs_load():
    names = gg.builtin_configs()
    assert {"node", "graph", "link", "karate", "cora"} <= set(names)
    for name in names:
        gg.set_cfg(gg.cfg)
        load(name)
    with pytest.raises(FileNotFoundError, match="built-in configs: .*node"):
        load("no_such_config")


def test_output_folders(tmp_path):
    assert gg.get_fname("configs/exp/node-l_mp=2.yaml") == "node-l_mp=2"
    gg.set_out_dir(str(tmp_path / "results"), "a/b/my_exp.yaml")
    assert gg.cfg.out_dir == str(tmp_path / "results" / "my_exp")
    stale = os.path.join(gg.cfg.out_dir, "stale.txt")
    open(stale, "w").close()
    gg.set_out_dir(str(tmp_path / "results"), "my_exp.yaml")
    assert os.path.isdir(gg.cfg.out_dir) and not os.path.exists(stale)  # emptied
    gg.cfg.seed = 7
    gg.set_run_dir(gg.cfg.out_dir)
    assert gg.cfg.run_dir == os.path.join(gg.cfg.out_dir, "7") and os.path.isdir(gg.cfg.run_dir)
    open(os.path.join(gg.cfg.run_dir, "keep.txt"), "w").close()
    gg.cfg.train.auto_resume = True  # resuming keeps what the run wrote
    gg.set_run_dir(gg.cfg.out_dir)
    assert os.path.exists(os.path.join(gg.cfg.run_dir, "keep.txt"))


def test_parse_args():
    args = gg.parse_args(["--cfg", "node", "--repeat", "3", "gnn.layers_mp", "4"])
    assert args.cfg_file == "node" and args.repeat == 3 and args.opts == ["gnn.layers_mp", "4"]
    with pytest.raises(SystemExit):
        gg.parse_args(["--repeat", "2"])  # --cfg is required
