"""Every registry: decorator and direct registration, duplicates refused, lookups that
fail list the registered names, and the built-in entries exist."""
import pytest
import torch

import gfx.graphgym as gg
from gfx.graphgym import register

REGISTRIES = [
    (gg.register_act, register.act_dict),
    (gg.register_node_encoder, register.node_encoder_dict),
    (gg.register_edge_encoder, register.edge_encoder_dict),
    (gg.register_stage, register.stage_dict),
    (gg.register_head, register.head_dict),
    (gg.register_layer, register.layer_dict),
    (gg.register_pooling, register.pooling_dict),
    (gg.register_network, register.network_dict),
    (gg.register_config, register.config_dict),
    (gg.register_dataset, register.dataset_dict),
    (gg.register_loader, register.loader_dict),
    (gg.register_optimizer, register.optimizer_dict),
    (gg.register_scheduler, register.scheduler_dict),
    (gg.register_loss, register.loss_dict),
    (gg.register_train, register.train_dict),
    (gg.register_metric, register.metric_dict),
]


@pytest.mark.parametrize("register_fn,mapping", REGISTRIES,
                         ids=[fn.__name__ for fn, _ in REGISTRIES])
def test_register_as_decorator_and_directly(register_fn, mapping, registry_guard):
    key = registry_guard(mapping, "test_entry_a")

    def component():
        return "a"

    assert register_fn(key)(component) is component  # the decorator returns it unchanged
    assert mapping[key] is component
    other = registry_guard(mapping, "test_entry_b")
    assert register_fn(other, len) is None
    assert mapping[other] is len


@pytest.mark.parametrize("register_fn,mapping", REGISTRIES,
                         ids=[fn.__name__ for fn, _ in REGISTRIES])
def test_duplicate_names_are_refused(register_fn, mapping, registry_guard):
    key = registry_guard(mapping, "test_entry_dup")
    register_fn(key, print)
    with pytest.raises(KeyError, match="'test_entry_dup' is already registered"):
        register_fn(key, len)
    with pytest.raises(KeyError, match="already registered"):
        register_fn(key)(len)
    assert mapping[key] is print


def test_register_base_with_any_mapping_and_bad_keys():
    mapping = {}
    register.register_base(mapping, "x", 1)
    assert mapping == {"x": 1}
    with pytest.raises(TypeError, match="non-empty string"):
        register.register_base(mapping, "", 2)
    with pytest.raises(TypeError, match="non-empty string"):
        register.register_base(mapping, 3, 2)


def test_failed_lookup_lists_registered_names():
    with pytest.raises(KeyError) as info:
        register.resolve(register.pooling_dict, "median", "cfg.model.graph_pooling")
    message = str(info.value)
    assert "no pooling named 'median'" in message and "cfg.model.graph_pooling" in message
    assert "add, max, mean" in message


def test_unknown_layer_type_in_a_model_names_the_choices(fresh_cfg):
    fresh_cfg.gnn.layer_type = "nosuchconv"
    with pytest.raises(KeyError, match="no layer named 'nosuchconv'.*gcnconv"):
        gg.GNNLayer(4, 4)


def test_builtin_entries():
    assert {"relu", "selu", "prelu", "elu", "lrelu_01", "lrelu_025", "lrelu_05", "swish",
            "identity"} <= set(register.act_dict)
    assert {"linear", "mlp", "gcnconv", "sageconv", "gatconv", "ginconv", "generalconv",
            "generaledgeconv", "generalsampleedgeconv"} <= set(register.layer_dict)
    assert set(register.head_dict) >= {"node", "edge", "link_pred", "graph"}
    assert set(register.stage_dict) >= {"stack", "skipsum", "skipconcat"}
    assert register.network_dict["gnn"] is gg.GNN
    assert register.pooling_dict["mean"] is gg.global_mean_pool
    assert {"adam", "sgd"} <= set(register.optimizer_dict)
    assert {"none", "step", "cos"} <= set(register.scheduler_dict)
    assert {"Cora", "CiteSeer", "KarateClub", "SyntheticNode",
            "SyntheticGraph"} <= set(register.dataset_dict)
    assert register.node_encoder_dict["Atom"] is gg.AtomEncoder
    assert register.edge_encoder_dict["Bond"] is gg.BondEncoder
    assert isinstance(register.act_dict["lrelu_025"](), torch.nn.LeakyReLU)
    assert register.act_dict["lrelu_025"]().negative_slope == 0.25


def test_registered_activation_is_used_by_layers(fresh_cfg, registry_guard):
    gg.register_act(registry_guard(register.act_dict, "test_tanh"), torch.nn.Tanh)
    fresh_cfg.gnn.act = "test_tanh"
    fresh_cfg.gnn.batchnorm = False
    layer = gg.GNNLayer(3, 3)
    assert isinstance(layer.post_layer[-1], torch.nn.Tanh)


def test_registered_config_group_becomes_part_of_cfg(registry_guard):
    def add_group(cfg):
        from yacs.config import CfgNode
        cfg.my_group = CfgNode()
        cfg.my_group.width = 7

    gg.register_config(registry_guard(register.config_dict, "test_group"), add_group)
    gg.set_cfg(gg.cfg)
    assert gg.cfg.my_group.width == 7
    register.config_dict.pop("test_group")
    gg.set_cfg(gg.cfg)
    del gg.cfg["my_group"]
