"""``torch.compile(model, backend="gfx")`` equals eager, forward and backward."""
import pytest
import torch

from tests.compiler.models import GCN, SAGE


@pytest.mark.slow
@pytest.mark.parametrize("factory", [SAGE, GCN])
def test_torch_compile_with_the_gfx_backend(factory):
    torch.manual_seed(0)
    model = factory().eval()
    x = torch.randn(7, 4, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 5, 5], [1, 2, 3, 4, 0, 5]])
    compiled = torch.compile(model, backend="gfx")
    out = compiled(x, edge_index)
    torch.testing.assert_close(out, model(x, edge_index))
    (grad_compiled,) = torch.autograd.grad(out.sum(), x)
    (grad_eager,) = torch.autograd.grad(model(x, edge_index).sum(), x)
    torch.testing.assert_close(grad_compiled, grad_eager)
