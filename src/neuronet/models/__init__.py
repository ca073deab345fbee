"""Named networks built from the layers."""
from . import autoencoder, autoencoder_stack, char_lm, dsn, graph_classifier, lenet, mlp
from .autoencoder import *  # noqa: F401,F403
from .autoencoder_stack import *  # noqa: F401,F403
from .char_lm import *  # noqa: F401,F403
from .dsn import *  # noqa: F401,F403
from .graph_classifier import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .mlp import *  # noqa: F401,F403

__all__ = []
for _m in (autoencoder, autoencoder_stack, char_lm, dsn, graph_classifier, lenet, mlp):
    __all__ += list(_m.__all__)
del _m
