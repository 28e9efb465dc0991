"""gfx.nn.PyGModelHubMixin: save to a local folder and load back, offline."""
import json

import pytest
import torch

from gfx.nn import GCN, PyGModelHubMixin


class HubGCN(GCN, PyGModelHubMixin):
    def __init__(self, model_name, dataset_name, model_kwargs):
        kwargs = dict(model_kwargs)
        self_extra = kwargs.pop("extra", None)  # a non-JSON argument, passed again on load
        GCN.__init__(self, **kwargs)
        self.extra = self_extra
        PyGModelHubMixin.__init__(self, model_name, dataset_name, model_kwargs)


def make():
    return HubGCN("gcn", "Toy", dict(in_channels=3, hidden_channels=4, num_layers=2,
                                     out_channels=2, extra=torch.zeros(1)))


def test_save_and_load_roundtrip(tmp_path):
    model = make()
    assert model.model_config == dict(in_channels=3, hidden_channels=4, num_layers=2,
                                      out_channels=2)  # the tensor is not serialisable
    assert model.save_pretrained(tmp_path / "ckpt") is None
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert files == ["README.md", "config.json", "model.pth"]
    assert json.loads((tmp_path / "ckpt" / "config.json").read_text())["hidden_channels"] == 4
    assert "Toy" in (tmp_path / "ckpt" / "README.md").read_text()

    loaded = HubGCN.from_pretrained(str(tmp_path / "ckpt"), model_name="gcn",
                                    dataset_name="Toy", extra=torch.ones(1))
    assert loaded.model_name == "gcn" and loaded.dataset_name == "Toy"
    assert torch.equal(loaded.extra, torch.ones(1)) and not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    x, edge_index = torch.randn(5, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])
    model.eval()
    torch.testing.assert_close(loaded(x, edge_index), model(x, edge_index))


def test_kwargs_override_config(tmp_path):
    make().save_pretrained(tmp_path)
    with pytest.raises(RuntimeError, match="size mismatch"):
        HubGCN.from_pretrained(str(tmp_path), model_name="gcn", dataset_name="Toy",
                               hidden_channels=8)


def test_errors(tmp_path):
    with pytest.raises(TypeError, match="model_name"):
        PyGModelHubMixin(3, "Toy", {})
    with pytest.raises(TypeError, match="model_kwargs"):
        PyGModelHubMixin("a", "b", [1])
    make().save_pretrained(tmp_path)
    with pytest.raises(TypeError, match="dataset_name"):
        HubGCN.from_pretrained(str(tmp_path), model_name="gcn")
    with pytest.raises(FileNotFoundError, match="model.pth"):
        HubGCN.from_pretrained(str(tmp_path / ".."), model_name="gcn", dataset_name="Toy")


def test_hub_paths_need_huggingface_hub(tmp_path):
    try:
        import huggingface_hub  # noqa: F401
        pytest.skip("huggingface_hub is installed; the offline error path is not reachable")
    except ImportError:
        pass
    with pytest.raises(ImportError, match="huggingface_hub"):
        make().save_pretrained(tmp_path, push_to_hub=True, repo_id="me/gcn")
    assert (tmp_path / "model.pth").exists()  # the local copy is written first
    with pytest.raises(ImportError, match="huggingface_hub"):
        HubGCN.from_pretrained("me/gcn", model_name="gcn", dataset_name="Toy")
