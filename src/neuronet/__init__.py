"""neuronet: classic neural networks written out by hand.

``import neuronet as nt``; see docs/architecture.md for the protocols.
"""
from . import (backend, data, distributed, energy, init, layers, models, optim, random, reproduce, surgery,
               train, viz)
from .backend import get_default_dtype, set_default_dtype, to_device
from .gradcheck import *  # noqa: F401,F403
from .io import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .input_gradient import input_gradients
from .module import Module, Parameter
from .train import *  # noqa: F401,F403

__version__ = "0.1.0"
