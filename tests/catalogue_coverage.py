"""The "every documented component" table of docs/catalogue.md, measured from the tests.

For each name of the component tables in ../shared/seeds/nn-api-current.txt: whether it
imports from its gfx package, and how many test files exercise it, counted separately
for tests/nn and friends (formula, loop and behaviour tests) and tests/oracle (the
reference, called as a black box).  A test file counts when it names the component as a
whole word.  ``python -m tests.catalogue_coverage`` prints the table;
tests/test_catalogue.py keeps docs/catalogue.md equal to it.
"""
from __future__ import annotations

import importlib
import os
import re
import sys

from tests.test_module_paths import table_names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")


def _test_sources():
    own, oracle = {}, {}
    for directory, _, files in os.walk(TESTS):
        for file in files:
            if file.startswith("test_") and file.endswith(".py"):
                path = os.path.join(directory, file)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                (oracle if os.sep + "oracle" + os.sep in path else own)[path] = text
    return own, oracle


def _count(name, sources):
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return sum(1 for text in sources.values() if pattern.search(text))


def coverage_table() -> str:
    own, oracle = _test_sources()
    lines = ["| package | component | imports | test files | oracle test files |",
             "|---|---|---|---|---|"]
    for package, name in table_names():
        try:
            present = hasattr(importlib.import_module(package), name)
        except ImportError:
            present = False
        lines.append(f"| `{package}` | {name} | {'yes' if present else 'no'} | "
                     f"{_count(name, own)} | {_count(name, oracle)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(coverage_table())
