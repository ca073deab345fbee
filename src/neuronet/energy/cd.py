"""Contrastive divergence: the CD-k and PCD-k estimate of an RBM's likelihood gradient.

The gradient of the negative mean log-likelihood of a batch ``v⁺`` (N rows) is::

    ∂(−log P)/∂W = −(M[v hᵀ]_data − M[v hᵀ]_model)

(likewise ``a`` with ``v``, ``b`` with ``h``). The data term uses ``E[h | v⁺]``;
the model term is estimated from negative particles ``v⁻`` (C rows):

* CD-k (Hinton 2002): ``k`` block Gibbs steps ``v → h ~ P(h|v) → v ~ P(v|h)``
  started at the data (C = N);
* PCD-k (Tieleman 2008): ``k`` steps continuing persistent chains that are
  kept between updates (the RBM's ``persistent_chains``, their hidden states).

The estimate is exactly the gradient of the energy gap between the data and
the negative particles, each with its hidden statistics ``h`` held fixed::

    L = M[E(v⁺, h⁺)] − M[E(v⁻, h⁻)],   ∂L/∂W = −(M[v⁺h⁺ᵀ] − M[v⁻h⁻ᵀ])

which is the ``loss`` the estimate reports (it costs one pass over the hidden
statistics; the free-energy gap would need a transcendental per hidden unit).
It is written into ``Parameter.grad`` so any ``nt.optim`` optimiser applies it;
the weight cost is the optimiser's ``weight_decay``/``l1``.
"""
from __future__ import annotations

from .. import validation as V
from ..backend import get_array_module, step_scalar
from .units import Units

__all__ = ["ContrastiveDivergence"]


class ContrastiveDivergence:
    """The CD-k (``persistent=False``) or PCD-k sampler of an RBM's negative phase.

    ``sample_visible``: sampled instead of mean visible states in CD's negative
    phase (the practical guide advises the mean; PCD always samples them, since
    its chain must stay a Markov chain). ``sample_hidden_reconstruction``:
    sampled hidden states of the reconstruction (advised: the means ``E[h|v_k]``).
    ``n_chains``: PCD chains (default: the batch size of the first update).
    """

    def __init__(self, k: int = 1, persistent: bool = False, n_chains=None,
                 sample_visible: bool = False, sample_hidden_reconstruction: bool = False):
        self.k = V.check_int(k, "k", minimum=1)
        self.persistent = bool(persistent)
        self.n_chains = None if n_chains is None else V.check_int(n_chains, "n_chains", minimum=1)
        self.sample_visible = bool(sample_visible)
        self.sample_hidden_reconstruction = bool(sample_hidden_reconstruction)

    def __call__(self, rbm, v, rng, add: bool = False) -> dict:
        """Write (``add=False``) or add the estimate into ``rbm``'s ``p.grad``.

        ``v``: checked data rows of the RBM's dtype. Returns ``{"loss": L}`` and,
        for CD, ``"cd_recon_error"`` (``‖v⁺ − E[v|h₁]‖²`` per row, first step).
        """
        buf, metrics = self.statistics(rbm, v, rng)
        metrics["loss"] = write_gradient(rbm, buf, add)
        return metrics

    # ------------------------------------------------------------ phases
    def statistics(self, rbm, v0, rng):
        """Fill the buffers ``V``, ``H``: rows ``:N`` the data and ``E[h | data]``,
        rows ``N:`` the negative particles and their hidden statistics; ``X`` their
        hidden inputs. Returns the buffers and, for CD, ``{"cd_recon_error": ...}``."""
        N = v0.shape[0]
        if self.persistent:
            C = self.n_chains or N
            if rbm.persistent_chains is None or len(rbm.persistent_chains) != C:
                rbm.persistent_chains = start_chains(rbm, C, rng)
        else:
            C = N
        buf = buffers(rbm, N, C)
        buf["V"][:N] = v0
        vpos = buf["V"][:N]
        if self.persistent:
            # the chains' visible half-step does not depend on the data, so the data's and
            # the chains' hidden inputs come from ONE GEMM over the stacked [v⁺; v⁻]
            visible_step(rbm, rbm.persistent_chains, buf["V"][N:], buf["VT"], rng, True)
            _hidden_statistics(rbm, buf["V"], buf["H"], buf["X"])
            first = 1
        else:
            _hidden_statistics(rbm, vpos, buf["H"][:N], buf["X"][:N])
            first = 0
        recon = None
        for step in range(first, self.k):
            r = self._gibbs_step(rbm, buf, N, step, rng)
            recon = r if r is not None else recon
        self._finish(rbm, buf, N, rng)
        return buf, ({} if recon is None else {"cd_recon_error": recon})

    def _gibbs_step(self, rbm, buf, N, step, rng):
        """One step ``h ~ P(h|·) → v⁻ → E[h|v⁻]`` of the negative particles; returns
        the reconstruction error on CD's first step (else None)."""
        vpos, hpos = buf["V"][:N], buf["H"][:N]
        vneg, hneg = buf["V"][N:], buf["H"][N:]
        sample_v = self.sample_visible or self.persistent
        h = rbm.hidden.sample(hneg if step else hpos, rng, out=buf["Hs"])
        recon = None
        if step == 0:  # CD's reconstruction error, from the mean of the first step
            visible_step(rbm, h, vneg, buf["VT"], rng, False)
            d = buf["D"]
            xp = get_array_module(d)
            xp.subtract(vpos, vneg, out=d)
            flat = d.ravel()
            recon = step_scalar(xp.dot(flat, flat)) / N
            if sample_v:
                rbm.visible.sample(vneg, rng, out=vneg)
        else:
            visible_step(rbm, h, vneg, buf["VT"], rng, sample_v)
        _hidden_statistics(rbm, vneg, hneg, buf["X"][N:])
        return recon

    def _finish(self, rbm, buf, N, rng):
        hneg = buf["H"][N:]
        if self.persistent:
            rbm.hidden.sample(hneg, rng, out=rbm.persistent_chains)
        if self.sample_hidden_reconstruction:
            rbm.hidden.sample(hneg, rng, out=hneg)
        rbm.negative_samples_ = buf["V"][N:]  # the model's side of the last update (a view)


def _hidden_statistics(rbm, v, out, x):
    """``x := b + vᵀW`` (kept for the energy) and ``out := E[h | v]``."""
    get_array_module(x).matmul(v, rbm.W.data, out=x)
    x += rbm.b.data
    rbm.hidden.mean(x, out=out)


def visible_step(rbm, h, out, vt, rng, sample):
    """``out := E[v | h]`` (or a sample of it) for rows ``h``, without allocation.

    ``W h`` is formed as ``(W hᵀ)ᵀ`` in ``vt (n, C)``: BLAS streams ``W`` in its
    own row order, markedly faster than ``h Wᵀ`` for small batches.
    """
    get_array_module(vt).matmul(rbm.W.data, h.T, out=vt)
    out[...] = vt.T
    out += rbm.a.data
    rbm.visible.mean(out, out=out)
    if sample:
        rbm.visible.sample(out, rng, out=out)
    return out


def start_chains(rbm, n, rng):
    """Hidden states of ``n`` new PCD chains: ``h ~ P(h | v)``, ``v`` drawn from the visible biases."""
    xp = get_array_module(rbm.a.data)
    base = xp.array(xp.broadcast_to(rbm.a.data, (n, rbm.n_visible)))
    v = rbm.visible.sample(rbm.visible.mean(base), rng)
    return rbm.hidden.sample(rbm.hidden.mean(rbm.hidden_input(v)), rng)


def buffers(rbm, n_pos: int, n_neg: int) -> dict:
    """Preallocated arrays (kept on the RBM) for ``n_pos`` data rows and ``n_neg`` particles,
    of the parameters' dtype and array type (a model moved or cast gets new ones)."""
    key = (n_pos, n_neg, rbm.dtype, type(rbm.W.data))
    buf = rbm._buffers.get(key)
    if buf is None:
        dt, nv, nh, rows = rbm.dtype, rbm.n_visible, rbm.n_hidden, n_pos + n_neg
        xp = get_array_module(rbm.W.data)
        s = xp.concatenate([xp.full(n_pos, -1.0 / n_pos), xp.full(n_neg, 1.0 / n_neg)]).astype(dt)
        buf = {"V": xp.empty((rows, nv), dt), "H": xp.empty((rows, nh), dt),
               "X": xp.empty((rows, nh), dt),
               "Hs": xp.empty((n_neg, nh), dt), "VT": xp.empty((nv, n_neg), dt),
               "D": xp.empty((n_pos, nv), dt), "s": s}
        if len(rbm._buffers) > 8:  # many batch sizes: keep memory bounded
            rbm._buffers.clear()
        rbm._buffers[key] = buf
    return buf


def write_gradient(rbm, buf, add: bool) -> float:
    """``grad = −(M[v hᵀ]_data − M[v hᵀ]_model)`` (and the biases) from the buffers; returns
    the energy gap ``L = M[E(v⁺, h⁺)] − M[E(v⁻, h⁻)]`` whose gradient that is.

    One GEMM: with ``s = (−1/N, …, −1/N, 1/C, …, 1/C)``,
    ``∂/∂W = Vᵀ diag(s) H``, ``∂/∂a = sᵀV``, ``∂/∂b = sᵀH``. With
    ``E(v, h) = β_v(v) + β_h(h) − vᵀa − xᵀh`` (``x = b + vᵀW``: ``xᵀh = hᵀb + vᵀWh``),
    ``L = −sᵀE = −sᵀβ + (sᵀV)·a + Σ x ∘ diag(s)H``: two dot products beside the GEMM.
    """
    Vb, Hb, s = buf["V"], buf["H"], buf["s"]
    W, a, b = rbm.W, rbm.a, rbm.b
    xp = get_array_module(Vb)
    beta = 0.0
    for units, S in ((rbm.visible, Vb), (rbm.hidden, Hb)):
        if type(units).base_energy is not Units.base_energy:  # β ≡ 0 for Bernoulli, softmax
            beta += step_scalar(s @ units.base_energy(S))
    if add:
        sV = s @ Vb
        a.grad += sV
        b.grad += s @ Hb
        Hb *= s[:, None]
        W.grad += Vb.T @ Hb
    else:
        sV = xp.matmul(s, Vb, out=a.grad)
        xp.matmul(s, Hb, out=b.grad)
        Hb *= s[:, None]
        xp.matmul(Vb.T, Hb, out=W.grad)
    return step_scalar(sV @ a.data + xp.vdot(buf["X"], Hb) - beta)
