"""Kernel caching: by kernel description, never by graph size; on disk across processes."""
import os

import pytest
import torch

from gfx.codegen import cpp, cpp_build
from gfx.ops.fused import FusedSpec

pytestmark = pytest.mark.skipif(not cpp.available(), reason="no C compiler with OpenMP")


def unique_spec(tag: float, reduce: str = "sum") -> FusedSpec:
    """A spec no other test builds (the constant ``tag`` is part of the source)."""
    return FusedSpec(("src", "edge"), ("mul", ("add", ("in", 0), ("const", tag)), ("in", 1)),
                     reduce)


def graph(num_nodes: int, num_edges: int, width: int = 4):
    torch.manual_seed(num_nodes)
    return (torch.randint(0, num_nodes, (2, num_edges)), torch.randn(num_nodes, width),
            torch.rand(num_edges, 1))


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GFX_CACHE_DIR", str(tmp_path))
    cpp.forget_loaded_kernels()
    cpp.reset_stats()
    yield tmp_path
    cpp.forget_loaded_kernels()


def test_same_spec_builds_once_and_new_graph_sizes_rebuild_nothing(private_cache):
    spec = unique_spec(0.125)
    for nodes, edges in [(5, 9), (5, 9), (40, 300), (7, 0), (1000, 20_000)]:
        edge_index, x, w = graph(nodes, edges)
        out = cpp.cpp_forward(spec, edge_index, [x, w], 0, 0, nodes)
        x.requires_grad_()
        cpp.cpp_backward(spec, edge_index, [x, w], 0, 0, nodes, out, torch.ones_like(out))
    assert (cpp.STATS.sources, cpp.STATS.builds, cpp.STATS.disk_hits) == (1, 1, 0)
    assert sorted(p.suffix for p in private_cache.iterdir()) == [".c", ".so"]


def test_new_feature_width_reuses_the_build_but_new_dtype_builds_again(private_cache):
    spec = unique_spec(0.25)
    for width in (3, 16, 64):
        edge_index, x, w = graph(6, 20, width)
        cpp.cpp_forward(spec, edge_index, [x, w], 0, 0, 6)
    assert cpp.STATS.builds == 1
    cpp.cpp_forward(spec, edge_index, [x.double(), w.double()], 0, 0, 6)
    assert cpp.STATS.builds == 2


def test_a_new_process_finds_the_library_on_disk(private_cache):
    spec = unique_spec(0.375)
    edge_index, x, w = graph(6, 20)
    first = cpp.cpp_forward(spec, edge_index, [x, w], 0, 0, 6)
    cpp.forget_loaded_kernels()  # as if the process restarted
    second = cpp.cpp_forward(spec, edge_index, [x, w], 0, 0, 6)
    assert (cpp.STATS.builds, cpp.STATS.disk_hits) == (1, 1)
    assert torch.equal(first, second)


def test_cache_key_covers_compiler_flags_processor_and_source(monkeypatch):
    source = "int f(void) { return 1; }\n"
    key = cpp_build.cache_key(source)
    assert cpp_build.cache_key(source + "\n") != key
    chain = cpp_build.toolchain()
    for changed in (cpp_build.Toolchain(chain.command, chain.flags + ("-O1",), chain.identity),
                    cpp_build.Toolchain(chain.command, chain.flags, chain.identity + " v2")):
        monkeypatch.setattr(cpp_build, "toolchain", lambda: changed)
        assert cpp_build.cache_key(source) != key
    assert cpp_build.machine_identity() in chain.identity


def test_build_errors_name_the_source_file(private_cache):
    with pytest.raises(cpp_build.ToolchainError, match=r"building .*\.c"):
        cpp_build.build("this is not C\n")


def test_gfx_debug_keeps_the_generated_source(private_cache, tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("debug")
    monkeypatch.setenv("GFX_DEBUG", str(folder))
    spec = unique_spec(0.5, "max")
    edge_index, x, w = graph(6, 20)
    cpp.cpp_forward(spec, edge_index, [x, w], 0, 0, 6)
    (dumped,) = os.listdir(folder / "cpp")
    assert dumped.startswith("fused-max-") and dumped.endswith(".c")
    assert "void gfx_forward(" in (folder / "cpp" / dumped).read_text()
