"""``PPFConv``: the PPFNet operator on point pair features (Deng et al., CVPR 2018)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from gfx.nn.conv.point_conv import Pair, PairOpt, PointNetConv, point_inputs
from gfx.utils import is_tracing


def _angle(v1: Tensor, v2: Tensor) -> Tensor:
    """The angle between the rows of ``v1`` and ``v2``, in ``[0, pi]``:
    :math:`\\operatorname{atan2}(\\lVert v_1 \\times v_2 \\rVert, v_1 \\cdot v_2)`
    (0 where a vector is zero)."""
    cross = torch.linalg.vector_norm(torch.cross(v1, v2, dim=1), dim=1)
    return torch.atan2(cross, (v1 * v2).sum(dim=1))


def _point_pair_features(pos_i: Tensor, pos_j: Tensor, normal_i: Tensor,
                        normal_j: Tensor) -> Tensor:
    """:math:`(\\lVert \\mathbf{d} \\rVert, \\angle(\\mathbf{n}_i, \\mathbf{d}),
    \\angle(\\mathbf{n}_j, \\mathbf{d}), \\angle(\\mathbf{n}_i, \\mathbf{n}_j))` with
    :math:`\\mathbf{d} = \\mathbf{p}_j - \\mathbf{p}_i`, as ``[E, 4]`` (3-D points)."""
    d = pos_j - pos_i
    return torch.stack([torch.linalg.vector_norm(d, dim=1), _angle(normal_i, d),
                        _angle(normal_j, d),
                        _angle(normal_i, normal_j)], dim=1)


class PPFConv(PointNetConv):
    """The PPFNet operator of "PPFNet: Global Context Aware Local Features for Robust 3D
    Point Matching".

    .. math::
        \\mathbf{x}'_i = \\gamma_{\\mathbf{\\Theta}} \\left( \\max_{j \\in
        \\mathcal{N}(i) \\cup \\{ i \\}} h_{\\mathbf{\\Theta}} \\left( \\mathbf{x}_j,
        \\lVert \\mathbf{d}_{j,i} \\rVert, \\angle(\\mathbf{n}_i, \\mathbf{d}_{j,i}),
        \\angle(\\mathbf{n}_j, \\mathbf{d}_{j,i}), \\angle(\\mathbf{n}_i, \\mathbf{n}_j)
        \\right) \\right)

    with :math:`\\mathbf{d}_{j,i} = \\mathbf{p}_j - \\mathbf{p}_i`, :math:`\\mathbf{n}`
    the point normals, :math:`\\angle(a, b) = \\operatorname{atan2}(\\lVert a \\times b
    \\rVert, a \\cdot b)`, and :math:`h_{\\mathbf{\\Theta}}` (``local_nn``) and
    :math:`\\gamma_{\\mathbf{\\Theta}}` (``global_nn``) networks (identity when ``None``).
    The four point pair features follow ``x_j`` (or stand alone when ``x`` is ``None``);
    an angle with a zero vector (every self-loop has :math:`\\mathbf{d}_{i,i} = 0`) is 0.
    With ``add_self_loops`` the loops are replaced by one per node.

    Args:
        local_nn (torch.nn.Module, optional): :math:`h_{\\mathbf{\\Theta}}`, mapping
            ``[E, in_channels + 4]`` to ``[E, out_channels]``. (default: ``None``)
        global_nn (torch.nn.Module, optional): :math:`\\gamma_{\\mathbf{\\Theta}}`.
            (default: ``None``)
        add_self_loops (bool, optional): replace self-loops by one per node.
            (default: ``True``)
        **kwargs: arguments of :class:`gfx.nn.MessagePassing` (aggregation: ``"max"``).

    Shapes: ``x`` ``[N, C]`` or ``None``, ``pos`` and ``normal`` ``[N, 3]`` or pairs,
    ``edge_index`` ``[2, E]`` -> ``[N_dst, out]``.
    """

    def forward(self, x: PairOpt, pos: Pair, normal: Pair, edge_index: Tensor) -> Tensor:
        x, pos, edge_index, (normal,) = point_inputs(
            "PPFConv", x, pos, edge_index, self.add_self_loops, self.flow,
            (("normal", normal),))
        for name, value in (("pos", pos[0]), ("normal", normal[0])):
            if not is_tracing(value) and value.shape[-1] != 3:
                raise ValueError(f"PPFConv: '{name}' must be 3-D points [N, 3], got shape "
                                 f"{list(value.shape)}")
        out = self.propagate(edge_index, x=x, pos=pos, normal=normal)
        if self.global_nn is not None:
            out = self.global_nn(out)
        return out

    def message(self, x_j: Optional[Tensor], pos_i: Tensor, pos_j: Tensor,
                normal_i: Tensor, normal_j: Tensor) -> Tensor:
        msg = _point_pair_features(pos_i, pos_j, normal_i, normal_j)
        if x_j is not None:
            msg = torch.cat([x_j, msg], dim=1)
        if self.local_nn is not None:
            msg = self.local_nn(msg)
        return msg

__all__ = ["PPFConv"]
