"""gfx.inspect: the node table, DOT/SVG, pass diffs, GFX_DEBUG dumps and the CLI."""
import importlib
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch

import gfx
from gfx.__main__ import main as gfx_main
from gfx.inspect import InspectError, InspectionReport, dump_debug, inspect
from gfx.nn import GCNConv, Linear, MessagePassing
from gfx.pipeline import PassRecord, PipelineRun

inspect_module = importlib.import_module("gfx.inspect")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N, E, F_IN, F_OUT = 7, 23, 5, 16


class EdgeDifference(MessagePassing):
    """A user layer whose message reads both endpoints."""

    def __init__(self, in_channels, out_channels):
        super().__init__(aggr="sum")
        self.lin = Linear(in_channels, out_channels)

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=self.lin(x))

    def message(self, x_i, x_j):
        return x_j - x_i


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = EdgeDifference(F_IN, F_OUT)

    def forward(self, x, edge_index):
        h = self.conv(x, edge_index)  # marker: layer call
        return h.relu()


def graph(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(N, F_IN, generator=g), torch.randint(0, N, (2, E), generator=g)


def line_of(marker):
    """1-based line number of the line of this file that contains ``marker``."""
    with open(__file__, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if marker in line and "line_of(" not in line:
                return number, line.strip()
    raise AssertionError(marker)


def parse_table(text):
    """Split a fixed-width table into dicts, using the dashes under the header for columns."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    spans = [m.span() for m in re.finditer(r"-+", lines[rule])]
    header = lines[rule - 1]
    names = [header[a:b].strip() for a, b in spans]
    rows = []
    for line in lines[rule + 1:]:
        cells = [line[a:(b if k < len(spans) - 1 else None)].strip()
                 for k, (a, b) in enumerate(spans)]
        rows.append(dict(zip(names, cells)))
    return rows


@pytest.fixture(scope="module")
def report():
    torch.manual_seed(0)
    x, edge_index = graph()
    return inspect(Net(), x, edge_index)


def test_report_type_and_passes(report):
    assert isinstance(report, InspectionReport)
    assert [r.name for r in report.passes] == ["dce", "cse"]
    assert str(report).splitlines()[0].startswith("Net")


def test_table_has_one_row_per_node_in_order(report):
    rows = parse_table(str(report))
    assert [r["node"] for r in rows] == [n.name for n in report.lowered.graph.nodes]
    assert list(rows[0]) == ["node", "op", "inputs", "level", "type", "shape", "dtype",
                             "source"]


def test_gather_and_scatter_rows_show_level_and_real_shapes(report):
    rows = parse_table(report.table())
    gathers = [r for r in rows if r["op"] == "gfx.gather"]
    scatters = [r for r in rows if r["op"] == "gfx.scatter"]
    assert len(gathers) == 2 and len(scatters) == 1
    for row in gathers:
        assert (row["level"], row["shape"], row["dtype"]) == ("edge", f"[{E}, {F_OUT}]",
                                                              "float32")
    assert (scatters[0]["level"], scatters[0]["shape"]) == ("node", f"[{N}, {F_OUT}]")
    inputs = {r["node"]: r for r in rows}
    assert inputs["x"]["shape"] == f"[{N}, {F_IN}]"
    assert inputs["edge_index"]["shape"] == f"[2, {E}]"
    assert inputs["edge_index"]["dtype"] == "int64"


def test_source_column_points_at_the_user_line(report):
    rows = parse_table(report.table())
    call_line, _ = line_of("# marker: layer call")
    propagate_line, _ = line_of("return self.propagate(edge_index, x=self.lin(x))")
    message_line, _ = line_of("return x_j - x_i")
    # gfx's own nodes (gathers, the reduction) point at the layer call or its propagate.
    layer_lines = {f"test_inspect.py:{call_line} h = self.conv(x, edge_index)",
                   f"test_inspect.py:{propagate_line} return self.propagate("}
    for row in rows:
        if row["op"] in ("gfx.gather", "gfx.scatter"):
            assert any(row["source"].startswith(p) for p in layer_lines), row
    # The user's message body points at its own line.
    sub = next(r for r in rows if r["op"] == "sub")
    assert (sub["level"], sub["source"]) == ("edge", f"test_inspect.py:{message_line} "
                                                     f"return x_j - x_i")
    lin = next(r for r in rows if r["op"].startswith("conv.lin"))
    assert lin["op"] == "conv.lin (Linear)"
    assert lin["source"].startswith(f"test_inspect.py:{propagate_line} ")


def test_type_column_shows_meta_type_and_nothing_else(report):
    rows = parse_table(report.table())
    assert all(r["type"] == "" for r in rows)  # shape propagation must not write it
    node = next(n for n in report.lowered.graph.nodes if n.name == "x")
    node.meta["type"] = "paper"
    try:
        row = next(r for r in parse_table(report.table()) if r["node"] == "x")
        assert row["type"] == "paper"
    finally:
        del node.meta["type"]


def test_captured_and_before_passes_stages(report):
    captured = parse_table(report.table("captured"))
    assert [r["node"] for r in captured] == [n.name for n in report.captured.graph.nodes]
    conv = next(r for r in captured if r["node"] == "conv")
    assert (conv["op"], conv["level"], conv["shape"]) == (
        "conv (EdgeDifference)", "node", f"[{N}, {F_OUT}]")
    before = parse_table(report.table("before-passes"))
    assert len(before) > len(captured)
    with pytest.raises(ValueError, match="unknown stage 'typo'"):
        report.table("typo")


def test_columns_line_up_with_long_names(report):
    text = report.table()
    lines = text.splitlines()
    op_start = lines[0].index("op")
    for line, node in zip(lines[2:], report.lowered.graph.nodes):
        assert line.startswith(node.name)
        assert line[op_start - 2:op_start] == "  " and line[op_start] != " "


def test_to_dot_names_every_node_and_edge(report):
    dot = report.to_dot()
    assert dot.startswith("digraph ")
    assert dot.count("{") == dot.count("}")
    colours = {}
    for node in report.lowered.graph.nodes:
        m = re.search(rf'^  "{node.name}" \[label=.*fillcolor="(#[0-9a-f]+)"', dot, re.M)
        assert m, node.name
        colours[node.name] = m.group(1)
        for arg in node.all_input_nodes:
            assert f'  "{arg.name}" -> "{node.name}";' in dot
    by_level = {}
    for node in report.lowered.graph.nodes:
        by_level.setdefault(node.meta["level"], set()).add(colours[node.name])
    assert all(len(c) == 1 for c in by_level.values())
    assert by_level["edge"] != by_level["node"]


def test_save_svg_without_dot_explains(report, monkeypatch, tmp_path):
    monkeypatch.setattr(inspect_module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        report.save_svg(str(tmp_path / "g.svg"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_save_svg_with_dot(report, tmp_path):
    path = report.save_svg(str(tmp_path / "g.svg"))
    with open(path, encoding="utf-8") as f:
        assert "<svg" in f.read()


class Duplicated(torch.nn.Module):
    def forward(self, x):
        return x[:, :2] * 2 + x[:, :2]


class NotDuplicated(torch.nn.Module):
    def forward(self, x):
        return x[:, :2] * 2 + x[:, 1:3]


def changed_lines(diff, sign):
    return [line[1:] for line in diff.splitlines()
            if line.startswith(sign) and not line.startswith(sign * 3)]


def test_cse_diff_removes_the_duplicate():
    rep = inspect(Duplicated(), torch.randn(4, 3))
    before, after = rep.passes[1].before, rep.passes[1].after
    diff = rep.diff("cse")
    assert diff.startswith("--- before cse\n+++ after cse\n")
    removed = changed_lines(diff, "-")
    assert any(re.match(r"\s*getitem_1 = x\[", line) for line in removed)
    assert all(line in before.splitlines() for line in removed)
    assert all(line in after.splitlines() for line in changed_lines(diff, "+"))
    getitems = [n for n in rep.lowered.graph.nodes if n.name.startswith("getitem")]
    assert len(getitems) == 1
    assert list(rep.diffs()) == ["dce", "cse"] and rep.diffs()["cse"] == diff


def test_no_duplicate_means_empty_cse_diff():
    rep = inspect(NotDuplicated(), torch.randn(4, 3))
    assert rep.diff("cse") == ""
    with pytest.raises(KeyError, match="no pass named 'fusion'.*dce, cse"):
        rep.diff("fusion")


def test_repeated_pass_names_get_numbered():
    rep = InspectionReport("M", None, None, None, [
        PassRecord("cse", "a\n", "b\n"), PassRecord("cse", "b\n", "b\n")])
    assert list(rep.diffs()) == ["cse", "cse#2"]
    assert rep.diff("cse#2") == ""
    assert "-a\n+b\n" in rep.diff("cse")


def test_keyword_inputs_and_bad_inputs():
    x, edge_index = graph()
    rep = inspect(Net(), x, edge_index=edge_index)
    assert parse_table(str(rep))[-1]["shape"] == f"[{N}, {F_OUT}]"
    with pytest.raises(InspectError, match=r"do not fit Net.forward\(x, edge_index\)"):
        inspect(Net(), x)
    number, _ = line_of("return self.propagate(edge_index, x=self.lin(x))")
    with pytest.raises(InspectError, match=rf"node 'conv_lin'.*\n  at .*test_inspect.py:{number} "):
        inspect(Net(), torch.randn(N, F_IN + 1), edge_index)


class OptionalWeight(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GCNConv(-1, 3)  # lazy: materialised by inspect's eager call

    def forward(self, x, edge_index, edge_weight=None):
        return self.conv(x, edge_index, edge_weight)


@pytest.mark.parametrize("with_weight", [False, True])
def test_lazy_layers_and_optional_arguments(with_weight):
    x, edge_index = graph()
    model = OptionalWeight()
    extra = (torch.rand(E),) if with_weight else ()
    rep = inspect(model, x, edge_index, *extra)
    assert not any(torch.nn.parameter.is_lazy(p) for p in model.parameters())
    rows = parse_table(rep.table())
    assert rows[-1]["shape"] == f"[{N}, 3]"
    weight_row = rows[2]  # the third input, whatever fx named it
    assert weight_row["op"] == "placeholder"
    assert weight_row["shape"] == (f"[{E}]" if with_weight else "")


def test_gfx_debug_dumps_every_compile(monkeypatch, tmp_path):
    folder = tmp_path / "debug"
    monkeypatch.setenv("GFX_DEBUG", str(folder))
    x, edge_index = graph()
    model = Net().eval()
    compiled = gfx.compile(model, backend="reference")
    torch.testing.assert_close(compiled(x, edge_index), model(x, edge_index))
    compiled.train()
    compiled(x, edge_index)
    names = sorted(os.listdir(folder))
    for mode in ("eval", "train"):
        assert {f"Net.{mode}.lowered.txt", f"Net.{mode}.dot", f"Net.{mode}.pass-1-dce.diff",
                f"Net.{mode}.pass-2-cse.diff"} <= set(names)
    text = (folder / "Net.eval.lowered.txt").read_text()
    rows = parse_table(text.split("\n\n# generated code\n")[0])
    compiled.eval()
    graph_nodes = list(compiled.graph_module(x, edge_index).graph.nodes)
    assert [r["node"] for r in rows] == [n.name for n in graph_nodes]
    assert "shape" not in rows[0]  # compile has no example inputs: no shape column
    assert {r["level"] for r in rows if r["op"] == "gfx.gather"} == {"edge"}
    assert "def forward(self, x, edge_index)" in text
    assert (folder / "Net.eval.dot").read_text().startswith("digraph ")
    assert (folder / "Net.eval.pass-1-dce.diff").read_text().startswith("--- before dce")


def test_dump_debug_creates_the_folder_and_writes_each_pass(tmp_path):
    rep = inspect(Duplicated(), torch.randn(4, 3))
    record = PipelineRun(list(rep.passes))
    paths = dump_debug(str(tmp_path / "a" / "b"), "My Model", True, rep.lowered, record)
    names = sorted(os.path.basename(p) for p in paths)
    assert names == ["My_Model.train.dot", "My_Model.train.lowered.txt",
                     "My_Model.train.pass-1-dce.diff", "My_Model.train.pass-2-cse.diff"]
    text = (tmp_path / "a" / "b" / "My_Model.train.lowered.txt").read_text()
    assert parse_table(text.split("\n\n")[0])[0]["shape"] == "[4, 3]"
    assert (tmp_path / "a" / "b" / "My_Model.train.pass-2-cse.diff").read_text() == \
        rep.diff("cse")


def test_cli_prints_the_table_and_writes_dot(tmp_path):
    dot = tmp_path / "g.dot"
    done = subprocess.run([sys.executable, "-m", "gfx", "inspect", "gfx.examples:gcn",
                           "--dot", str(dot)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("\n\npasses:")[0].split("\n", 1)[1]
    rows = parse_table(table)
    gathers = [r for r in rows if r["op"] == "gfx.gather"]
    assert len(gathers) == 2 and all(r["level"] == "edge" for r in gathers)
    assert [r["shape"] for r in rows if r["node"] == "x"] == ["[20, 16]"]
    assert rows[-1]["shape"] == "[20, 4]"
    assert dot.read_text().startswith("digraph ")


FACTORIES = '''
import torch
from gfx.nn import GCNConv

class WithInputs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GCNConv(3, 2)
        self.example_inputs = (torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]]))

    def forward(self, x, edge_index):
        return self.conv(x, edge_index)

def with_attribute():
    return WithInputs()

def no_inputs():
    return torch.nn.Linear(2, 2)

def wrong():
    return 42

not_callable = 3
'''


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_for_gfx:f", "cannot import module 'no_such_module_for_gfx'"),
    ("gfx.examples:nope", "'nope' in module 'gfx.examples' does not exist"),
    ("gfx.examples", "expected MODULE:FACTORY"),
    ("{dir}/missing.py:f", "no such file"),
    ("{file}:wrong", r"wrong\(\) must return \(model, \(example inputs...\)\)"),
    ("{file}:no_inputs", "without an 'example_inputs' attribute"),
    ("{file}:not_callable", "'not_callable' in module .* is not callable"),
])
def test_cli_errors_name_the_problem(spec, message, tmp_path, capsys):
    path = tmp_path / "factories.py"
    path.write_text(FACTORIES)
    spec = spec.format(dir=tmp_path, file=path)
    assert gfx_main(["inspect", spec]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m gfx inspect: error: ")
    assert re.search(message, err), err


def test_cli_factory_from_file_with_example_inputs(tmp_path, capsys):
    path = tmp_path / "factories.py"
    path.write_text(FACTORIES)
    assert gfx_main(["inspect", f"{path}:with_attribute"]) == 0
    rows = parse_table(capsys.readouterr().out.split("\n\npasses:")[0].split("\n", 1)[1])
    assert rows[-1]["shape"] == "[4, 2]"
