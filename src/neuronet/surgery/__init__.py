"""Network surgery (MISSION C1–C5): Optimal Brain Damage, OBD feature selection,
the curvature estimate behind them and the diagonal Levenberg–Marquardt step."""
from . import curvature, obd
from .curvature import *  # noqa: F401,F403
from .obd import *  # noqa: F401,F403

__all__ = []
for _m in (curvature, obd):
    __all__ += list(_m.__all__)
del _m
