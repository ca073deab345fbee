"""The up-down algorithm (contrastive wake-sleep; Hinton, Osindero & Teh 2006,
appendix B): fine-tuning of a generative DBN with labels, as a step of the one
training loop.

Below the top RBM the recognition weights ``R_l, r_l`` (the RBMs' ``W, b``, used
going up) are untied from the generative weights ``G_l, g_l`` (``dbn.generative``,
started at ``W_lᵀ, a_l``, used going down). Per mini-batch ``(x, y)``:

* wake (up): ``h_0 = x``, ``h_{l+1} ~ σ(h_l R_l + r_l)`` (sampled states);
* top: CD-k of the top RBM from ``[h_{L−1}, e_y]`` with sampled visible states;
  the chain ends at ``[h̃_{L−1}, ỹ]``;
* sleep (down): ``h̃_l ~ σ(h̃_{l+1} G_l + g_l)``; ``h̃_0`` is the probabilities;
* the delta rule, each half learning to predict the other half's states::

      ∂Q/∂G_l = −h_{l+1}ᵀ (h_l − σ(h_{l+1} G_l + g_l)) / N        (on wake states)
      ∂Q/∂R_l = −h̃_lᵀ (h̃_{l+1} − σ(h̃_l R_l + r_l)) / N           (on sleep states)

  (biases: the column sums), plus the top RBM's CD-k gradient.

The loss the loop reports is the wake phase's reconstruction error of the data,
``(1/N) Σ_n ‖x_n − σ(h_1 G_0 + g_0)‖²``.
"""
from __future__ import annotations

import numpy as np

from .. import validation as V
from ..backend import get_array_module, step_scalar
from ..distributed import rank_generator
from ..random import make_rng, set_rng_state
from ..train.loop import Loop, Step

__all__ = ["UpDownStep", "fit_updown"]


class UpDownStep(Step):
    """One up-down update of ``dbn`` per batch ``(x, y)`` (see the module)."""

    def __init__(self, dbn, optimizer, k: int = 10, weight_decay: float = 0.0, rng=None):
        self.model, self.optimizer = dbn, optimizer
        self.k = V.check_int(k, "k", minimum=1)
        self.weight_decay = V.check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.rng = dbn._rng if rng is None else rng

    @staticmethod
    def parameters(dbn) -> list:
        """What the up-down algorithm trains: recognition ``W, b`` and generative
        ``G, g`` below the top, and the whole top RBM."""
        return ([p for r in dbn.rbms[:-1] for p in (r.W, r.b)]
                + [p for g in dbn.generative for p in g.parameters()] + dbn.rbms[-1].parameters())

    def _delta(self, w, b, inputs, targets, mean):
        """Add ``−inputsᵀ(targets − mean(inputs w + b))/N`` into ``w.grad`` (and ``b.grad``)."""
        d = targets - mean(inputs @ w.data + b.data)
        n = len(inputs)
        w.grad -= inputs.T @ d / n
        b.grad -= d.sum(axis=0) / n
        return d

    def compute(self, batch) -> dict:
        x, y = batch
        dbn, rng = self.model, self.rng
        rbms, gens, K = dbn.rbms, dbn.generative, dbn.n_labels
        wake = [x]
        for r in rbms[:-1]:
            wake.append(r.hidden.sample(r.hidden.mean(r.hidden_input(wake[-1])), rng))
        xp = get_array_module(x)
        onehot = xp.eye(K, dtype=x.dtype)[xp.asarray(y).astype(np.int64)]
        top = rbms[-1]
        top.gradient(xp.concatenate([wake[-1], onehot], axis=1), k=self.k, sample_visible=True,
                     weight_decay=self.weight_decay, rng=rng, check=False)
        sleep = [top.negative_samples_[:, :-K].copy()]
        for layer in range(len(gens) - 1, -1, -1):
            mean = rbms[layer].visible.mean(sleep[0] @ gens[layer].W.data + gens[layer].b.data)
            sleep.insert(0, mean if layer == 0 else rbms[layer].visible.sample(mean, rng))
        recon = None
        for layer, (r, g) in enumerate(zip(rbms[:-1], gens)):
            d = self._delta(g.W, g.b, wake[layer + 1], wake[layer], r.visible.mean)
            if layer == 0:
                recon = step_scalar((d * d).sum() / len(x))
            self._delta(r.W, r.b, sleep[layer], sleep[layer + 1], r.hidden.mean)
        return {"loss": recon}

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}  # each rank's own stream under comm

    def load_state_dict(self, state: dict) -> None:
        if state:
            set_rng_state(self.rng, state["rng"])

    def evaluate(self, data) -> dict:
        X, y = data
        pred = self.model.predict(X)
        return {"error": float((pred != get_array_module(pred).asarray(y)).mean())}


def fit_updown(dbn, X, y, epochs: int = 10, batch_size: int = 100, k: int = 10, lr: float = 0.01,
               optimizer=None, weight_decay: float = 0.0, validation=None, seed=None, callbacks=None,
               progress: bool = False, resume_from=None, comm=None):
    """Up-down fine-tuning of a pretrained ``dbn`` with labels on ``(X, y)`` on the one
    loop (``optimizer`` defaults to ``SGD(lr)`` over :meth:`UpDownStep.parameters`).
    ``validation=(Xv, yv)`` records ``val_error`` (classification by free energy).
    ``comm``: data-parallel as ``RBM.fit`` (every rank sampling its own stream).
    Returns the loop's History."""
    from ..optim import SGD

    if not dbn.n_labels or len(dbn.rbms) < 2:
        raise ValueError("the up-down algorithm needs a DBN of at least two RBMs with label units "
                         f"(n_labels > 0); this one has sizes {dbn.sizes} and n_labels={dbn.n_labels}")
    X = dbn._check_X(X)
    y = get_array_module(X).asarray(dbn._check_labels(y, len(X)))  # the loop gathers both on one device
    optimizer = optimizer or SGD(UpDownStep.parameters(dbn), lr=lr)
    if seed is not None:  # the DBN's generator: checkpoints save it, so a resume is exact
        dbn._rng = make_rng(seed=seed + 1)
    step = UpDownStep(dbn, optimizer, k=k, weight_decay=weight_decay)
    loop = Loop(step, epochs=epochs, batch_size=batch_size, seed=seed, callbacks=callbacks,
                progress=progress, validation=validation, resume_from=resume_from, desc="up-down epoch",
                comm=comm)
    if loop.comm.size > 1:
        step.rng = rank_generator(loop.rng, loop.comm)
    return loop.run(X, y)
