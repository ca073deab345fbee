"""scikit-learn estimators over neuronet's models (``pip install neuronet[sklearn]``).

``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and ``clone`` work with them;
fitted estimators pickle, as scikit-learn's do (neuronet's own files stay
``.npz`` + JSON: ``nt.save(estimator.model_, path)``).
"""
from .autoencoder import DeepAutoencoder
from .dbn import DBNClassifier
from .dsn import DSNClassifier
from .lenet import LeNet5Classifier
from .mlp import MLPClassifier, MLPRegressor
from .rbm import RBM

__all__ = ["DBNClassifier", "DeepAutoencoder", "DSNClassifier", "LeNet5Classifier", "MLPClassifier",
           "MLPRegressor", "RBM"]
