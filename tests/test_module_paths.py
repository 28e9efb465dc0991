"""Every name the seeds document imports from gfx at the reference's module path.

Two sources, both read from ../shared/seeds at test time:
- the "[source](../_modules/torch_geometric/<path>.html#<Name>)" links, which give the
  module a name lives in (``torch_geometric.graphgym.utils.io.dict_to_json`` ->
  ``gfx.graphgym.utils.io.dict_to_json``);
- the component tables of nn-api-current.txt, which give the subpackage
  (``## Convolutional Layers`` -> ``gfx.nn.conv``).
"""
import importlib
import os
import re

import pytest

SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                     "shared", "seeds")
pytestmark = pytest.mark.skipif(not os.path.isdir(SEEDS), reason="../shared/seeds not present")

SECTIONS = {
    "## Convolutional Layers": "gfx.nn.conv",
    "## Aggregation Operators": "gfx.nn.aggr",
    "## Attention": "gfx.nn.attention",
    "## Normalization Layers": "gfx.nn.norm",
    "## Pooling Layers": "gfx.nn.pool",
    "## Unpooling Layers": "gfx.nn.unpool",
    "## Models": "gfx.nn.models",
    "## KGE Models": "gfx.nn.kge",
    "## Functional": "gfx.nn.functional",
    "## Dense Convolutional Layers": "gfx.nn.dense",
    "## Dense Pooling Layers": "gfx.nn.dense",
}

# Documented names gfx does not provide yet.  The test below fails for a name in this set
# as soon as it imports, so the set only shrinks.
NOT_YET = set()


def _read(name):
    with open(os.path.join(SEEDS, name), encoding="utf-8") as f:
        return f.read()


def source_links():
    """``(module, name)`` for every source link of the seeds (methods dropped)."""
    found = set()
    if not os.path.isdir(SEEDS):
        return []
    for file in sorted(os.listdir(SEEDS)):
        if file.endswith(".txt"):
            for path, name in re.findall(r"_modules/torch_geometric/([a-z_/0-9]+)\.html#"
                                         r"([A-Za-z_0-9]+)", _read(file)):
                found.add(("gfx." + path.replace("/", "."), name))
    return sorted(found)


def table_names():
    """``(package, name)`` for every row of nn-api-current.txt's component tables."""
    if not os.path.isdir(SEEDS):
        return []
    found, package = [], None
    for line in _read("nn-api-current.txt").splitlines():
        if line.startswith("#"):
            heading = re.sub(r"[^\x20-\x7e]", "", line).strip()
            package = SECTIONS.get(heading, package if not heading.startswith("## ") else None)
            if "Randomly assign" in heading:  # a code comment inside the aggregation section
                package = "gfx.nn.aggr"
            continue
        row = re.match(r"^\| ([A-Za-z_][A-Za-z_0-9]*) \|", line)
        if row and package and row.group(1) != "Name":
            found.append((package, row.group(1)))
    return sorted(set(found))


def _check(module, name):
    if name in NOT_YET:
        with pytest.raises((ImportError, AttributeError)):
            getattr(importlib.import_module(module), name)
        pytest.xfail(f"{module}.{name} is not implemented yet")
    assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


@pytest.mark.parametrize("module,name", source_links())
def test_source_link_path_imports(module, name):
    _check(module, name)


@pytest.mark.parametrize("package,name", table_names())
def test_table_name_imports(package, name):
    _check(package, name)


def test_tables_were_read():
    packages = {p for p, _ in table_names()}
    assert {"gfx.nn.conv", "gfx.nn.aggr", "gfx.nn.pool", "gfx.nn.models"} <= packages
    assert len(table_names()) > 150
