"""``torch.compile(model, backend="gfx")``: gfx's passes behind TorchDynamo.

Dynamo hands over graphs of torch functions in which message passing layers are already
inlined (the ``torch.ops.gfx.*`` primitives are custom ops, so they stay visible).  The
backend infers levels (see :mod:`gfx.levels`; Dynamo names inputs ``l_edge_index_`` and
so on), then runs the reorder and fusion passes for the best available kernel backend.
The registration is an entry point (``torch_dynamo_backends`` in pyproject.toml), so
``import gfx`` is not even needed before ``torch.compile``.
"""
from __future__ import annotations

from typing import List

import torch
from torch.fx import GraphModule


def gfx_backend(gm: GraphModule, example_inputs: List[torch.Tensor]):
    from gfx.compile import pipeline, resolve_backend
    from gfx.levels import infer_levels
    from gfx.pipeline import run_passes

    infer_levels(gm)
    gm = run_passes(gm, pipeline(resolve_backend("auto")))
    return gm.forward
