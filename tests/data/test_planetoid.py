"""Planetoid from the standard files, and the restricted unpickler that reads them."""
import collections
import os
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import torch

from gfx.data import NormalizeFeatures, Planetoid, restricted_loads

RAW = Path(os.environ.get("GFX_PLANETOID_DIR",
                          Path(__file__).resolve().parents[3] / "shared" / "data" / "planetoid"))
needs_files = pytest.mark.skipif(not (RAW / "ind.cora.x").is_file(),
                                 reason=f"Planetoid files not found in {RAW}")


def trusted_part(name, part):
    """A part read with the plain unpickler: these are the project's own data files."""
    with open(RAW / f"ind.{name}.{part}", "rb") as handle:
        with warnings.catch_warnings():  # old scipy module paths in the pickles
            warnings.simplefilter("ignore", DeprecationWarning)
            return pickle.load(handle, encoding="latin1")


def listed_test_nodes(name):
    return [int(line) for line in (RAW / f"ind.{name}.test.index").read_text().split()]


@pytest.fixture(scope="module")
def cora():
    return Planetoid(str(RAW), "Cora")


@pytest.fixture(scope="module")
def citeseer():
    return Planetoid(str(RAW), "citeseer")


@needs_files
def test_cora_sizes_and_public_split(cora):
    data = cora[0]
    assert repr(cora) == "Cora()" and len(cora) == 1
    assert (data.num_nodes, data.num_edges, cora.num_features, cora.num_classes) == \
        (2708, 10556, 1433, 7)
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.long
    assert data.train_mask.nonzero().view(-1).tolist() == list(range(140))
    assert data.val_mask.nonzero().view(-1).tolist() == list(range(140, 640))
    assert data.test_mask.nonzero().view(-1).tolist() == sorted(listed_test_nodes("cora"))
    assert not data.has_self_loops() and data.is_undirected()
    assert data.validate()


@needs_files
def test_cora_matches_the_files(cora):
    data = cora[0]
    graph = trusted_part("cora", "graph")
    expected = {(int(a), int(b)) for a, nbrs in graph.items() for b in nbrs if a != b}
    got = {tuple(pair) for pair in data.edge_index.t().tolist()}
    assert got == expected and len(got) == data.num_edges
    # Row i of tx holds the features of node test.index[i]; same for the labels.
    tx, ty = np.asarray(trusted_part("cora", "tx").todense()), trusted_part("cora", "ty")
    for row, node in list(enumerate(listed_test_nodes("cora")))[:50]:
        assert np.array_equal(data.x[node].numpy(), tx[row])
        assert int(data.y[node]) == int(ty[row].argmax())
    allx = np.asarray(trusted_part("cora", "allx").todense())
    assert np.array_equal(data.x[:1708].numpy(), allx)
    assert data.y[:140].tolist() == trusted_part("cora", "y").argmax(1).tolist()
    assert sorted(torch.bincount(data.y[data.train_mask]).tolist()) == [20] * 7


@needs_files
def test_citeseer_pads_missing_test_nodes(citeseer):
    data = citeseer[0]
    assert (data.num_nodes, data.num_edges, citeseer.num_features, citeseer.num_classes) == \
        (3327, 9104, 3703, 6)
    assert [int(m.sum()) for m in (data.train_mask, data.val_mask, data.test_mask)] == \
        [120, 500, 1000]
    listed = set(listed_test_nodes("citeseer"))
    missing = [v for v in range(min(listed), max(listed) + 1) if v not in listed]
    assert len(missing) == 15
    assert data.x[missing].abs().sum() == 0 and data.y[missing].eq(0).all()
    assert not (data.train_mask | data.val_mask | data.test_mask)[missing].any()
    assert data.is_undirected() and not data.has_self_loops()


@needs_files
def test_splits_and_transform():
    full = Planetoid(str(RAW), "Cora", split="full")[0]
    assert int(full.train_mask.sum()) == 2708 - 500 - 1000
    assert not (full.train_mask & (full.val_mask | full.test_mask)).any()
    random = Planetoid(str(RAW), "Cora", split="random", seed=1)[0]
    assert torch.bincount(random.y[random.train_mask]).tolist() == [20] * 7
    assert [int(random.val_mask.sum()), int(random.test_mask.sum())] == [500, 1000]
    again = Planetoid(str(RAW), "Cora", split="random", seed=1)[0]
    assert torch.equal(random.train_mask, again.train_mask)
    normalized = Planetoid(str(RAW), "Cora", transform=NormalizeFeatures())
    sums = normalized[0].x.sum(1)
    assert torch.allclose(sums[sums > 0], torch.ones(int((sums > 0).sum())))
    assert normalized.get(0).x.sum(1).max() > 1  # stored features stay raw


@needs_files
def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"missing file '{tmp_path}/ind.cora.x'"):
        Planetoid(str(tmp_path), "Cora")
    raw = tmp_path / "Cora" / "raw"
    raw.mkdir(parents=True)
    for path in RAW.glob("ind.cora.*"):
        if not path.name.endswith(".ty"):
            shutil.copy(path, raw)
    with pytest.raises(FileNotFoundError, match=f"missing file '{raw}/ind.cora.ty'"):
        Planetoid(str(tmp_path), "Cora")
    with pytest.raises(ValueError, match="unknown 'name' 'Reddit'"):
        Planetoid(str(RAW), "Reddit")
    with pytest.raises(ValueError, match="unknown 'split' 'geom'"):
        Planetoid(str(RAW), "Cora", split="geom")


class Exploit:
    """Unpickling this with the plain unpickler would run a shell command."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_restricted_unpickler_refuses_code_execution(capfd, tmp_path):
    payload = pickle.dumps(Exploit("echo pwned"))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load '(posix|os|nt)\.system'"):
        restricted_loads(payload)
    assert "pwned" not in capfd.readouterr().out
    marker = tmp_path / "marker"
    nested = pickle.dumps({"graph": [1, 2, Exploit(f"touch {marker}")]}, protocol=2)
    with pytest.raises(pickle.UnpicklingError):
        restricted_loads(nested)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match=r"'builtins\.eval'"):
        restricted_loads(pickle.dumps(eval))


@needs_files
def test_planetoid_refuses_a_poisoned_file(tmp_path, capfd):
    for path in RAW.glob("ind.cora.*"):
        shutil.copy(path, tmp_path)
    (tmp_path / "ind.cora.graph").write_bytes(pickle.dumps(Exploit("echo pwned")))
    with pytest.raises(pickle.UnpicklingError, match="system"):
        Planetoid(str(tmp_path), "Cora")
    assert "pwned" not in capfd.readouterr().out


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_restricted_unpickler_reads_numpy_scipy_and_containers(protocol):
    adjacency = collections.defaultdict(list, {0: [1, 2], 3: [0]})
    matrix = scipy.sparse.csr_matrix(np.array([[0.0, 1.5], [2.0, 0.0]], dtype=np.float32))
    payload = {"array": np.arange(6, dtype=np.int64).reshape(2, 3), "matrix": matrix,
               "graph": adjacency, "items": (1, 2.5, "s", {3}, frozenset([4]))}
    loaded = restricted_loads(pickle.dumps(payload, protocol=protocol))
    assert np.array_equal(loaded["array"], payload["array"])
    assert np.array_equal(loaded["matrix"].toarray(), matrix.toarray())
    assert isinstance(loaded["graph"], collections.defaultdict) and loaded["graph"] == adjacency
    assert loaded["items"] == payload["items"]
