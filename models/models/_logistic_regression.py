"""A multinomial logistic-regression probe for embedding models' ``test()`` methods.

``DeepGraphInfomax``, ``Node2Vec`` and ``MetaPath2Vec`` evaluate embeddings by the test
accuracy of a linear classifier trained on them.  This is that classifier, in torch (no
scikit-learn): minimise

.. math::
    \\frac{1}{2}\\|\\mathbf{W}\\|_F^2 + C \\sum_i -\\log
    \\mathrm{softmax}(\\mathbf{W}\\mathbf{z}_i + \\mathbf{b})_{y_i}

(the L2-regularised objective with inverse strength :math:`C`, bias unregularised) with
L-BFGS, then report the accuracy on the test embeddings.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def logistic_regression_accuracy(train_z: Tensor, train_y: Tensor, test_z: Tensor,
                                 test_y: Tensor, C: float = 1.0, max_iter: int = 150,
                                 name: str = "test") -> float:
    """Train the probe on ``(train_z, train_y)``; its accuracy on ``(test_z, test_y)``.

    Args:
        train_z (Tensor): ``[N, d]`` training embeddings.
        train_y (Tensor): ``[N]`` integer training labels.
        test_z (Tensor): ``[M, d]`` test embeddings.
        test_y (Tensor): ``[M]`` integer test labels.
        C (float, optional): inverse regularisation strength. (default: ``1.0``)
        max_iter (int, optional): L-BFGS iterations. (default: ``150``)
        name (str, optional): the caller, for error messages. (default: ``"test"``)
    """
    for arg, z, y in (("train", train_z, train_y), ("test", test_z, test_y)):
        if z.dim() != 2 or y.dim() != 1 or z.shape[0] != y.shape[0]:
            raise ValueError(f"{name}: '{arg}_z' must be [N, d] and '{arg}_y' [N], got "
                             f"{list(z.shape)} and {list(y.shape)}")
        if y.is_floating_point():
            raise ValueError(f"{name}: '{arg}_y' must hold integer class labels")
    if train_z.shape[0] == 0 or test_z.shape[0] == 0:
        raise ValueError(f"{name}: needs at least one training and one test example")
    if C <= 0:
        raise ValueError(f"{name}: 'C' must be positive, got {C}")
    train_z = train_z.detach().double()
    classes, train_label = torch.unique(train_y.detach(), return_inverse=True)
    num_classes = max(2, classes.numel())
    weight = torch.zeros(num_classes, train_z.shape[1], dtype=torch.double, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.double, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = 0.5 * weight.pow(2).sum() + C * F.cross_entropy(
            train_z @ weight.t() + bias, train_label, reduction="sum")
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        pred = classes[(test_z.detach().double() @ weight.t() + bias)[:, :classes.numel()]
                       .argmax(dim=-1)]
    return float((pred == test_y.to(pred.device)).double().mean())


def probe_accuracy(name: str, train_z: Tensor, train_y: Tensor, test_z: Tensor,
                   test_y: Tensor, solver: str = "lbfgs", multi_class: str = "auto",
                   *args, **kwargs) -> float:
    """The ``test()`` of the embedding models: scikit-learn's ``LogisticRegression``
    arguments that this probe supports (``solver="lbfgs"``, ``multi_class`` ``"auto"`` or
    ``"multinomial"``, ``C``, ``max_iter``); any other argument is refused by name."""
    if solver != "lbfgs":
        raise ValueError(f"{name}: only solver='lbfgs' is supported, got {solver!r}")
    if multi_class not in ("auto", "multinomial"):
        raise ValueError(f"{name}: 'multi_class' must be 'auto' or 'multinomial', got "
                         f"{multi_class!r}")
    if args:
        raise ValueError(f"{name}: unsupported positional arguments {args!r}")
    unknown = sorted(set(kwargs) - {"C", "max_iter"})
    if unknown:
        raise ValueError(f"{name}: unsupported logistic-regression arguments {unknown}")
    return logistic_regression_accuracy(train_z, train_y, test_z, test_y,
                                        C=float(kwargs.get("C", 1.0)),
                                        max_iter=int(kwargs.get("max_iter", 100)), name=name)
