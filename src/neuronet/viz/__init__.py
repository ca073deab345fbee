"""Pictures (matplotlib, optional extra ``neuronet[viz]``); imported lazily by each function."""
from . import curves, hopfield, images, reconstructions, surgery
from .curves import *  # noqa: F401,F403
from .hopfield import *  # noqa: F401,F403
from .images import *  # noqa: F401,F403
from .reconstructions import *  # noqa: F401,F403
from .surgery import *  # noqa: F401,F403

__all__ = []
for _m in (curves, hopfield, images, reconstructions, surgery):
    __all__ += list(_m.__all__)
del _m
