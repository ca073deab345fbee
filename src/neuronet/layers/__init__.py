"""Layers: every one a Module with hand-written forward and backward."""
from . import (activations, competitive, containers, conv, dense, dropout, flatten, graph, pool,
               recurrent, sequence)
from .activations import *  # noqa: F401,F403
from .competitive import *  # noqa: F401,F403
from .containers import Concat, Sequential
from .conv import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .graph import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .sequence import *  # noqa: F401,F403

__all__ = ["Sequential", "Concat"]
for _m in (activations, competitive, conv, dense, dropout, flatten, graph, pool, recurrent, sequence):
    __all__ += list(_m.__all__)
del _m
