"""`neuronet reproduce`: the lectures' published tables, one command each.

Each module of this package registers one reproduction (see registry.py);
runner.py runs one and writes its record, report.py turns the records into
docs/results.md's summary tables.
"""
from .registry import REGISTRY, Reproduction, get, names, register  # noqa: F401
from . import obd_mnist  # noqa: E402,F401
from . import obd_features  # noqa: E402,F401
from . import lenet5_sdlm  # noqa: E402,F401
from . import growth  # noqa: E402,F401
from . import dbn_mnist  # noqa: E402,F401
from . import dbn_generative  # noqa: E402,F401
from . import autoencoder_mnist  # noqa: E402,F401
from . import dsn_mnist  # noqa: E402,F401
from . import dbm_mnist  # noqa: E402,F401
from . import dbm_dropout  # noqa: E402,F401
from . import dbm_loglik  # noqa: E402,F401
from . import (char_lstm, dropout_maxnorm, hopfield_capacity, lenet5, logreg_mnist,  # noqa: F401,E402
               lstm_adding, mlp_keras, mlp_standard, mutag, rbm_digits_logreg, rbm_mnist)  # each registers itself
