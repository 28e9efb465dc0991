"""``GroupAddRev``: grouped reversible GNN blocks whose activations are recomputed in
the backward pass (Li et al., "Graph Neural Networks with 1000 Layers", ICML 2021)."""
from __future__ import annotations

import copy
from typing import List, Optional, Union

import torch
from torch import Tensor

from gfx.utils import is_tracing

# NOTE [reversible memory]: ``_InvertibleFunction.forward`` runs the block without
# recording a graph and saves only its output; ``backward`` rebuilds the input with the
# block's inverse, re-runs the block with gradients and differentiates it.  The caller's
# tensors are never touched.  The output of one GroupAddRev that feeds straight into
# another is the only saved tensor the next block can rebuild, so the next block empties
# its storage after its forward pass and refills it in its backward pass: a chain of L
# blocks keeps one output, not L.  Such a chained output must not be used elsewhere
# (e.g. in a skip connection) before the backward pass.

_FLAG = "_gfx_rev_output"


class _InvertibleFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, module: "GroupAddRev", num_args: int, x: Tensor, *rest):
        args, params = rest[:num_args], rest[num_args:]
        ctx.module, ctx.args, ctx.num_params = module, args, len(params)
        ctx.x_requires_grad = x.requires_grad
        ctx.bwd_passes_left = module.num_bwd_passes
        ctx.states = [None] * module.num_groups   # random state of each block's call
        with torch.no_grad():
            y = module._forward(x, *args, states=ctx.states)
        ctx.input = None
        if any(ctx.needs_input_grad) and getattr(x, _FLAG, False) and x.is_contiguous() and \
                x.untyped_storage().nbytes() == x.numel() * x.element_size():
            ctx.input = x                       # rebuilt in backward
            ctx.input_nbytes = x.untyped_storage().nbytes()
            x.untyped_storage().resize_(0)
        ctx.output = y.detach()
        return y

    @staticmethod
    def backward(ctx, grad_y: Tensor):
        if ctx.output is None:
            raise RuntimeError("GroupAddRev: the output was discarded after num_bwd_passes "
                               "backward passes; raise 'num_bwd_passes' to backpropagate "
                               "through it again")
        module, args = ctx.module, ctx.args
        with torch.no_grad():
            x = module._inverse(ctx.output, *args, states=ctx.states)
        if ctx.input is not None and ctx.input.untyped_storage().nbytes() == 0:
            ctx.input.untyped_storage().resize_(ctx.input_nbytes)
            ctx.input.copy_(x)
        params = [p for p in module.parameters()]
        with torch.enable_grad():
            x_ = x.detach().requires_grad_(True)
            y_ = module._forward(x_, *args, states=ctx.states)
        wanted = [x_] + [p for p in params if p.requires_grad]
        grads = torch.autograd.grad(y_, wanted, grad_y, allow_unused=True)
        grad_x, param_grads = grads[0], iter(grads[1:])
        out_params = [next(param_grads) if p.requires_grad else None for p in params]
        ctx.bwd_passes_left -= 1
        if ctx.bwd_passes_left <= 0:
            ctx.output = ctx.input = None
        return (None, None, grad_x if ctx.x_requires_grad else None,
                *([None] * len(args)), *out_params)


class GroupAddRev(torch.nn.Module):
    """The grouped reversible GNN module of "Graph Neural Networks with 1000 Layers".

    The input features are split into :math:`C` groups along ``split_dim`` and

    .. math::
        \\mathbf{X}'_0 = \\sum_{i=2}^{C} \\mathbf{X}_i, \\qquad
        \\mathbf{X}'_i = f_{\\theta(i)}(\\mathbf{X}'_{i-1}, \\mathbf{A}) + \\mathbf{X}_i
        \\quad (i = 1, \\ldots, C)

    with output :math:`[\\mathbf{X}'_1, \\ldots, \\mathbf{X}'_C]`.  The block is
    invertible (:meth:`inverse`): :math:`\\mathbf{X}_i = \\mathbf{X}'_i -
    f_{\\theta(i)}(\\mathbf{X}'_{i-1}, \\mathbf{A})` from :math:`i = C` down, so
    activations are not stored but recomputed in the backward pass (see NOTE
    [reversible memory]; each block's call replays the CPU random state it first saw,
    so dropout inside a block is inverted and differentiated exactly).

    Under ``gfx.capture`` the block is captured as its plain forward computation
    (recomputation is a property of the eager autograd path); capture the model that
    calls it, since a root ``GroupAddRev`` has a variadic ``forward`` that ``torch.fx``
    cannot trace.

    Differs from the reference library, which empties the storage of the caller's
    input tensor until the backward pass: gfx never modifies the caller's tensors and
    only frees the outputs of GroupAddRev layers that feed straight into another one.

    Args:
        conv (torch.nn.Module or torch.nn.ModuleList): the block :math:`f` (copied
            ``num_groups`` times with fresh parameters), or one block per group. Its
            input and output sizes must match (the group size).
        split_dim (int, optional): the dimension split into groups. (default: ``-1``)
        num_groups (int, optional): the number of groups :math:`C`; required for a
            single ``conv``. (default: ``None``)
        disable (bool, optional): run as an ordinary module, storing activations.
            (default: ``False``)
        num_bwd_passes (int, optional): backward passes through the output before its
            saved copy is discarded. (default: ``1``)
    """

    def __init__(self, conv: Union[torch.nn.Module, torch.nn.ModuleList], split_dim: int = -1,
                 num_groups: Optional[int] = None, disable: bool = False,
                 num_bwd_passes: int = 1):
        super().__init__()
        if isinstance(conv, torch.nn.ModuleList):
            convs: List[torch.nn.Module] = list(conv)
            num_groups = len(convs)
        else:
            if num_groups is None:
                raise ValueError("GroupAddRev: 'num_groups' is required when 'conv' is a "
                                 "single module")
            convs = [conv] + [copy.deepcopy(conv) for _ in range(num_groups - 1)]
        if num_groups < 2:
            raise ValueError(f"GroupAddRev: needs at least 2 groups, got num_groups="
                             f"{num_groups}")
        if not isinstance(num_bwd_passes, int) or num_bwd_passes < 1:
            raise ValueError(f"GroupAddRev: 'num_bwd_passes' must be an int >= 1, got "
                             f"{num_bwd_passes!r}")
        self.convs = torch.nn.ModuleList(convs)
        self.split_dim = split_dim
        self.num_groups = num_groups
        self.disable = disable
        self.num_bwd_passes = num_bwd_passes
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset every group's block."""
        for conv in self.convs:
            if hasattr(conv, "reset_parameters"):
                conv.reset_parameters()

    def _chunk(self, x: Tensor, name: str) -> List[Tensor]:
        if not is_tracing(x) and x.size(self.split_dim) % self.num_groups != 0:
            raise ValueError(f"GroupAddRev: '{name}' has {x.size(self.split_dim)} features "
                             f"along split_dim={self.split_dim}, not divisible by "
                             f"num_groups={self.num_groups}")
        chunks = torch.chunk(x, self.num_groups, dim=self.split_dim)
        return [chunks[i] for i in range(self.num_groups)]  # indexing traces, iterating not

    def _block(self, i: int, inp: Tensor, args: tuple, states: Optional[List[Tensor]]
               ) -> Tensor:
        """Group ``i``'s block; with ``states``, under the random state its first call
        saw (recorded there when ``states[i]`` is ``None``)."""
        if states is None:
            return self.convs[i](inp, *args)
        if states[i] is None:
            states[i] = torch.get_rng_state()
            return self.convs[i](inp, *args)
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(states[i])
            return self.convs[i](inp, *args)

    def _forward(self, x: Tensor, *args, states: Optional[List[Tensor]] = None) -> Tensor:
        xs = self._chunk(x, "x")
        y_in = sum(xs[1:])
        ys = []
        for i, x_i in enumerate(xs):
            y_in = self._block(i, y_in, args, states) + x_i
            ys.append(y_in)
        return torch.cat(ys, dim=self.split_dim)

    def _inverse(self, y: Tensor, *args, states: Optional[List[Tensor]] = None) -> Tensor:
        ys = self._chunk(y, "y")
        xs = [None] * self.num_groups
        for i in range(self.num_groups - 1, 0, -1):
            xs[i] = ys[i] - self._block(i, ys[i - 1], args, states)
        xs[0] = ys[0] - self._block(0, sum(xs[1:]), args, states)
        return torch.cat(xs, dim=self.split_dim)

    def forward(self, x: Tensor, *args) -> Tensor:
        """The block's output for node features ``x``; ``args`` (``edge_index``, ...)
        go to every group's block unchanged."""
        if self.disable or not torch.is_grad_enabled() or is_tracing(x):
            return self._forward(x, *args)  # captured: the compiled graph owns memory
        params = list(self.parameters())
        y = _InvertibleFunction.apply(self, len(args), x, *args, *params)
        setattr(y, _FLAG, True)
        return y

    def inverse(self, y: Tensor, *args) -> Tensor:
        """The input :math:`\\mathbf{X}` that gives the output ``y``."""
        return self._inverse(y, *args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.convs[0]}, num_groups={self.num_groups})"


__all__ = ["GroupAddRev"]
