"""Collect the public names of every module in a catalogue package.

Each catalogue package (``conv``, ``pool``, ``norm``, ``dense``, ``zoo``) holds one module
per component with an ``__all__``; its ``__init__`` calls :func:`export_all` so that a new
component is exported by adding its file, and two files exporting one name is an error.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Dict, List


def export_all(package_name: str, package_path: List[str], namespace: Dict[str, object]) -> List[str]:
    names: List[str] = []
    owner: Dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(package_path), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package_name}.{info.name}")
        for name in getattr(module, "__all__", ()):
            if name in owner and namespace.get(name) is not getattr(module, name):
                raise ImportError(f"{package_name}: '{name}' is exported by both "
                                  f"{owner[name]} and {info.name}")
            owner[name] = info.name
            namespace[name] = getattr(module, name)
            if name not in names:
                names.append(name)
    return names
