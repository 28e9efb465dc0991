"""``gfx.nn.conv.message_passing``: the :class:`MessagePassing` base class at the reference
API's module path (it is part of gfx's core, :mod:`gfx.message_passing`)."""
from gfx.message_passing import MessagePassing

__all__ = ["MessagePassing"]
