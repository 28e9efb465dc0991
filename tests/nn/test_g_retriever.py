"""GRetriever with a tiny random language model built here (nothing downloaded)."""
import pytest
import torch

from gfx.nn import GCN, GRetriever

VOCAB = "abcdefghijklmnopqrstuvwxyz ?"


class TinyLLM(torch.nn.Module):
    """A character model with the LLM interface: the mean of the soft prompt and the
    question's character embeddings predicts the answer's characters."""

    def __init__(self, dim=8):
        super().__init__()
        self.emb = torch.nn.Embedding(len(VOCAB), dim)
        self.head = torch.nn.Linear(dim, len(VOCAB))
        self.seen = None

    def _state(self, question, context, embedding):
        self.seen = embedding
        states = []
        for b, q in enumerate(question):
            text = q + (context[b] if context else "")
            parts = [self.emb(torch.tensor([VOCAB.index(c) for c in text]))]
            if embedding is not None and embedding[b] is not None:
                parts.insert(0, embedding[b])
            states.append(torch.cat(parts).mean(0))
        return torch.stack(states)

    def forward(self, question, answer, context=None, embedding=None):
        logits = self.head(self._state(question, context, embedding))
        target = torch.tensor([VOCAB.index(a[0]) for a in answer])
        return torch.nn.functional.cross_entropy(logits, target)

    def inference(self, question, context=None, embedding=None, max_tokens=128):
        best = self.head(self._state(question, context, embedding)).argmax(-1)
        return [VOCAB[int(i)] * max_tokens for i in best]


def graphs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=g)
    edge_index = torch.tensor([[0, 1, 3], [1, 0, 4]])
    batch = torch.tensor([0, 0, 2, 2, 2])  # graph 1 is empty
    return x, edge_index, batch


def test_soft_prompts_and_loss():
    torch.manual_seed(0)
    gnn = GCN(3, 6, num_layers=2, out_channels=4)
    model = GRetriever(TinyLLM(), gnn, mlp_out_channels=8)
    x, edge_index, batch = graphs()
    loss = model(["what", "who", "why"], x, edge_index, batch, ["a", "b", "c"],
                 additional_text_context=["x", "y", "z"])
    node = gnn(x, edge_index)
    pooled = torch.stack([node[:2].mean(0), node[2:].mean(0)])
    proj = model.projector
    expected = proj[2](torch.sigmoid(proj[0](pooled)))
    seen = model.llm.seen
    torch.testing.assert_close(seen[0], expected[0:1])
    assert seen[1] is None
    torch.testing.assert_close(seen[2], expected[1:2])
    loss.backward()
    assert gnn.convs[0].lin.weight.grad is not None and proj[0].weight.grad is not None
    answers = model.inference(["what", "who", "why"], x, edge_index, batch, max_out_tokens=3)
    assert len(answers) == 3 and all(len(a) == 3 for a in answers)


def test_errors():
    gnn = GCN(3, 6, num_layers=1, out_channels=4)
    with pytest.raises(TypeError, match="inference"):
        GRetriever(torch.nn.Linear(2, 2), gnn)
    with pytest.raises(ValueError, match="out_channels"):
        GRetriever(TinyLLM(), torch.nn.Linear(3, 4))
    model = GRetriever(TinyLLM(), gnn, mlp_out_channels=8)
    x, edge_index, batch = graphs()
    with pytest.raises(ValueError, match="label"):
        model(["a", "b", "c"], x, edge_index, batch, ["a"])
    with pytest.raises(ValueError, match="batch"):
        model(["a"], x, edge_index, batch, ["a"])
    try:
        import peft  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="peft"):
            GRetriever(TinyLLM(), gnn, use_lora=True)
