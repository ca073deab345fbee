"""Optimisers: each a lecture update rule applied to a list of Parameters."""
from . import adaptive, clip, constraints, diagonal_lm, optimizer, sgd
from .adaptive import *  # noqa: F401,F403
from .clip import *  # noqa: F401,F403
from .constraints import *  # noqa: F401,F403
from .diagonal_lm import *  # noqa: F401,F403
from .optimizer import *  # noqa: F401,F403
from .sgd import *  # noqa: F401,F403

__all__ = []
for _m in (adaptive, clip, constraints, diagonal_lm, optimizer, sgd):
    __all__ += list(_m.__all__)
del _m
