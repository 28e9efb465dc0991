"""GPSENodeEncoder: the concatenation written out from its formula, layouts, dropout order
and bad input."""
import pytest
import torch

from gfx.nn.models import GPSENodeEncoder


def test_mlp_layout():
    m = GPSENodeEncoder(16, 6, 4, n_layers=3)
    assert [tuple(p.shape) for p in m.pe_encoder.parameters()] == [
        (8, 6), (8,), (8, 8), (8,), (4, 8), (4,)]
    assert len(GPSENodeEncoder(16, 6, 4, n_layers=1).pe_encoder) == 2
    assert isinstance(GPSENodeEncoder(16, 6, 4, model_type="linear").pe_encoder,
                      torch.nn.Linear)
    assert GPSENodeEncoder(16, 6, 4, norm_type=None).raw_norm is None
    assert not hasattr(GPSENodeEncoder(16, 6, 4), "linear_x")


@pytest.mark.parametrize("expand_x", [False, True])
def test_formula_eval(expand_x):
    torch.manual_seed(0)
    m = GPSENodeEncoder(16, 6, 4, dim_in=10, expand_x=expand_x).double()
    x, pe = torch.randn(5, 10, dtype=torch.float64), torch.randn(5, 6, dtype=torch.float64)
    m.train()
    m(x, pe)            # one training step moves the running statistics
    m.eval()
    bn = m.raw_norm
    p = (pe - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    w1, b1, w2, b2 = [t.detach() for t in m.pe_encoder.parameters()]
    p = torch.clamp(torch.clamp(p @ w1.T + b1, min=0) @ w2.T + b2, min=0)
    h = x @ m.linear_x.weight.T + m.linear_x.bias if expand_x else x
    out = m(x, pe)
    assert out.shape == (5, 16 if expand_x else 14)
    torch.testing.assert_close(out, torch.cat([h, p], dim=1))


def test_training_uses_batch_statistics_and_dropout():
    torch.manual_seed(0)
    m = GPSENodeEncoder(16, 6, 4, dropout_be=0.0, dropout_ae=0.0, norm_type="batchnorm")
    pe = torch.randn(50, 6) * 3 + 2
    m.train()
    out = m(torch.randn(50, 12), pe)
    # in training the batch norm standardises with the batch's own statistics
    z = (pe - pe.mean(0)) / torch.sqrt(pe.var(0, unbiased=False) + 1e-5)
    z = z * m.raw_norm.weight + m.raw_norm.bias
    torch.testing.assert_close(out[:, 12:], m.pe_encoder(z))
    drop = GPSENodeEncoder(16, 6, 4, dropout_be=0.0, dropout_ae=1.0).train()
    assert (drop(torch.randn(4, 12), torch.randn(4, 6))[:, 12:] == 0).all()


def test_bad_input():
    with pytest.raises(ValueError, match="dim_pe_out"):
        GPSENodeEncoder(8, 6, 8)
    with pytest.raises(ValueError, match="norm_type"):
        GPSENodeEncoder(16, 6, 4, norm_type="layernorm")
    with pytest.raises(ValueError, match="model_type"):
        GPSENodeEncoder(16, 6, 4, model_type="gnn")
    with pytest.raises(ValueError, match="dim_in"):
        GPSENodeEncoder(16, 6, 4, expand_x=True)
    with pytest.raises(ValueError, match="pos_enc"):
        GPSENodeEncoder(16, 6, 4)(torch.randn(5, 12), torch.randn(4, 6))
