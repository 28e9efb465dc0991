"""``gfx.graphgym``: the GraphGym experiment manager, re-exported from
:mod:`gfx.models.graphgym` (where its submodules live).

Names that need PyTorch Lightning (``train``, ``create_model``, ...) are imported on first
access, as in :mod:`gfx.models.graphgym`.
"""
import gfx.models.graphgym as _graphgym

__all__ = list(_graphgym.__all__)
globals().update({name: getattr(_graphgym, name) for name in __all__
                  if name not in _graphgym._LIGHTNING})


def __getattr__(name):
    return getattr(_graphgym, name)
