"""GraphGym behaviours user code written for the reference relies on."""
import pytest
import torch
from yacs.config import CfgNode as CN

import gfx.graphgym as gg
from gfx.graphgym import register
from gfx.graphgym.config import from_config


def test_user_code_may_register_names_gfx_adds_by_default():
    class MyIdentity(torch.nn.Module):
        def forward(self, x):
            return x

    previous = register.act_dict["identity"]
    try:
        register.register_act("identity", MyIdentity)
        assert register.act_dict["identity"] is MyIdentity
        with pytest.raises(KeyError, match="already registered"):
            register.register_act("identity", torch.nn.Identity)  # a second user duplicate
        with pytest.raises(KeyError, match="already registered"):
            register.register_act("relu", torch.nn.ReLU)  # a reference default stays fixed
    finally:
        register.act_dict["identity"] = previous
        register._REPLACEABLE.add((id(register.act_dict), "identity"))


def test_from_config_fills_missing_arguments_from_the_config():
    @from_config
    def build(a, b=2, c=3):
        return a, b, c

    cfg = CN()
    cfg.b, cfg.c = 10, 20
    assert build(1, cfg=cfg) == (1, 10, 20)
    assert build(1, 5, cfg=cfg) == (1, 5, 20)
    assert build(1) == (1, 2, 3)
    with pytest.raises(ValueError, match="'cfg.a' undefined"):
        build(cfg=cfg)


def test_reference_registry_names_and_module_paths():
    import gfx.graphgym.imports as imports
    import gfx.graphgym.train as train_module
    assert "Integer" in register.node_encoder_dict
    assert imports.pl is not None and gg.train is train_module  # the function, as in the reference
    assert callable(gg.train)
