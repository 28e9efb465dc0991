"""``gfx.nn``: the layer catalogue, laid out like the reference ``nn`` package.

Porting a model is an import change (``torch_geometric.nn`` -> ``gfx.nn``): every
subpackage and per-component module has the reference's path and names
(``gfx.nn.conv.gcn_conv.GCNConv``, ``gfx.nn.models.basic_gnn.GCN``, ``gfx.nn.aggr``, ...).
The source lives in the repository's ``models/`` folder.
"""
from gfx.message_passing import MessagePassing

from . import aggr, attention, conv, dense, functional, inits, kge, models, norm, pool, unpool
from .aggr import Aggregation
from .attention import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .data_parallel import DataParallel
from .dense import *  # noqa: F401,F403
from .fx import Transformer
from .kge import *  # noqa: F401,F403
from .model_hub import PyGModelHubMixin
from .models import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .resolver import activation_resolver, aggregation_resolver, normalization_resolver
from .sequential import Sequential
from .summary import summary
from .to_hetero_transformer import to_hetero
from .to_hetero_with_bases_transformer import to_hetero_with_bases
from .unpool import *  # noqa: F401,F403

__all__ = sorted({
    "MessagePassing", "Aggregation", "Sequential", "Transformer", "to_hetero",
    "to_hetero_with_bases", "activation_resolver", "aggregation_resolver",
    "normalization_resolver", "DataParallel", "PyGModelHubMixin", "summary",
    "aggr", "attention", "conv", "dense", "functional", "inits", "kge", "models", "norm",
    "pool", "unpool",
    *attention.__all__, *conv.__all__, *dense.__all__, *kge.__all__, *models.__all__,
    *norm.__all__, *pool.__all__, *unpool.__all__,
})
