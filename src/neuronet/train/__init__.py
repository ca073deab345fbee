"""Training: the one loop, its steps, batches, callbacks, metrics."""
from . import batches, callbacks, history, loop, metrics, sequence, supervised
from .batches import *  # noqa: F401,F403
from .callbacks import *  # noqa: F401,F403
from .history import *  # noqa: F401,F403
from .loop import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .sequence import *  # noqa: F401,F403
from .supervised import *  # noqa: F401,F403

__all__ = []
for _m in (batches, callbacks, history, loop, metrics, sequence, supervised):
    __all__ += list(_m.__all__)
del _m
