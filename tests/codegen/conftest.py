"""Every cpp test of a session builds into one shared kernel cache folder.

A kernel built by one test is reused by the others, so a cold run compiles each
(spec, scalar type, layout) once; the user's own cache (~/.cache/gfx/cpp) is untouched.
"""
import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def shared_kernel_cache(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one folder for all workers of a run
        base = base.parent
    folder = base / "gfx-cpp-kernels"
    folder.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GFX_CACHE_DIR", str(folder))
        yield folder
