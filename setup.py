"""Maps the top-level folders ops/, passes/, models/ to gfx.ops, gfx.passes and gfx.nn."""
import os

from setuptools import setup

PACKAGE_ROOTS = {"gfx": "gfx", "gfx.ops": "ops", "gfx.passes": "passes", "gfx.nn": "models"}


def packages_below(name, folder):
    yield name
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if os.path.isfile(os.path.join(path, "__init__.py")):
            yield from packages_below(f"{name}.{entry}", path)


packages = sorted({p for name, folder in PACKAGE_ROOTS.items() for p in packages_below(name, folder)})
setup(packages=packages, package_dir=PACKAGE_ROOTS,
      package_data={"gfx": ["py.typed"],
                    "gfx.graphgym": ["configs/*.yaml", "configs/*.txt"]})
