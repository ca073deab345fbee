"""Network surgery (MISSION C1–C5): Optimal Brain Damage, OBD feature selection,
the curvature estimate behind them and the diagonal Levenberg–Marquardt step."""
from . import curvature, growth, obd, pruner
from .curvature import *  # noqa: F401,F403
from .growth import *  # noqa: F401,F403
from .obd import *  # noqa: F401,F403
from .pruner import *  # noqa: F401,F403

__all__ = []
for _m in (curvature, growth, obd, pruner):
    __all__ += list(_m.__all__)
del _m
