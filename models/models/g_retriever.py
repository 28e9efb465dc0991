"""``GRetriever``: a GNN's graph embedding as a soft prompt of a language model.

# NOTE [llm interface]
``GRetriever`` works with any ``torch.nn.Module`` ``llm`` that offers

* ``llm(question, answer, context=None, embedding=None) -> Tensor``: the training loss
  of generating ``answer[b]`` for ``question[b]``, given optional extra text
  ``context[b]`` and an optional list ``embedding[b]`` of soft-prompt vectors
  ``[k, F]`` (``None`` for a sample without one) placed before the text;
* ``llm.inference(question, context=None, embedding=None, max_tokens=...) -> List[str]``:
  the generated answers.

This is the interface of the reference library's ``LLM`` wrapper around Hugging Face
models; nothing here loads or downloads a model.
"""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

from gfx.nn.pool.glob import global_mean_pool


class GRetriever(torch.nn.Module):
    """The G-Retriever model for question answering over textual graphs.

    The graph of every sample is encoded by ``gnn`` and mean-pooled, then projected to
    the language model's embedding size:

    .. math::
        \\mathbf{g}_b = \\mathbf{W}_2\\, \\sigma\\left(\\mathbf{W}_1
        \\frac{1}{|V_b|} \\sum_{v \\in V_b} \\mathrm{GNN}(\\mathbf{X}, \\mathbf{A})_v +
        \\mathbf{b}_1\\right) + \\mathbf{b}_2

    and :math:`\\mathbf{g}_b` is handed to ``llm`` as a one-vector soft prompt (NOTE
    [llm interface]).  Samples whose graph is empty get no soft prompt.

    Args:
        llm (torch.nn.Module): the language model (NOTE [llm interface]).
        gnn (torch.nn.Module): the graph encoder, called as ``gnn(x, edge_index,
            edge_attr=edge_attr)``; it must have an ``out_channels`` attribute.
        use_lora (bool, optional): train the language model with LoRA adapters (needs
            the optional package ``peft``). (default: ``False``)
        mlp_out_channels (int, optional): size of the projected graph embedding (the
            language model's embedding size). (default: ``4096``)
    """

    def __init__(self, llm: torch.nn.Module, gnn: torch.nn.Module, use_lora: bool = False,
                 mlp_out_channels: int = 4096):
        super().__init__()
        for method in ("inference",):
            if not callable(getattr(llm, method, None)):
                raise TypeError(f"GRetriever: 'llm' must have an '{method}' method (see the "
                                f"LLM interface in gfx.nn.models.g_retriever)")
        hidden = getattr(gnn, "out_channels", None)
        if not isinstance(hidden, int) or hidden <= 0:
            raise ValueError("GRetriever: 'gnn' must have a positive int 'out_channels' "
                             "attribute (the size of its node embeddings)")
        if use_lora:
            try:
                import peft
            except ImportError as err:
                raise ImportError("GRetriever: use_lora=True needs the optional package "
                                  "'peft' (pip install peft)") from err
            config = peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, bias="none",
                                     task_type="CAUSAL_LM")
            llm = peft.get_peft_model(llm, config)
        self.llm = llm
        self.gnn = gnn
        self.use_lora = use_lora
        self.projector = torch.nn.Sequential(
            torch.nn.Linear(hidden, hidden), torch.nn.Sigmoid(),
            torch.nn.Linear(hidden, mlp_out_channels))

    def reset_parameters(self) -> None:
        if hasattr(self.gnn, "reset_parameters"):
            self.gnn.reset_parameters()
        for module in self.projector:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def encode(self, x: Tensor, edge_index: Tensor, batch: Tensor,
               edge_attr: Optional[Tensor]) -> Tensor:
        """Mean-pooled GNN embedding of every graph, ``[num_graphs, out_channels]``."""
        x = self.gnn(x, edge_index, edge_attr=edge_attr)
        return global_mean_pool(x, batch)

    def _soft_prompts(self, x, edge_index, batch, edge_attr, num_samples: int
                      ) -> List[Optional[Tensor]]:
        if batch.numel() and int(batch.max()) >= num_samples:
            raise ValueError(f"GRetriever: 'batch' names graph {int(batch.max())} but only "
                             f"{num_samples} questions were given")
        pooled = self.encode(x, edge_index, batch, edge_attr)
        prompts = self.projector(pooled)
        counts = torch.bincount(batch, minlength=num_samples)
        return [prompts[b:b + 1] if b < prompts.shape[0] and counts[b] > 0 else None
                for b in range(num_samples)]

    def forward(self, question: List[str], x: Tensor, edge_index: Tensor, batch: Tensor,
                label: List[str], edge_attr: Optional[Tensor] = None,
                additional_text_context: Optional[List[str]] = None) -> Tensor:
        """The language model's loss of answering ``question[b]`` with ``label[b]``
        given graph ``b`` of the batch."""
        if len(label) != len(question):
            raise ValueError(f"GRetriever: 'label' must have one answer per question, got "
                             f"{len(label)} for {len(question)} questions")
        prompts = self._soft_prompts(x, edge_index, batch, edge_attr, len(question))
        return self.llm(question, label, additional_text_context, prompts)

    @torch.no_grad()
    def inference(self, question: List[str], x: Tensor, edge_index: Tensor, batch: Tensor,
                  edge_attr: Optional[Tensor] = None,
                  additional_text_context: Optional[List[str]] = None,
                  max_out_tokens: Optional[int] = 32) -> List[str]:
        """Generated answers, one per question."""
        prompts = self._soft_prompts(x, edge_index, batch, edge_attr, len(question))
        return self.llm.inference(question, additional_text_context, prompts,
                                  max_tokens=max_out_tokens)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(\n  llm={type(self.llm).__name__},\n"
                f"  gnn={self.gnn},\n)")


__all__ = ["GRetriever"]
