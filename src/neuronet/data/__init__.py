"""Data sets, file formats and preprocessing."""
from . import augment, download, graphs, idx, mnist, pca, preprocessing, registry, text, toy
from .graphs import *  # noqa: F401,F403
from .idx import *  # noqa: F401,F403
from .download import *  # noqa: F401,F403
from .mnist import *  # noqa: F401,F403
from .pca import *  # noqa: F401,F403
from .registry import *  # noqa: F401,F403
from .preprocessing import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403
from .toy import *  # noqa: F401,F403

__all__ = ["augment"]
for _m in (download, graphs, idx, mnist, pca, preprocessing, registry, text, toy):
    __all__ += list(_m.__all__)
del _m
