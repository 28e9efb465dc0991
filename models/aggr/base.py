"""The :class:`Aggregation` base class and the name registry behind the resolver.

An aggregation reduces the slices of ``x`` along ``dim`` into groups: group ``g`` is the
set of slices ``e`` with ``index[e] == g`` (or, with CSR pointers, the contiguous range
``ptr[g]:ptr[g+1]``).  The same module serves two callers: :class:`MessagePassing`
(edges grouped by target node) and global readouts (nodes grouped by graph).

NOTE [aggregation lowering]
    A compiler only needs to know whether an aggregation *is* one primitive reduction.
    ``primitive_reduce`` answers that: a string among ``gfx.ops.REDUCTIONS`` means that
    ``forward(x, index, ptr, dim_size, dim)`` equals
    ``reduce(x, index, ptr, dim_size, dim, reduce=primitive_reduce)`` exactly, with no
    parameters or buffers, so the module may be lowered to one ``scatter``/``segment``
    node.  ``None`` means "not a primitive": lower by tracing :meth:`forward`, which is
    written with the gfx primitives only.  A subclass that overrides ``forward`` without
    setting ``primitive_reduce`` itself goes back to ``None`` (see
    :meth:`Aggregation.__init_subclass__`), so inheriting from ``SumAggregation`` can
    never claim to be a plain sum by accident.
"""
from __future__ import annotations

import abc
from typing import Callable, ClassVar, Dict, Optional, Type

import torch
from torch import Tensor

import gfx.ops

INDEX_DTYPES = (torch.int64, torch.int32)


def is_traced(*values) -> bool:
    """True when a value is a ``torch.fx`` proxy: it has no shape or data to check."""
    return any(isinstance(value, torch.fx.Proxy) for value in values)


def has_data(*values) -> bool:
    """True when tensor contents may be read: not compiling, no fx proxy, meta or fake tensor."""
    if torch.compiler.is_compiling() or is_traced(*values):
        return False
    for value in values:
        if isinstance(value, Tensor) and (value.is_meta or "Fake" in type(value).__name__
                                          or "Functional" in type(value).__name__):
            return False
    return True


class Aggregation(torch.nn.Module, abc.ABC):
    """Abstract base of every aggregation: reduce ``x`` along ``dim`` into groups.

    .. math::
        \\mathbf{out}_g = \\bigoplus_{e \\,:\\, \\mathrm{index}_e = g} \\mathbf{x}_e,
        \\qquad g = 0, \\dots, \\mathrm{dim\\_size} - 1

    where :math:`\\bigoplus` is the subclass's reduction.  A group without elements gives
    0.  Call tree (subclasses override :meth:`forward`, and use :meth:`reduce`)::

        __call__(x, index, ptr, dim_size, dim)     checks and fills in the arguments
        `-- forward(x, index, ptr, dim_size, dim)  the aggregation itself
              `-- reduce(..., reduce)              gfx.ops.segment if ptr else gfx.ops.scatter

    ``__call__`` guarantees to :meth:`forward` (outside fx tracing): ``dim`` is
    non-negative and valid for ``x``; at least one of ``index`` and ``ptr`` is set (with
    neither, ``ptr`` is built so that all of ``x`` forms group 0); ``index`` (if set)
    has one entry per slice of ``x`` along ``dim``; ``ptr`` (if set) ends at
    ``x.size(dim)``; ``dim_size`` is the number of groups (inferred when it can be read
    from the data).  While ``torch.fx`` traces (capture keeps the call as a leaf; lowering
    traces through :meth:`forward`), the arguments pass unchanged and unchecked, so every
    ``forward`` must be traceable: no Python control flow on shapes or values of its
    tensor arguments (see :func:`is_traced`).

    Attributes:
        primitive_reduce (str or None): the primitive reduction this aggregation is, or
            ``None`` (see ``NOTE [aggregation lowering]`` in this module).
    """

    primitive_reduce: ClassVar[Optional[str]] = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__ and "primitive_reduce" not in cls.__dict__:
            cls.primitive_reduce = None

    def __call__(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                 dim_size: Optional[int] = None, dim: int = -2, **kwargs) -> Tensor:
        if not is_traced(x, index, ptr, dim_size, dim):
            index, ptr, dim_size, dim = self._prepare(x, index, ptr, dim_size, dim)
        return super().__call__(x, index=index, ptr=ptr, dim_size=dim_size, dim=dim, **kwargs)

    @abc.abstractmethod
    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2, **kwargs) -> Tensor:
        """Aggregate ``x`` along ``dim``.

        Args:
            x (Tensor): the elements, e.g. ``[num_edges, F]`` or ``[B, num_nodes, F]``.
            index (Tensor, optional): 1-D group id of each slice along ``dim``; need not
                be sorted. (default: ``None``)
            ptr (Tensor, optional): CSR pointers (``x`` sorted by group), used instead
                of ``index`` when given. (default: ``None``)
            dim_size (int, optional): the number of groups. (default: ``None``)
            dim (int, optional): the axis holding the elements. (default: ``-2``)
            **kwargs: extra inputs of aggregations that need them.

        Returns:
            ``x`` with axis ``dim`` replaced by ``dim_size`` groups (the feature axis may
            change size, see :meth:`get_out_channels`).
        """

    def reduce(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
               dim_size: Optional[int] = None, dim: int = -2, reduce: str = "sum") -> Tensor:
        """Apply one primitive reduction, over ``ptr`` segments if given, else ``index``.

        With neither, all of ``x`` is one group.

        Args:
            x (Tensor): the elements.
            index (Tensor, optional): group id per slice along ``dim``. (default: ``None``)
            ptr (Tensor, optional): CSR pointers; preferred over ``index``. (default: ``None``)
            dim_size (int, optional): the number of groups for ``index``. (default: ``None``)
            dim (int, optional): the axis to reduce. (default: ``-2``)
            reduce (str, optional): one of ``gfx.ops.REDUCTIONS`` (or ``"add"``).
                (default: ``"sum"``)
        """
        if ptr is None and index is None:
            ptr = single_group_ptr(x, dim, 1)
        if ptr is not None:
            return gfx.ops.segment(x, ptr, dim=dim, reduce=reduce)
        return gfx.ops.scatter(x, index, dim=dim, dim_size=dim_size, reduce=reduce)

    def reset_parameters(self) -> None:
        """Re-initialise learnable state: by default, every child's ``reset_parameters``."""
        for child in self.children():
            if hasattr(child, "reset_parameters"):
                child.reset_parameters()

    def get_out_channels(self, in_channels: int) -> int:
        """The feature size of the output for ``in_channels`` input features.

        Args:
            in_channels (int): the size of the last axis of ``x``.
        """
        return in_channels

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    # -- argument checking -------------------------------------------------------------

    def _error(self, message: str) -> str:
        return f"{type(self).__name__}: {message}"

    def _prepare(self, x, index, ptr, dim_size, dim):
        """Validate the call and fill in ``dim``, ``ptr`` and ``dim_size`` (see class doc)."""
        if not isinstance(x, Tensor):
            raise TypeError(self._error(f"'x' must be a torch.Tensor, got {type(x).__name__}"))
        if x.dim() == 0:
            raise ValueError(self._error("'x' must have at least one dimension, got a scalar"))
        if isinstance(dim, bool) or not isinstance(dim, int) or not -x.dim() <= dim < x.dim():
            raise ValueError(self._error(
                f"dim={dim!r} is invalid for 'x' with {x.dim()} dimensions (shape "
                f"{tuple(x.shape)}); expected an int in [{-x.dim()}, {x.dim() - 1}]"))
        dim = dim % x.dim()
        length = x.shape[dim]
        if dim_size is not None and (isinstance(dim_size, bool) or not isinstance(dim_size, int)
                                     or dim_size < 0):
            raise ValueError(self._error(
                f"'dim_size' must be a non-negative int, got {dim_size!r}"))
        if index is not None:
            self._check_vector("index", index, x)
            if index.numel() != length:
                raise ValueError(self._error(
                    f"'index' has {index.numel()} entries but 'x' has {length} elements "
                    f"along dim {dim}"))
        if ptr is not None:
            self._check_vector("ptr", ptr, x)
            if ptr.numel() == 0:
                raise ValueError(self._error("'ptr' must have at least one entry"))
            if dim_size is not None and dim_size != ptr.numel() - 1:
                raise ValueError(self._error(
                    f"dim_size={dim_size} but 'ptr' has {ptr.numel()} entries, i.e. "
                    f"{ptr.numel() - 1} groups"))
            dim_size = ptr.numel() - 1
            if has_data(ptr) and int(ptr[-1]) != length:
                raise ValueError(self._error(
                    f"'ptr' ends at {int(ptr[-1])} but 'x' has {length} elements along "
                    f"dim {dim}"))
        elif index is None:
            if dim_size is None:
                dim_size = 1
            if dim_size < 1 and length > 0:
                raise ValueError(self._error(
                    f"dim_size={dim_size} is smaller than 1, the number of groups needed "
                    f"when neither 'index' nor 'ptr' is given"))
            ptr = single_group_ptr(x, dim, dim_size)
        elif has_data(index) and index.numel() > 0:
            needed = int(index.max()) + 1
            if dim_size is None:
                dim_size = needed
            elif dim_size < needed:
                raise ValueError(self._error(
                    f"dim_size={dim_size} is smaller than index.max() + 1 = {needed}"))
        elif dim_size is None and index.numel() == 0:
            dim_size = 0
        return index, ptr, dim_size, dim

    def _check_vector(self, name: str, value, x: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(self._error(
                f"'{name}' must be a torch.Tensor, got {type(value).__name__}"))
        if value.dtype not in INDEX_DTYPES:
            raise TypeError(self._error(f"'{name}' must be int64 or int32, got {value.dtype}"))
        if value.dim() != 1:
            raise ValueError(self._error(
                f"'{name}' must be 1-D, got shape {tuple(value.shape)}"))
        if value.device != x.device:
            raise ValueError(self._error(
                f"'{name}' is on {value.device} but 'x' is on {x.device}"))


def single_group_ptr(x: Tensor, dim: int, dim_size: int) -> Tensor:
    """CSR pointers that put every slice of ``x`` along ``dim`` into group 0 of ``dim_size``."""
    ptr = torch.full((dim_size + 1,), x.shape[dim], dtype=torch.long, device=x.device)
    ptr[0] = 0
    return ptr


def feature_broadcast_check(aggr: Aggregation, x: Tensor, dim: int, channels: int,
                            what: str) -> None:
    """Per-channel parameters broadcast over the last axis of ``x``: check that they can.

    Skipped while fx traces (a proxy has no shape); the traced module checks when run.
    """
    if is_traced(x, dim):
        return
    if dim % x.dim() == x.dim() - 1:
        raise ValueError(aggr._error(
            f"{what} needs a feature axis after the aggregated one, but dim={dim} is the "
            f"last axis of 'x' (shape {tuple(x.shape)})"))
    if channels > 1 and x.shape[-1] != channels:
        raise ValueError(aggr._error(
            f"channels={channels} but 'x' has {x.shape[-1]} features in its last axis"))


AGGREGATIONS: Dict[str, Type[Aggregation]] = {}


def register_aggregation(*names: str) -> Callable[[Type[Aggregation]], Type[Aggregation]]:
    """Class decorator: make an :class:`Aggregation` resolvable by ``names`` and class name.

    Names are case-insensitive.  Registering a name twice raises ``ValueError``.

    Args:
        *names (str): the short names, e.g. ``"sum"``, ``"add"``.
    """
    def decorator(cls: Type[Aggregation]) -> Type[Aggregation]:
        if not (isinstance(cls, type) and issubclass(cls, Aggregation)):
            raise TypeError(f"register_aggregation: {cls!r} is not an Aggregation subclass")
        keys = list(dict.fromkeys([name.lower() for name in names] + [cls.__name__.lower()]))
        taken = [key for key in keys if key in AGGREGATIONS]
        if taken:
            holders = ", ".join(f"'{k}' -> {AGGREGATIONS[k].__name__}" for k in taken)
            raise ValueError(f"register_aggregation: cannot register {cls.__name__} under "
                             f"{keys}: already registered ({holders})")
        for key in keys:
            AGGREGATIONS[key] = cls
        return cls
    return decorator
