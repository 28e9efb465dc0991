"""The C toolchain of the ``cpp`` backend: find a compiler, build, cache on disk.

# NOTE [cpp build cache]
A kernel library is named by the SHA-256 of (compiler identity, flags, processor, source
text) and lives in the cache folder next to its source (``<key>.c``, kept so that a
generated kernel can always be read).  Graph sizes never enter the source, so one build
serves every graph; a changed compiler, flag set or generator gives a new name, never a
stale library.  Builds write to a private temporary name and are renamed into place,
so concurrent processes (pytest-xdist workers, DDP ranks) sharing the folder are safe.

The folder is ``$GFX_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/gfx/cpp`` (by default
``~/.cache/gfx/cpp``).  ``$CC`` picks the compiler (default: ``cc``, then ``gcc``, then
``clang``).
"""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from typing import List, Tuple

# Portable across x86-64 and aarch64.  ``-ffp-contract=off`` keeps a*b+c as two roundings
# in every kernel, so the backward's recomputed message equals the forward's bit for bit
# (max/min gradients compare them).
BASE_FLAGS: Tuple[str, ...] = ("-O3", "-fopenmp", "-fPIC", "-shared", "-ffp-contract=off")
# Added when the compiler accepts them (about 2x faster kernels with AVX2/AVX-512).  The
# libraries then suit this processor only, so its feature list enters the cache key.
NATIVE_FLAGS: Tuple[str, ...] = ("-march=native",)
_TIMEOUT_S = 300

_PROBE = r"""
#include <omp.h>
long gfx_probe(long n) {
    long total = 0;
    #pragma omp parallel for num_threads(2) reduction(+:total)
    for (long k = 0; k < n; ++k) total += k + 0 * omp_get_num_threads();
    return total;
}
"""


class ToolchainError(RuntimeError):
    """No working C compiler with OpenMP, or a generated kernel failed to build."""


@dataclass(frozen=True)
class Toolchain:
    """The compiler command, its flags, and the identity string that enters cache keys."""
    command: Tuple[str, ...]
    flags: Tuple[str, ...]
    identity: str


def machine_identity() -> str:
    """The architecture and, where Linux lists them, the processor's feature flags."""
    features = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.split(":")[0].strip() in ("flags", "Features"):
                    features = line.split(":", 1)[1].strip()
                    break
    except OSError:
        features = platform.processor()
    return f"{platform.machine()} {hashlib.sha256(features.encode()).hexdigest()[:16]}"


def compiler_command() -> List[str]:
    """``$CC`` split like a shell word list, else the first of cc, gcc, clang on PATH."""
    if os.environ.get("CC"):
        return shlex.split(os.environ["CC"])
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return [path]
    raise ToolchainError("gfx cpp: no C compiler found (looked for $CC, cc, gcc, clang)")


def _run(command: List[str], what: str) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"gfx cpp: {what} failed to run: {exc}") from exc
    if done.returncode != 0:
        raise ToolchainError(f"gfx cpp: {what} failed (exit {done.returncode}):\n"
                             f"  {' '.join(command)}\n{done.stderr.strip()}")
    return done


def _probe(command: Tuple[str, ...], flags: Tuple[str, ...]) -> None:
    """Build and run an OpenMP test library with ``flags``; raise ToolchainError if not."""
    import ctypes

    with tempfile.TemporaryDirectory(prefix="gfx-cpp-probe-") as folder:
        source, library = os.path.join(folder, "probe.c"), os.path.join(folder, "probe.so")
        with open(source, "w", encoding="utf-8") as f:
            f.write(_PROBE)
        _run([*command, *flags, source, "-o", library], "compiling an OpenMP test file")
        try:
            probe = ctypes.CDLL(library).gfx_probe
        except OSError as exc:
            raise ToolchainError(f"gfx cpp: the OpenMP test library does not load: {exc}") \
                from exc
        probe.restype, probe.argtypes = ctypes.c_long, [ctypes.c_long]
        if probe(100) != 4950:
            raise ToolchainError("gfx cpp: the OpenMP test library computes wrong results")


@functools.lru_cache(maxsize=None)
def toolchain() -> Toolchain:
    """The compiler and its flags, checked once per process by building a test library.

    :data:`NATIVE_FLAGS` are used where the compiler takes them, else only
    :data:`BASE_FLAGS`; a compiler that builds no working OpenMP library raises
    :class:`ToolchainError`.
    """
    command = tuple(compiler_command())
    version = _run([*command, "--version"], "asking the compiler for its version")
    identity = f"{' '.join(command)} | {version.stdout.strip().splitlines()[0]}"
    try:
        flags = BASE_FLAGS + NATIVE_FLAGS
        _probe(command, flags)
    except ToolchainError:
        flags = BASE_FLAGS
        _probe(command, flags)
    return Toolchain(command, flags, f"{identity} | {machine_identity()}")


@functools.lru_cache(maxsize=None)
def available() -> bool:
    """True when a C compiler that builds working OpenMP libraries is installed."""
    try:
        toolchain()
    except ToolchainError:
        return False
    return True


def cache_dir() -> str:
    """The kernel cache folder (see NOTE [cpp build cache]), created when missing."""
    folder = os.environ.get("GFX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "gfx", "cpp")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ToolchainError(f"gfx cpp: cannot create the kernel cache folder {folder!r} "
                             f"({exc}); set GFX_CACHE_DIR to a writable folder") from exc
    return folder


def cache_key(source: str) -> str:
    """The name of ``source``'s library: a hash of compiler, flags, machine and source."""
    chain = toolchain()
    text = "\0".join([chain.identity, " ".join(chain.flags), source])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def _write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def build(source: str) -> Tuple[str, bool]:
    """``(path of the shared library for source, whether it was compiled now)``.

    One compiler invocation builds every function of ``source``; a library already in
    the cache folder is reused as it is.
    """
    folder, key = cache_dir(), cache_key(source)
    library = os.path.join(folder, f"{key}.so")
    if os.path.exists(library):
        return library, False
    source_path = os.path.join(folder, f"{key}.c")
    _write_atomically(source_path, source)
    tmp = os.path.join(folder, f".{key}.{os.getpid()}.{uuid.uuid4().hex}.so")
    try:
        chain = toolchain()
        _run([*chain.command, *chain.flags, source_path, "-o", tmp, "-lm"],
             f"building {source_path}")
        os.replace(tmp, library)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return library, True
