"""Graph readouts by name (``cfg.model.graph_pooling``): ``add``, ``mean``, ``max``."""
from __future__ import annotations

from gfx.graphgym.register import register_pooling
from gfx.nn.pool.glob import global_add_pool, global_max_pool, global_mean_pool

register_pooling("add", global_add_pool)
register_pooling("mean", global_mean_pool)
register_pooling("max", global_max_pool)

__all__ = ["global_add_pool", "global_mean_pool", "global_max_pool"]
