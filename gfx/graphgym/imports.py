"""PyTorch Lightning for GraphGym: ``lightning`` when installed, else the older
``pytorch_lightning`` package, as the reference library does.

``pl`` is the Lightning module (``None`` when neither is installed); ``LightningModule``
and ``Callback`` fall back to :class:`torch.nn.Module` and ``object`` so that GraphGym's
models can still be built and used without Lightning (only :func:`~gfx.graphgym.train`
needs it, and it says so).
"""
import warnings

import torch

try:
    import lightning.pytorch as pl
    from lightning.pytorch import Callback, LightningModule
except ImportError:
    try:
        import pytorch_lightning as pl
        from pytorch_lightning import Callback, LightningModule
    except ImportError:
        pl = None
        LightningModule = torch.nn.Module
        Callback = object
        warnings.warn("GraphGym trains with PyTorch Lightning, which is not installed; "
                      "install the extra with `pip install gfx[graphgym]` (or "
                      "`pip install lightning`)", stacklevel=2)


def require_lightning(feature: str) -> None:
    """Raise a clear error when ``feature`` needs Lightning and it is missing."""
    if pl is None:
        raise ImportError(f"{feature} needs PyTorch Lightning; install it with "
                          f"`pip install gfx[graphgym]` or `pip install lightning`")


__all__ = ["pl", "LightningModule", "Callback", "require_lightning"]
