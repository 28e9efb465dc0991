"""``aggregation_resolver``: turn a name, class, instance or list into an :class:`Aggregation`."""
from __future__ import annotations

from typing import Any, Optional

from .base import AGGREGATIONS, Aggregation


def valid_names() -> str:
    """The registered names, short ones first, then class names, for error messages."""
    short = sorted(key for key in AGGREGATIONS if not key.endswith("aggregation"))
    classes = sorted({cls.__name__ for cls in AGGREGATIONS.values()})
    return f"{', '.join(short)}; or a class name: {', '.join(classes)}"


def aggregation_resolver(query: Any, *args, **kwargs) -> Optional[Aggregation]:
    """Resolve ``query`` to an :class:`Aggregation` module.

    * ``None`` stays ``None`` (no aggregation, as in the reference library);
    * an :class:`Aggregation` instance is returned as is (no arguments allowed);
    * an :class:`Aggregation` subclass is instantiated with ``*args, **kwargs``;
    * a string is looked up case-insensitively among the registered names (``"sum"``,
      ``"add"``, ``"mean"``, ``"max"``, ``"min"``, ``"mul"``, ``"var"``, ``"std"``,
      ``"softmax"``, ``"powermean"``, ``"multi"``, and the class names such as
      ``"SumAggregation"``), and the class is instantiated with ``*args, **kwargs``;
    * a list or tuple becomes ``MultiAggregation(query, *args, **kwargs)``.

    Args:
        query (str or type or Aggregation or list): what to resolve.
        *args: positional arguments for the constructor.
        **kwargs: keyword arguments for the constructor.

    Raises:
        ValueError: an unknown name; the message lists every valid one.
        TypeError: a query of another type, or arguments given with an instance.
    """
    if query is None:
        return None
    if isinstance(query, Aggregation):
        if args or kwargs:
            raise TypeError(f"aggregation_resolver: got the instance {query!r} together with "
                            f"constructor arguments {list(args) + sorted(kwargs)}; pass "
                            f"arguments only with a name or a class")
        return query
    if isinstance(query, (list, tuple)):
        return AGGREGATIONS["multi"](list(query), *args, **kwargs)
    if isinstance(query, type) and issubclass(query, Aggregation):
        return query(*args, **kwargs)
    if isinstance(query, str):
        cls = AGGREGATIONS.get(query.lower())
        if cls is None:
            raise ValueError(f"aggregation_resolver: unknown aggregation {query!r}; valid "
                             f"names (case-insensitive): {valid_names()}")
        return cls(*args, **kwargs)
    raise TypeError(f"aggregation_resolver: expected a name, an Aggregation class or "
                    f"instance, or a list of them; got {type(query).__name__}")
