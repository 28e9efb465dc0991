"""The wheel holds every module: build it, install it into a fresh venv, import them all."""
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_every_module_imports(tmp_path):
    wheel_dir = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheel_dir), str(ROOT)], check=True)
    (wheel,) = wheel_dir.glob("gfx-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # Dependencies (torch, numpy, ...) come from this environment; gfx only from the wheel.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", site,
                    str(wheel)], check=True)
    script = (
        "import importlib, pkgutil, gfx\n"
        "assert 'site-packages' in gfx.__file__ or 'env' in gfx.__file__, gfx.__file__\n"
        "names = [m.name for m in pkgutil.walk_packages(gfx.__path__, 'gfx.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "for needed in ('gfx.ops', 'gfx.passes', 'gfx.nn', 'gfx.data'):\n"
        "    assert needed in names, needed\n"
        "from importlib.resources import files\n"
        "assert (files('gfx.graphgym') / 'configs' / 'node.yaml').is_file()\n"
        "print(len(names))\n")
    out = subprocess.run([str(python), "-c", script], check=True, capture_output=True,
                         text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
    assert int(out.stdout.strip()) > 10
