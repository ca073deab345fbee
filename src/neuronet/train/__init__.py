"""Training: the fit loop, callbacks, metrics."""
from . import callbacks, metrics, sequence, trainer
from .callbacks import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .sequence import *  # noqa: F401,F403
from .trainer import *  # noqa: F401,F403

__all__ = []
for _m in (callbacks, metrics, sequence, trainer):
    __all__ += list(_m.__all__)
del _m
