"""A pickle reader that builds numpy arrays, scipy sparse matrices and plain containers only.

# NOTE [restricted unpickling]
A pickle can name any importable callable and have it called while loading (the
``__reduce__`` protocol), so loading an untrusted pickle with :func:`pickle.load` can
run arbitrary code.  The Planetoid files are pickles written by Python 2, holding
numpy arrays, scipy CSR matrices and a ``defaultdict`` of adjacency lists.  The
unpickler here resolves every global a pickle names through a fixed table of those
classes and refuses anything else with a :class:`pickle.UnpicklingError` naming it,
before any of it is imported or called.  Python 2 module names (``__builtin__``) and
the old numpy/scipy module paths map to the same objects as the current ones.
"""
from __future__ import annotations

import _codecs
import collections
import copyreg
import io
import pickle
from typing import Any, BinaryIO, Dict, Tuple

import numpy as np
import scipy.sparse

try:  # numpy >= 2 keeps the array internals in numpy._core
    from numpy._core import multiarray as _multiarray, numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray, numeric as _numeric


def _allowed_globals() -> Dict[Tuple[str, str], Any]:
    table: Dict[Tuple[str, str], Any] = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = _multiarray._reconstruct
        table[(module, "scalar")] = _multiarray.scalar
    for module in ("numpy.core.numeric", "numpy._core.numeric"):  # protocol 5 arrays
        table[(module, "_frombuffer")] = _numeric._frombuffer
    table[("numpy", "ndarray")] = np.ndarray
    table[("numpy", "dtype")] = np.dtype
    for fmt in ("csr", "csc", "coo"):
        cls = getattr(scipy.sparse, f"{fmt}_matrix")
        for module in ("scipy.sparse", f"scipy.sparse.{fmt}", f"scipy.sparse._{fmt}"):
            table[(module, cls.__name__)] = cls
    for module in ("builtins", "__builtin__"):
        for cls in (object, list, dict, set, frozenset, tuple):
            table[(module, cls.__name__)] = cls
    # Protocols 0 and 1 rebuild objects as base.__new__(cls, state): with cls and base
    # from this table, that only ever constructs the classes listed here.
    for module in ("copyreg", "copy_reg"):
        table[(module, "_reconstructor")] = copyreg._reconstructor
    table[("collections", "defaultdict")] = collections.defaultdict
    table[("collections", "OrderedDict")] = collections.OrderedDict
    # Python 3 pickles (protocol 2) rebuild bytes through _codecs.encode.
    table[("_codecs", "encode")] = _codecs.encode
    return table


ALLOWED_GLOBALS = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """An :class:`pickle.Unpickler` that only resolves the globals in
    :data:`ALLOWED_GLOBALS` (see NOTE [restricted unpickling])."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load '{module}.{name}': this pickle may only contain numpy "
                "arrays, scipy.sparse matrices and builtin containers") from None


def restricted_load(file: BinaryIO, encoding: str = "latin1") -> Any:
    """Read one pickle from an open binary file with :class:`RestrictedUnpickler`.

    Args:
        file (binary file): the open file.
        encoding (str, optional): how Python 2 ``str`` objects are decoded; ``latin1``
            keeps numpy's raw array bytes intact. (default: :obj:`"latin1"`)
    """
    return RestrictedUnpickler(file, encoding=encoding).load()


def restricted_loads(payload: bytes, encoding: str = "latin1") -> Any:
    """:func:`restricted_load` for a pickle held in memory."""
    return restricted_load(io.BytesIO(payload), encoding=encoding)
