"""What a training run records, and how it stops when the loss diverges."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History", "TrainingDiverged"]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; ``epoch`` and ``batch`` say where (1-based).

    The loop raises it before the optimiser's step, so the weights are those of
    the last good step, and no callback saves them as a checkpoint.
    """

    def __init__(self, epoch: int, batch: int, loss: float, lr=None):
        self.epoch, self.batch, self.loss = epoch, batch, loss
        lr_txt = f" (learning rate {lr:g})" if isinstance(lr, (int, float)) else ""
        super().__init__(f"training diverged: loss is {loss} at epoch {epoch}, batch {batch}"
                         f"{lr_txt}; weights of this step were not applied, the last checkpoint "
                         "is intact. Lower the learning rate or clip the gradients.")


@dataclass
class History:
    """Per-epoch records: ``epoch``, the step's metrics averaged over the epoch
    (``loss`` = mean training loss), ``q`` (running Q at the end of the epoch),
    ``val_<metric>``, ``lr``, ``time`` (s).

    ``history["val_accuracy"]`` gives one column as a list; ``q_trace`` holds the
    running ``Q`` after every batch when the loop runs with ``record_q=True``.
    """
    records: list = field(default_factory=list)
    q_trace: list = field(default_factory=list)

    def __getitem__(self, key):
        if not any(key in r for r in self.records):
            raise KeyError(f"no {key!r} in history; keys: {self.keys()}")
        return [r.get(key) for r in self.records]

    def __contains__(self, key) -> bool:
        return any(key in r for r in self.records)

    def keys(self):
        out = []
        for r in self.records:
            out += [k for k in r if k not in out]
        return out

    def __len__(self):
        return len(self.records)

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}

    def to_dict(self) -> dict:
        return {k: self[k] for k in self.keys()}
