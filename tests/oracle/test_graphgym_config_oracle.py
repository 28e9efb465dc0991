"""GraphGym configs: every option torch_geometric's GraphGym defines exists in gfx's cfg
with the same default, so its YAML files load unchanged (black-box comparison)."""
import pytest

torch_geometric = pytest.importorskip("torch_geometric")
pytest.importorskip("yacs")


def flat(node, prefix=""):
    out = {}
    for key, value in node.items():
        if hasattr(value, "items"):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_every_reference_option_exists_with_the_same_default():
    from torch_geometric.graphgym.config import cfg as reference, set_cfg as reference_set
    import gfx.graphgym as gg

    reference_set(reference)
    gg.set_cfg(gg.cfg)
    ours, theirs = flat(gg.cfg), flat(reference)
    missing = sorted(set(theirs) - set(ours))
    assert not missing, f"options missing from gfx's cfg: {missing}"
    different = {k: (theirs[k], ours[k]) for k in theirs
                 if k not in ("run_dir", "out_dir") and theirs[k] != ours[k]}
    assert not different, f"defaults that differ (reference, gfx): {different}"
