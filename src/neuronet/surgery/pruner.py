"""The OBD pruning schedule on the training loop (LeCun, Denker & Solla 1990), with
magnitude pruning under the same schedule as the baseline.

The lecture's procedure::

    train the net
    repeat:
        compute the saliencies S_k = ½ h_kk w_k²
        remove the ``fraction`` least salient live weights (or input features)
        retrain for ``retrain_epochs`` epochs
    until the quality becomes much worse than before pruning
        (``monitor`` worse than its value at the start by more than ``tolerance``);
    then put the last removed weights back.

:class:`OBDPruner` is a callback: the loop's epochs are the training and retraining;
after ``start_epoch`` and then every ``retrain_epochs`` epochs it checks the quality
and prunes. ``rounds`` records, per round, the live weights and every logged metric.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import asnumpy
from ..train.callbacks import Callback
from ..validation import check_choice, check_int, check_positive, check_probability
from .obd import (Removal, feature_saliency, first_dense, magnitude_saliency, prune,
                  prune_features, saliency)

__all__ = ["OBDPruner"]


class OBDPruner(Callback):
    """Prune, retrain, repeat; stop and put back the last removal when ``monitor``
    (a key of the epoch logs: ``'val_loss'``, ``'val_accuracy'``, ``'loss'``, ...) is
    worse than before the first round by more than ``tolerance``.

    ``method``: ``'obd'`` (saliency ranking on ``(X, y)``) or ``'magnitude'`` (|w|).
    ``unit``: ``'weights'`` or ``'features'`` (OBD feature selection: whole inputs of
    the first Dense layer, ranked by ``S_j = Σ_h S_jh``). ``fraction`` of the live
    weights (features) goes per round; ``biases=False`` never prunes biases.
    """

    def __init__(self, loss=None, X=None, y=None, *, method: str = "obd", unit: str = "weights",
                 fraction: float = 0.1, start_epoch: int = 1, retrain_epochs: int = 1,
                 monitor: str = "val_loss", tolerance: float = 0.0, max_rounds: int | None = None,
                 biases: bool = False, batch_size: int | None = 1000):
        self.method = check_choice(method, "method", ("obd", "magnitude"))
        self.unit = check_choice(unit, "unit", ("weights", "features"))
        if method == "obd" and (loss is None or X is None or y is None):
            raise ValueError("method='obd' needs loss, X and y to compute the saliencies")
        self.loss, self.X, self.y = loss, X, y
        self.fraction = check_probability(fraction, "fraction")
        if self.fraction == 0:
            raise ValueError("fraction must be in (0, 1), got 0")
        self.start_epoch = check_int(start_epoch, "start_epoch", minimum=1)
        self.retrain_epochs = check_int(retrain_epochs, "retrain_epochs", minimum=1)
        self.monitor = monitor
        self.tolerance = float(check_positive(tolerance, "tolerance", allow_zero=True))
        self.max_rounds = None if max_rounds is None else check_int(max_rounds, "max_rounds", minimum=1)
        self.biases, self.batch_size = bool(biases), batch_size
        self.rounds: list[dict] = []
        self.baseline, self.last, self.put_back = None, None, False

    # ------------------------------------------------------------ the schedule
    def _worse(self, value) -> bool:
        if "acc" in self.monitor:
            return value < self.baseline - self.tolerance
        return value > self.baseline + self.tolerance

    def on_epoch_end(self, trainer, epoch, logs):
        since = epoch - self.start_epoch
        if since < 0 or since % self.retrain_epochs or self.put_back:
            return
        if self.monitor not in logs:
            raise KeyError(f"OBDPruner monitors {self.monitor!r}, the epoch logs have {sorted(logs)}")
        model, value = trainer.model, float(logs[self.monitor])
        metrics = {k: float(v) for k, v in logs.items() if _number(v)}
        if not self.rounds:                                # round 0: the trained, unpruned net
            self.baseline = value
            self.rounds.append({"round": 0, "epoch": epoch, "removed": 0,
                                "live": model.num_parameters(), "put_back": False})
        self.rounds[-1].update(metrics)
        if len(self.rounds) > 1 and self._worse(value):
            self.last.restore()
            self.rounds[-1].update(put_back=True, live_after_put_back=model.num_parameters())
            self.put_back, trainer.stop_training = True, True
            return
        if self.max_rounds is not None and len(self.rounds) > self.max_rounds:
            trainer.stop_training = True
            return
        self.last = self._prune_round(model)
        self.rounds.append({"round": len(self.rounds), "epoch": epoch, "removed": len(self.last),
                            "live": model.num_parameters(), "put_back": False})

    def _prune_round(self, model) -> Removal:
        if self.unit == "features":
            return self._prune_features(model)
        scores = (saliency(model, self.loss, self.X, self.y, self.batch_size, self.biases)
                  if self.method == "obd" else magnitude_saliency(model, self.biases))
        live = int(sum(np.isfinite(s).sum() for s in scores))
        return prune(model, max(1, math.floor(self.fraction * live)) if live else 0, scores)

    def _prune_features(self, model) -> Removal:
        layer = first_dense(model)
        if self.method == "obd":
            s = feature_saliency(model, self.loss, self.X, self.y, batch_size=self.batch_size)
        else:
            w = np.abs(asnumpy(layer.W.data).astype(np.float64))
            s = np.where(_live_rows(layer), w.sum(axis=1), np.nan)
        live = np.flatnonzero(np.isfinite(s))
        n = max(1, math.floor(self.fraction * len(live))) if len(live) else 0
        return prune_features(model, live[np.argsort(s[live], kind="stable")[:n]])

    # -------------------------------------------------------------- resume
    def on_train_begin(self, trainer):
        self._params = trainer.model.parameters()
        pending, self._pending = getattr(self, "_pending", None), None
        if pending:
            self.last = Removal([(self._params[i], np.asarray(idx, dtype=np.int64), np.asarray(old),
                                  had) for i, idx, old, had in pending])

    def state_dict(self) -> dict:
        """Rounds, baseline and the last removal (parameter index, flat indices, old values)."""
        index = {id(p): i for i, p in enumerate(getattr(self, "_params", []))}
        last = None if self.last is None else [
            [index[id(p)], np.asarray(idx).tolist(), np.asarray(old, dtype=np.float64).tolist(), had]
            for p, idx, old, had in self.last.entries]
        return {"rounds": self.rounds, "baseline": self.baseline, "put_back": self.put_back,
                "last": last}

    def load_state_dict(self, state: dict) -> None:
        self.rounds = [dict(r) for r in state.get("rounds", [])]
        self.baseline, self.put_back = state.get("baseline"), bool(state.get("put_back", False))
        self._pending = state.get("last")


def _live_rows(layer):
    """Rows (input features) of a Dense layer's W that still have a live weight."""
    if layer.W.mask is None:
        return np.ones(layer.n_in, dtype=bool)
    return asnumpy(layer.W.mask).any(axis=1)


def _number(v) -> bool:
    return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)
