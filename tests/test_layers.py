"""The spine imports only downwards (DESIGN.md, "Layout"), checked by parsing every import.

Layers, lowest first: primitives (``gfx.ops``) -> core (graph-structure cache,
MessagePassing, the base aggregations, Linear, inits, utils) -> frontend (capture, levels,
lower, Transformer) -> passes -> codegen -> driver (pipeline, compile, inspect, CLI, ...).
The catalogue (``gfx.nn`` beyond its core modules), GraphGym and the data side
(``gfx.data``, ``gfx.loader``, ``gfx.transforms``) sit beside the driver: they and the
driver may use everything below, and the compiler below them may not import them.

``KNOWN`` lists the upward edges that exist today; the test fails when a new one appears
and when a listed one disappears (then delete it from the list), so the list only shrinks.
"""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = {"gfx": "gfx", "gfx.ops": "ops", "gfx.passes": "passes", "gfx.nn": "models"}

CORE_AGGREGATIONS = ("base", "basic", "multi", "powermean", "resolver", "softmax")
LAYER_NAMES = ["primitives", "core", "frontend", "passes", "codegen", "driver"]

# (importer, imported) upward edges that exist today; see the module docstring.
KNOWN = {
    ("gfx.capture", "gfx.nn.aggr"), ("gfx.capture", "gfx.nn.dense"),
    ("gfx.levels", "gfx.nn.aggr"), ("gfx.lower", "gfx.nn.dense"),
    ("gfx.transformer", "gfx.nn.aggr"), ("gfx.transformer", "gfx.passes.cleanup"),
    ("gfx.ops.fused_typed", "gfx.structure"), ("gfx.passes.fusion_attention", "gfx.codegen"),
    ("gfx.utils.convert", "gfx.data"),
}


def modules():
    """``{module name: file path}`` for every module of the distribution."""
    found = {}
    for package, folder in PACKAGES.items():
        base = os.path.join(ROOT, folder)
        for directory, subdirs, files in os.walk(base):
            subdirs[:] = [d for d in subdirs if d != "__pycache__"]
            rel_dir = os.path.relpath(directory, base)
            if package == "gfx" and rel_dir.split(os.sep)[0] in ("ops", "passes", "nn"):
                continue
            for file in files:
                if not file.endswith(".py"):
                    continue
                parts = [] if rel_dir == "." else rel_dir.split(os.sep)
                if file != "__init__.py":
                    parts.append(file[:-3])
                found[".".join([package] + parts)] = os.path.join(directory, file)
    return found


def layer(name):
    """Index into LAYER_NAMES, or None for the catalogue/data/GraphGym side."""
    if name.startswith("gfx.ops"):
        return 0
    if name in ("gfx.structure", "gfx.message_passing", "gfx.nn.inits",
                "gfx.nn.dense.linear") or name.startswith("gfx.utils") or any(
                    name == f"gfx.nn.aggr.{m}" for m in CORE_AGGREGATIONS):
        return 1
    if name in ("gfx.capture", "gfx.levels", "gfx.lower", "gfx.transformer"):
        return 2
    if name.startswith("gfx.passes"):
        return 3
    if name.startswith("gfx.codegen"):
        return 4
    if name.startswith(("gfx.nn", "gfx.graphgym", "gfx.data", "gfx.loader", "gfx.transforms",
                        "gfx.catalogue_examples")):
        return None
    return 5


def imported(name, path, known):
    """Modules of the distribution that ``path`` imports (at any depth of its code)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    is_package = path.endswith("__init__.py")
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[:len(name.split(".")) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from pkg import sub`` imports the submodule when there is one.
            subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known]
            targets = subs if subs and len(subs) == len(node.names) else [module] + subs
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in known and target != name:
                out.add(target)
    return out


def upward_edges():
    known = modules()
    edges = set()
    for name, path in known.items():
        own = layer(name)
        for target in imported(name, path, known):
            other = layer(target)
            # The driver (demos, benchmarks, CLI) may use the catalogue beside it.
            if own is not None and (other is None and own < 5 or
                                    other is not None and other > own):
                edges.add((name, target))
    return edges


def test_the_spine_imports_only_downwards():
    edges = upward_edges()
    new = sorted(edges - KNOWN)
    gone = sorted(KNOWN - edges)
    assert not new, "upward imports (importer -> imported): " + ", ".join(
        f"{a} -> {b}" for a, b in new)
    assert not gone, "fixed upward imports; delete them from KNOWN: " + ", ".join(
        f"{a} -> {b}" for a, b in gone)


def test_the_layer_map_sees_every_layer():
    names = set(modules())
    assert {layer(n) for n in names} >= {0, 1, 2, 3, 4, 5, None}
    assert "gfx.nn.conv.gcn_conv" in names and "gfx.ops.scatter" in names
