"""``DataParallel``: run a model on lists of graphs split across several CUDA devices."""
from __future__ import annotations

import warnings
from itertools import chain
from typing import List, Optional, Sequence

import torch


def split_by_num_nodes(num_nodes: Sequence[int], num_devices: int) -> List[int]:
    """Boundaries that cut a list of graphs into at most ``num_devices`` contiguous chunks
    holding about the same number of nodes.

    Graph :math:`i` goes to chunk :math:`\\lfloor D \\cdot (c_{i} + c_{i+1}) / (2 c_n)
    \\rfloor` (clamped to :math:`D - 1`), where :math:`c_i` is the number of nodes of the
    graphs before it and :math:`D` the number of devices, i.e. to the device its middle
    node falls on.  Empty chunks are dropped, so every chunk holds at least one graph.

    Args:
        num_nodes (list of int): nodes of each graph, in order.
        num_devices (int): number of chunks at most.

    Returns:
        list of int: ``[0, b_1, ..., len(num_nodes)]``; chunk :math:`k` is
        ``graphs[b_k:b_{k+1}]``.
    """
    if num_devices < 1:
        raise ValueError(f"split_by_num_nodes: 'num_devices' must be positive, got "
                         f"{num_devices}")
    counts = torch.tensor([int(n) for n in num_nodes], dtype=torch.float64)
    if counts.numel() == 0:
        return [0]
    if (counts < 0).any():
        raise ValueError("split_by_num_nodes: 'num_nodes' must be non-negative")
    cum = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    total = cum[-1].item()
    if total == 0:  # no nodes at all: split by graph count instead
        cum = torch.arange(counts.numel() + 1, dtype=torch.float64)
        total = float(counts.numel())
    middle = (cum[:-1] + cum[1:]) / 2.0
    chunk = (num_devices * middle / total).floor().long().clamp(max=num_devices - 1)
    per_chunk = torch.bincount(chunk, minlength=num_devices)
    bounds = torch.cat([per_chunk.new_zeros(1), per_chunk.cumsum(0)])
    return sorted(set(bounds.tolist()))


class DataParallel(torch.nn.DataParallel):
    """Data parallelism over lists of graphs.

    ``forward(data_list)`` splits the list into contiguous chunks with about the same
    number of nodes (:func:`split_by_num_nodes`), merges each chunk into one
    :class:`~gfx.data.Batch` on its device, runs a replica of ``module`` on each, and
    gathers the outputs on ``output_device``; gradients of the replicas add up in
    ``module``.  Use it with a loader that yields lists of graphs (``DataListLoader``).
    The module's parameters and buffers must live on ``device_ids[0]``.

    With a single device, or none (no CUDA), the whole list is merged into one batch
    and the module runs once on the device of its parameters (CPU without CUDA).  The
    reference library fails with an ``IndexError`` when constructed without CUDA; gfx
    runs on CPU instead.

    Args:
        module (torch.nn.Module): the model; it takes one batch.
        device_ids (list of int or torch.device, optional): CUDA devices.
            (default: all devices)
        output_device (int or torch.device, optional): device of the output.
            (default: ``device_ids[0]``)
        follow_batch (list or tuple, optional): attributes that get ``{key}_batch``
            vectors in the batches. (default: ``None``)
        exclude_keys (list or tuple, optional): attributes left out of the batches.
            (default: ``None``)
    """

    def __init__(self, module: torch.nn.Module, device_ids=None, output_device=None,
                 follow_batch: Optional[Sequence[str]] = None,
                 exclude_keys: Optional[Sequence[str]] = None):
        super().__init__(module, device_ids, output_device)
        warnings.warn("'DataParallel' is usually much slower than 'DistributedDataParallel' "
                      "even on a single machine; consider 'DistributedDataParallel' for "
                      "multi-GPU training", UserWarning, stacklevel=2)
        self.follow_batch = list(follow_batch or [])
        self.exclude_keys = list(exclude_keys or [])
        if self.device_ids:
            self.src_device = torch.device(f"cuda:{self.device_ids[0]}")
        else:
            first = next(chain(module.parameters(), module.buffers()), None)
            self.src_device = first.device if first is not None else torch.device("cpu")

    def _batch(self, data_list, device):
        from gfx.data import Batch  # data containers are imported when first needed
        return Batch.from_data_list(data_list, follow_batch=self.follow_batch,
                                    exclude_keys=self.exclude_keys).to(device)

    def forward(self, data_list):
        """Run the module on a list of graphs (see the class description)."""
        if not isinstance(data_list, (list, tuple)):
            raise TypeError(f"DataParallel: 'data_list' must be a list of graphs (use a "
                            f"DataListLoader), got {type(data_list).__name__}")
        if len(data_list) == 0:
            raise ValueError("DataParallel: 'data_list' is empty; it needs at least one "
                             "graph")
        if len(self.device_ids) <= 1:
            return self.module(self._batch(data_list, self.src_device))

        for t in chain(self.module.parameters(), self.module.buffers()):
            if t.device != self.src_device:
                raise RuntimeError(f"DataParallel: module must have its parameters and "
                                   f"buffers on device {self.src_device} (device_ids[0]), "
                                   f"but found one on {t.device}")
        inputs = self.scatter(data_list, self.device_ids)
        replicas = self.replicate(self.module, self.device_ids[:len(inputs)])
        outputs = self.parallel_apply(replicas, inputs, None)
        return self.gather(outputs, self.output_device)

    def scatter(self, data_list, device_ids):
        """One batch per device, as a list of one-element argument tuples."""
        bounds = split_by_num_nodes([d.num_nodes or 0 for d in data_list],
                                    min(len(device_ids), len(data_list)))
        return [(self._batch(data_list[lo:hi], torch.device(f"cuda:{device_ids[i]}")),)
                for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))]


__all__ = ["DataParallel"]
