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


def test_graphgym_link_transform_matches_reference():
    import torch
    import torch_geometric.graphgym.models.transform as reference
    from torch_geometric.data import Data as ReferenceData

    from gfx.data import Data
    from gfx.graphgym.models.transform import neg_sampling_transform
    pos = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    torch.manual_seed(3)
    ours = neg_sampling_transform(Data(x=torch.randn(7, 2), train_pos_edge_index=pos))
    torch.manual_seed(3)
    theirs = reference.neg_sampling_transform(
        ReferenceData(x=torch.randn(7, 2), train_pos_edge_index=pos))
    # The negatives are random draws (the two samplers use the RNG differently): the
    # layout, the positives and the labels are compared.
    assert torch.equal(ours.train_edge_label, theirs.train_edge_label)
    assert ours.train_edge_index.shape == theirs.train_edge_index.shape
    assert torch.equal(ours.train_edge_index[:, :5], theirs.train_edge_index[:, :5])
