"""Training a Boltzmann machine on the one loop: its step and ``BoltzmannMachine.fit``.

One batch ``V`` of visible vectors (the loop does the rest)::

    ∇ := −(⟨s sᵀ⟩_clamped − ⟨s sᵀ⟩_free), −(⟨s⟩_clamped − ⟨s⟩_free)     into Parameter.grad
    L := ⟨E⟩_clamped − ⟨E⟩_free                                          its surrogate loss

with the statistics sampled (free phase on persistent chains) or enumerated;
an ``nt.optim`` optimiser applies ``∇`` (plain SGD is the lecture's
``Δw_ij = η(⟨s_i s_j⟩_clamped − ⟨s_i s_j⟩_free)``). The machine's generator and
persistent chains are the step's state, so a resumed run is bit-identical.
"""
from __future__ import annotations

from .. import optim
from ..backend import asnumpy, get_array_module
from ..distributed import get_communicator, rank_generator, split_count
from ..random import set_rng_state
from ..train.callbacks import Callback, ModelCheckpoint
from ..train.loop import Loop, Step
from ..validation import check_int, check_positive

__all__ = ["BoltzmannStep", "fit_boltzmann"]


class BoltzmannStep(Step):
    """The Boltzmann machine's step: clamped and free statistics, gradient, energy gap."""

    def __init__(self, bm, optimizer, method: str = "gibbs", sweeps: int = 10, n_chains: int = 100):
        if method not in ("gibbs", "exact"):
            raise ValueError(f"method must be 'gibbs' or 'exact', got {method!r}")
        self.model, self.optimizer, self.method = bm, optimizer, method
        self.sweeps = check_int(sweeps, "sweeps", minimum=1)
        self.n_chains = check_int(n_chains, "n_chains", minimum=1)

    def compute(self, batch) -> dict:
        (v,) = batch
        bm = self.model
        return {"loss": bm.accumulate_gradient(v, self.method, self.sweeps, self.n_chains, bm.rng, check=False)}

    def state_dict(self) -> dict:
        chains = self.model._chains
        return {"rng": self.model.rng.bit_generator.state, "chains": None if chains is None else asnumpy(chains)}

    def load_state_dict(self, state: dict) -> None:
        if state:
            bm = self.model
            set_rng_state(bm.rng, state["rng"])
            chains = state.get("chains")
            xp = get_array_module(bm.W.data)
            bm._chains = None if chains is None else xp.asarray(chains, dtype=bm.W.data.dtype)


class _KLMonitor(Callback):
    """Adds the exact ``KL(P_data‖P_model)`` of the training rows to each epoch's record."""

    def __init__(self, X):
        self.X = X

    def on_epoch_end(self, trainer, epoch, logs):
        logs["kl"] = trainer.model.kl_to_data(self.X)


def fit_boltzmann(bm, X, *, epochs=100, lr=None, method="gibbs", batch_size=None, sweeps=10,
                  n_chains=100, optimizer=None, progress=True, monitor_kl=None, rng=None, seed=None,
                  checkpoint=None, resume_from=None, callbacks=None, comm=None) -> dict:
    """``BoltzmannMachine.fit`` (see there) on the one loop; returns a dict of per-epoch lists."""
    X = bm._states(X, bm.n_visible, "X")
    X = X if X.ndim == 2 else X[None, :]
    if optimizer is None:
        optimizer = optim.SGD(bm.parameters(), lr=0.1 if lr is None else check_positive(lr, "lr"))
    elif lr is not None:
        raise ValueError(f"give lr to the optimizer or leave out the optimizer, not both: "
                         f"optimizer={type(optimizer).__name__} has its own (got lr={lr})")
    comm = get_communicator(comm)
    if comm.size > 1:  # one process's chains, shared out over the ranks
        n_chains = split_count(check_int(n_chains, "n_chains", minimum=comm.size), comm)
    step = BoltzmannStep(bm, optimizer, method, sweeps, n_chains)
    if rng is not None or seed is not None:
        bm.rng = rng if rng is not None else seed
    bs = len(X) if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    loop = Loop(step, epochs=epochs, batch_size=bs, rng=bm.rng, callbacks=callbacks,
                progress=progress, resume_from=resume_from, desc=f"BM ({method}) epoch", comm=comm)
    bm.rng = rank_generator(loop.rng, loop.comm)  # the order shared, each rank's own samples
    own = [_KLMonitor(X)] if (bm.n <= 16 if monitor_kl is None else monitor_kl) else []
    loop.callbacks[:0] = own + ([ModelCheckpoint(checkpoint)] if checkpoint is not None else [])
    history = loop.run(X).to_dict()
    history.setdefault("kl", [])
    bm.loop_ = loop
    return history
