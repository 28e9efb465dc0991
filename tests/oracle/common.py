"""Shared machinery of the oracle tests: a gfx component against the reference library's,
with the same weights and the same inputs.

:func:`compare` checks, in order: ``str()`` equal, state_dict keys and shapes equal,
gfx's weights loaded into the reference by name, outputs equal (tensors, tuples, lists and
dicts, nested), and the gradients of every floating-point input and of every parameter
(matched by name) equal.  :func:`hypothesis_graph` draws the graphs (empty edge sets,
isolated nodes, self-loops, duplicate and directed edges, bipartite pairs).
"""
from __future__ import annotations

from typing import Any, Iterator

import torch
from hypothesis import strategies as st

from tests.graphs import edge_lists

ATOL, RTOL = 1e-5, 1e-4


def shapes(module: torch.nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def with_grad(value: Any) -> Any:
    """A copy of ``value`` whose floating-point tensors are fresh leaves requiring grad."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not value.is_sparse:
            return value.detach().clone().requires_grad_()
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(with_grad(v) for v in value)
    if isinstance(value, dict):
        return {k: with_grad(v) for k, v in value.items()}
    return value


def leaves(value: Any) -> Iterator[torch.Tensor]:
    """The tensors of a nested value, in a deterministic order."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from leaves(value[k])


def compare(ours: torch.nn.Module, theirs: torch.nn.Module, *inputs, check_str: bool = True,
            check_grads: bool = True, atol: float = ATOL, rtol: float = RTOL, **kwargs) -> Any:
    """Same weights, same inputs -> same ``str()``, outputs and gradients; returns ours."""
    if check_str:
        assert str(ours) == str(theirs)
    assert shapes(ours) == shapes(theirs)
    theirs.load_state_dict(ours.state_dict())
    ours.zero_grad(set_to_none=True)
    theirs.zero_grad(set_to_none=True)
    args_a, args_b = with_grad(list(inputs)), with_grad(list(inputs))
    kw_a, kw_b = with_grad(kwargs), with_grad(kwargs)
    out_a, out_b = ours(*args_a, **kw_a), theirs(*args_b, **kw_b)
    got, expected = list(leaves(out_a)), list(leaves(out_b))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        if a.is_sparse or b.is_sparse:
            a, b = a.to_dense(), b.to_dense()
        torch.testing.assert_close(a, b, atol=atol, rtol=rtol, equal_nan=True)
    if not check_grads:
        return out_a
    pairs = [(a, b) for a, b in zip(got, expected)
             if a.is_floating_point() and a.requires_grad and not a.is_sparse]
    if not pairs:
        return out_a
    seeds = [torch.randn_like(a) for a, _ in pairs]
    sum((a * g).sum() for (a, _), g in zip(pairs, seeds)).backward()
    sum((b * g).sum() for (_, b), g in zip(pairs, seeds)).backward()
    for a, b in zip(leaves(args_a + [kw_a]), leaves(args_b + [kw_b])):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            _close_grad(a.grad, b.grad, "input", atol, rtol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close_grad(p.grad, theirs_params[name].grad, name, atol, rtol)
    return out_a


def _close_grad(a, b, name: str, atol: float = ATOL, rtol: float = RTOL) -> None:
    if a is None or b is None:
        assert a is None or not a.any(), name
        assert b is None or not b.any(), name
        return
    torch.testing.assert_close(a, b, atol=atol if a.dtype != torch.float64 else 1e-8,
                               rtol=rtol, msg=lambda m: f"{name}: {m}")


@st.composite
def hypothesis_graph(draw, channels: int = 4, max_nodes: int = 8, max_edges: int = 20,
                     bipartite: bool = False, edge_dim: int = 0):
    """``dict(x=..., edge_index=..., [x_dst=...], [edge_attr=...])`` for a random graph.

    Graphs may be empty, have isolated nodes, self-loops and duplicate edges; with
    ``bipartite=True`` sources and targets are separate node sets (``x`` and ``x_dst``).
    """
    edge_index, num_src, num_dst = draw(edge_lists(max_nodes, max_edges, bipartite))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    out = {"edge_index": edge_index, "x": torch.randn(num_src, channels, generator=g)}
    if bipartite:
        out["x_dst"] = torch.randn(num_dst, channels, generator=g)
    if edge_dim:
        out["edge_attr"] = torch.randn(edge_index.shape[1], edge_dim, generator=g)
    return out
