"""Input validation shared by the primitives.

Every check raises ``ValueError``/``TypeError``/``IndexError`` with a message that names
the primitive, the argument and the problem.  Structural checks (rank, dtype, sizes,
devices) read only metadata: they run in the Python entry points for every tensor,
meta and fake ones included, and in the fake kernels, which is where they happen under
``torch.compile``/``torch.export``.  Only ``torch.fx`` proxies, which carry no metadata,
skip them.  Value checks (index range, pointer monotonicity) and size inference need
real data (:func:`has_data`) and run inside the real kernels.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor
from torch.utils.weak import WeakIdKeyDictionary

INDEX_DTYPES = (torch.int64, torch.int32)


def is_tracing(*values) -> bool:
    """True under ``torch.compile`` or when a value is a ``torch.fx`` proxy.

    The entry points then leave the structural checks to the fake kernels (compile,
    export) or skip them (fx proxies have no dtype, shape or device to check).
    """
    if torch.compiler.is_compiling():
        return True
    return any(isinstance(value, torch.fx.Proxy) for value in values)


def has_data(*values) -> bool:
    """True when no value is traced, meta or fake, so tensor contents may be read."""
    if is_tracing(*values):
        return False
    return not any(isinstance(value, Tensor) and (value.is_meta or _is_fake(value))
                   for value in values)


def normalize_dim(dim: int, src) -> int:
    """``dim`` as a non-negative axis when the rank is known.

    For an fx proxy the rank is unknown, and the kernels accept negative axes, so ``dim``
    is kept as given rather than recorded as a ``dim % src.dim()`` computation.
    """
    if dim >= 0 or isinstance(src, torch.fx.Proxy):
        return dim
    return dim % src.dim()


def _is_fake(t: Tensor) -> bool:
    return type(t).__name__ == "FakeTensor" or type(t).__name__ == "FunctionalTensor"


def check_tensor(op: str, name: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"gfx.{op}: '{name}' must be a torch.Tensor, got {type(value).__name__}")


def check_src(op: str, src: Tensor, name: str = "src") -> None:
    check_tensor(op, name, src)
    if src.dtype == torch.bool:
        raise TypeError(f"gfx.{op}: '{name}' must be numeric, got dtype torch.bool")


def check_dim(op: str, src: Tensor, dim: int, name: str = "src") -> int:
    if src.dim() == 0:
        raise ValueError(f"gfx.{op}: '{name}' must have at least one dimension, got a scalar")
    if not -src.dim() <= dim < src.dim():
        raise IndexError(
            f"gfx.{op}: dim={dim} is out of range for '{name}' of rank {src.dim()}")
    return dim % src.dim()


def check_index(op: str, index: Tensor, src: Tensor, dim: int, name: str = "index") -> None:
    """``index`` is a 1-D integer tensor with one entry per slice of ``src`` along ``dim``."""
    check_tensor(op, name, index)
    if index.dtype not in INDEX_DTYPES:
        raise TypeError(f"gfx.{op}: '{name}' must be int64 or int32, got {index.dtype}")
    if index.dim() != 1:
        raise ValueError(
            f"gfx.{op}: '{name}' must be 1-D, got shape {tuple(index.shape)}")
    if index.device != src.device:
        raise ValueError(
            f"gfx.{op}: '{name}' is on {index.device} but 'src' is on {src.device}")


def check_index_matches(op: str, index: Tensor, src: Tensor, dim: int, name: str = "index") -> None:
    """``index`` has one entry per slice of ``src`` along ``dim`` (symbolic sizes allowed)."""
    torch._check_value(
        index.shape[0] == src.shape[dim],
        lambda: (f"gfx.{op}: '{name}' has {index.shape[0]} entries but 'src' has "
                 f"{src.shape[dim]} along dim {dim}"))


# NOTE [index bounds cache]
# Range checks read min and max of an index (two reductions and a device sync).  The
# indices of message passing are rows of one edge_index (views sharing a base tensor)
# reused by every layer and call, so bounds are cached per base tensor, its version
# (an in-place edit invalidates them) and the view's position.
_BOUNDS: WeakIdKeyDictionary = WeakIdKeyDictionary()


def forget_bounds(tensor: Tensor) -> None:
    """Drop the cached bounds of ``tensor`` (and of its views)."""
    base = tensor._base if tensor._base is not None else tensor
    _BOUNDS.pop(base, None)


def index_bounds(index: Tensor) -> Tuple[int, int]:
    """``(min, max)`` of a non-empty index tensor, cached for views of one base tensor."""
    base = index._base if index._base is not None else index
    key = (base._version, base.data_ptr(), index.storage_offset(), tuple(index.shape),
           tuple(index.stride()))
    entries = _BOUNDS.setdefault(base, {})
    if key not in entries:
        if len(entries) > 16:  # stale versions of a tensor edited in place
            entries.clear()
        entries[key] = (int(index.min()), int(index.max()))
    return entries[key]


def check_index_range(op: str, index: Tensor, size: int, name: str = "index",
                      size_name: str = "dim_size") -> None:
    """Value check: every entry of ``index`` lies in ``[0, size)``."""
    if index.numel() == 0 or not has_data(index):
        return
    lo, hi = index_bounds(index)
    if lo < 0:
        raise IndexError(f"gfx.{op}: '{name}' contains the negative value {lo}")
    if hi >= size:
        raise IndexError(
            f"gfx.{op}: '{name}' contains {hi} but {size_name}={size} "
            f"(valid range [0, {size}))")


def check_reduce(op: str, reduce: str, allowed) -> str:
    if not isinstance(reduce, str):
        raise TypeError(f"gfx.{op}: 'reduce' must be a string, got {type(reduce).__name__}")
    canonical = {"add": "sum"}.get(reduce, reduce)
    if canonical not in allowed:
        raise ValueError(
            f"gfx.{op}: unknown reduce '{reduce}'; expected one of {', '.join(allowed)}")
    return canonical


def infer_size(op: str, name: str, index: Tensor) -> int:
    """``index.max() + 1`` (0 for an empty index); needs the values of ``index``."""
    if not has_data(index):
        raise ValueError(
            f"gfx.{op}: '{name}' must be given when 'index' holds no data "
            f"(fx tracing, torch.compile, meta or fake tensors)")
    return int(index.max()) + 1 if index.numel() > 0 else 0


def check_size(op: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"gfx.{op}: '{name}' must be a non-negative int, got {value!r}")
    return value
