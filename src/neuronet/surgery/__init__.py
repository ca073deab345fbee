"""Network surgery (MISSION C1–C5): Optimal Brain Damage and its pruning schedule, OBD
feature selection, the curvature estimate behind them (also feeding the diagonal
Levenberg–Marquardt step, ``nt.optim.DiagonalLM``), growing a hidden layer, jogging."""
from . import curvature, growth, jogging, obd, pruner, stall
from .curvature import *  # noqa: F401,F403
from .growth import *  # noqa: F401,F403
from .jogging import *  # noqa: F401,F403
from .obd import *  # noqa: F401,F403
from .pruner import *  # noqa: F401,F403
from .stall import *  # noqa: F401,F403

__all__ = []
for _m in (curvature, growth, jogging, obd, pruner, stall):
    __all__ += list(_m.__all__)
del _m
