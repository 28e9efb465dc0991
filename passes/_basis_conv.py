"""``BasisDecomposedConv``: ``num_bases`` copies of a layer mixed by per-relation weights.

Used by :func:`gfx.passes.to_hetero_with_bases.to_hetero_with_bases`.  Copy ``b`` of the
layer owns a parameter ``edge_type_weight`` of shape ``[1, num_relations]`` (the
coefficients :math:`a_{r, b}`; the reference library's name and shape, so checkpoints
load) and a message hook that multiplies the message of every edge ``e`` by
:math:`a_{r(e), b}`.

# NOTE [basis message scaling]
The coefficients reach the hook through the attribute ``_basis_scale`` of the copy, set
for the duration of one call by :meth:`BasisDecomposedConv.forward`.  The wrapper is a
:class:`MessagePassing` subclass so that capture keeps it as one leaf: lowering then
traces the attribute assignment, the copies and their hooks together.  The hook checks
that there is one message per edge: a layer that adds edges itself (self-loops) sends
messages that belong to no relation, and is refused with an error naming it.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from gfx.message_passing import MessagePassing
from gfx.ops import gather
from gfx.ops._checks import is_tracing

from ._hetero_common import fresh_copies, reset_copy

OWNER = "to_hetero_with_bases"


def scale_messages(module: MessagePassing, inputs: Any, output: Tensor) -> Tensor:
    """Message hook of a basis copy: multiply each edge's message by its coefficient."""
    scale: Optional[Tensor] = module.__dict__.get("_basis_scale")
    if scale is None:
        raise RuntimeError(f"{OWNER}: a basis copy of '{module._basis_layer}' "
                           f"({type(module).__name__}) was called outside its "
                           f"BasisDecomposedConv, which supplies the per-edge coefficients")
    dim = module.node_dim
    if not is_tracing(output, scale) and output.shape[dim] != scale.shape[0]:
        raise ValueError(
            f"{OWNER}: '{module._basis_layer}' ({type(module).__name__}) sends "
            f"{output.shape[dim]} messages over {scale.shape[0]} edges: it adds edges of "
            f"its own (self-loops), whose messages belong to no relation, so no basis "
            f"coefficient applies to them. Construct the layer with add_self_loops=False")
    return (output.movedim(dim, -1) * scale).movedim(-1, dim)


class BasisDecomposedConv(MessagePassing):
    """Sum of ``num_bases`` copies of a layer whose messages are weighted per relation.

    .. math::
        \\mathbf{h}_v = \\sum_{b=1}^{B} f^{(b)}\\left(\\mathbf{h}_v,
        \\{ a_{r(w, v), b} \\cdot \\mathbf{m}^{(b)}_{w \\to v} \\}\\right)

    where :math:`\\mathbf{m}^{(b)}_{w \\to v}` is the message copy :math:`b` computes for
    the edge :math:`w \\to v` and :math:`r(w, v)` its relation.

    Args:
        module (MessagePassing): the layer to copy.
        num_relations (int): number of relations (edge types).
        num_bases (int): number of copies :math:`B`.
        name (str, optional): the layer's name in the model, for messages.
            (default: ``"layer"``)

    Shapes: ``edge_type`` ``[E]`` (relation ids), then the layer's own arguments.
    """

    def __init__(self, module: MessagePassing, num_relations: int, num_bases: int,
                 name: str = "layer"):
        super().__init__(aggr=None)
        self.num_relations = num_relations
        self.num_bases = num_bases
        self.name = name
        copies = fresh_copies(module, name, num_bases, OWNER, f"{num_bases} times (once per basis)")
        for conv in copies:
            if "edge_type_weight" in dict(conv.named_parameters(recurse=False)):
                raise ValueError(f"{OWNER}: '{name}' already has a parameter named "
                                 f"'edge_type_weight'")
            conv.edge_type_weight = Parameter(torch.empty(1, num_relations))
            conv._basis_layer = name
            conv._basis_scale = None
            conv.register_message_forward_hook(scale_messages)
        self.convs = torch.nn.ModuleList(copies)
        self.reset_coefficients()

    def reset_coefficients(self) -> None:
        """Draw every :math:`a_{r, b}` from :math:`U(-c, c)`, :math:`c = \\sqrt{6 / (R + B)}`.

        (Glorot on the ``[R, B]`` coefficient matrix; the same rule for any ``B``.)
        """
        bound = math.sqrt(6.0 / (self.num_relations + self.num_bases))
        with torch.no_grad():
            for conv in self.convs:
                conv.edge_type_weight.uniform_(-bound, bound)

    def reset_parameters(self) -> None:
        for conv in self.convs:
            reset_copy(conv, self.name)
        self.reset_coefficients()

    def forward(self, edge_type: Tensor, *args, **kwargs) -> Tensor:
        out = None
        for conv in self.convs:
            conv._basis_scale = gather(conv.edge_type_weight.view(-1), edge_type)
            try:
                result = conv(*args, **kwargs)
            finally:
                conv._basis_scale = None
            out = result if out is None else out + result
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.convs[0]!r}, num_relations="
                f"{self.num_relations}, num_bases={self.num_bases})")


__all__ = ["BasisDecomposedConv", "scale_messages"]
