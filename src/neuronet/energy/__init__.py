"""Energy-based models: Hopfield, Boltzmann machines, RBMs and their samplers."""
from . import (ais, annealing, base, boltzmann, boltzmann_exact, boltzmann_step, capacity, cd, dbm,
               dbm_exact, dbn, hopfield, monitors, rbm, rbm_step, units)
from .ais import *  # noqa: F401,F403
from .annealing import (geometric_schedule, gibbs_sweep, linear_schedule, sample_bernoulli,
                        sequential_sweep, sigmoid)
from .base import *  # noqa: F401,F403
from .boltzmann import *  # noqa: F401,F403
from .boltzmann_exact import *  # noqa: F401,F403
from .boltzmann_step import *  # noqa: F401,F403
from .capacity import *  # noqa: F401,F403
from .cd import *  # noqa: F401,F403
from .dbm import *  # noqa: F401,F403
from .dbn import *  # noqa: F401,F403
from .hopfield import *  # noqa: F401,F403
from .monitors import *  # noqa: F401,F403
from .rbm import *  # noqa: F401,F403
from .rbm_step import *  # noqa: F401,F403
from .units import *  # noqa: F401,F403

__all__ = ["geometric_schedule", "gibbs_sweep", "linear_schedule", "sample_bernoulli",
           "sequential_sweep", "sigmoid"]
for _m in (ais, base, boltzmann, boltzmann_exact, boltzmann_step, capacity, cd, dbm, dbn, hopfield,
           monitors, rbm, rbm_step, units):
    __all__ += list(_m.__all__)
del _m
