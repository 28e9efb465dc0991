import os

import pytest
import torch
from hypothesis import HealthCheck, settings

# Property tests are bounded so that the whole suite stays within minutes on 2 cores, and
# derandomised so that CI sees the same examples on every run (a float32 tolerance edge
# cannot turn a green run red by chance); GFX_HYPOTHESIS_PROFILE=thorough explores anew.
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("GFX_HYPOTHESIS_PROFILE", "ci"))

torch.set_num_threads(1)

# Generated kernels are cached on disk; tests share one folder inside the checkout (ignored
# by git) rather than writing into the user's ~/.cache.
os.environ.setdefault("GFX_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), ".gfx-test-cache"))


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device (skipped without one)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _seeded_torch():
    """Every test starts from the same global torch RNG state, so a layer built without an
    explicit seed gets the same weights on every run (with the derandomised hypothesis
    profile, a CI run is reproducible)."""
    torch.manual_seed(0)
    yield
