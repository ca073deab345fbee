"""The gated recurrent unit (MISSION D6): forward, BPTT and the curvature pass."""
from __future__ import annotations

from ..backend import get_array_module
from .recurrent_base import _Recurrent

__all__ = ["GRU"]


class GRU(_Recurrent):
    """Gated recurrent unit, the lecture's equations exactly (with biases)::

        z_t = σ(W_z·[h_{t-1}, x_t] + b_z)            update gate
        r_t = σ(W_r·[h_{t-1}, x_t] + b_r)            reset gate
        h̃_t = tanh(W_h·[r_t ⊙ h_{t-1}, x_t] + b_h)
        h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

    stored as ``Wx (D, 3H)``, ``Wh (H, 3H)``, ``b (3H,)`` with blocks ``z, r, h̃``.
    Each step needs two GEMMs: ``h_{t-1}·Wh[:, :2H]`` for the gates, then
    ``(r ⊙ h_{t-1})·Wh[:, 2H:]`` for the candidate.

    How PyTorch's ``torch.nn.GRU`` differs (so weights are *not* interchangeable):
    (1) it resets *after* the recurrent product, ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``,
    so one ``(N, H)×(H, 3H)`` GEMM per step serves all three blocks (same FLOPs as our
    two, one call fewer), but it is a different function; (2) its update gate
    multiplies the *old* state, ``h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}`` (our ``z`` is its
    ``1 − z``); (3) gate order is ``r, z, n`` and it has two bias vectors. The tests
    check this layer against the lecture's equations written with torch operations.

    BPTT with ``dh`` the gradient reaching ``h_t``::

        δz = dh ⊙ (h̃ − h_{t-1}) ⊙ z(1−z),   δh̃ = dh ⊙ z ⊙ (1 − h̃²)
        d(r⊙h) = δh̃·W_hhᵀ,   δr = d(r⊙h) ⊙ h_{t-1} ⊙ r(1−r)
        dh_{t-1} = dh ⊙ (1−z) + d(r⊙h) ⊙ r + [δz, δr]·W_zrᵀ

    The curvature pass (diagonal Gauss–Newton) is the same sweep with squares::

        d2z = d2h ⊙ ((h̃ − h_{t-1}) z(1−z))²,   d2h̃ = d2h ⊙ (z(1 − h̃²))²
        d2(r⊙h) = d2h̃·(W_hh²)ᵀ,   d2r = d2(r⊙h) ⊙ (h_{t-1} r(1−r))²
        d2h_{t-1} = d2h ⊙ (1−z)² + d2(r⊙h) ⊙ r² + [d2z, d2r]·(W_zr²)ᵀ
    """

    _n_gates = 3

    def __init__(self, n_in: int, n_hidden: int, stateful: bool = False, init: str = "glorot",
                 rng=None, seed=None, dtype=None, input_grad: bool = True):
        self._build(n_in, n_hidden, stateful, init, rng, seed, dtype, input_grad)

    def forward(self, x, h0=None):
        """All hidden states ``(T, N, H)`` of the sequence ``x (T, N, D)`` from ``h0 (N, H)``."""
        x, T, N = self._check_input(x)
        xp = get_array_module(x)
        H, dt = self.n_hidden, x.dtype
        hs = xp.empty((T + 1, N, H), dtype=dt)
        hs[0] = self._initial(h0, "h", N)
        RH = self._buffer("RH", (T, N, H), dt)      # r_t ⊙ h_{t-1}, kept for ∂E/∂W_hh
        # σ(a) = ½·tanh(a/2) + ½ with the z, r columns halved (exact); the gates and the
        # candidate are kept in two contiguous arrays so every step works on whole rows
        half = xp.asarray(0.5, dtype=dt)
        Gzr = self._project(x, "Gzr", half, slice(0, 2 * H))
        Gn = self._project(x, "Gn", None, slice(2 * H, 3 * H))
        W_zr, W_hh = self.Wh.data[:, :2 * H] * half, self.Wh.data[:, 2 * H:]
        tmp2 = xp.empty((N, 2 * H), dtype=dt)
        tmp1 = xp.empty((N, H), dtype=dt)
        for t in range(T):
            zr, n, h_prev, h = Gzr[t], Gn[t], hs[t], hs[t + 1]
            xp.matmul(h_prev, W_zr, out=tmp2)
            zr += tmp2
            xp.tanh(zr, out=zr)
            zr *= 0.5
            zr += 0.5
            xp.multiply(zr[:, H:], h_prev, out=RH[t])
            xp.matmul(RH[t], W_hh, out=tmp1)
            n += tmp1
            xp.tanh(n, out=n)
            # h_t = h_{t-1} + z ⊙ (h̃ − h_{t-1})
            xp.subtract(n, h_prev, out=h)
            h *= zr[:, :H]
            h += h_prev
        self._x, self._hs, self._Gzr, self._Gn, self._RH = x, hs, Gzr, Gn, RH
        self._keep(h=hs[T])
        return hs[1:]

    def backward(self, dy):
        dy = self._check_dy(dy)
        xp = get_array_module(dy)
        T, N, H = dy.shape
        dt = dy.dtype
        Gzr, Gn, hs = self._Gzr, self._Gn, self._hs
        dAzr = self._buffer("dAzr", (T, N, 2 * H), dt)
        dAn = self._buffer("dAn", (T, N, H), dt)
        W_zrT = xp.ascontiguousarray(self.Wh.data[:, :2 * H].T)
        W_hhT = xp.ascontiguousarray(self.Wh.data[:, 2 * H:].T)
        dh = xp.zeros((N, H), dtype=dt)
        drh = xp.empty((N, H), dtype=dt)
        S = xp.empty((N, 2 * H), dtype=dt)           # σ'(z), σ'(r)
        tmp = xp.empty((N, H), dtype=dt)
        Sz, Sr = S[:, :H], S[:, H:]
        for t in range(T - 1, -1, -1):
            zr, n, h_prev = Gzr[t], Gn[t], hs[t]
            z, r = zr[:, :H], zr[:, H:]
            dh += dy[t]
            xp.subtract(1, zr, out=S)
            S *= zr
            # δz = dh ⊙ (h̃ − h_{t-1}) ⊙ σ'(z)
            xp.subtract(n, h_prev, out=tmp)
            tmp *= dh
            xp.multiply(tmp, Sz, out=dAzr[t, :, :H])
            # δh̃ = dh ⊙ z ⊙ (1 − h̃²)
            xp.multiply(n, n, out=tmp)
            xp.subtract(1, tmp, out=tmp)
            tmp *= z
            xp.multiply(tmp, dh, out=dAn[t])
            # d(r⊙h) = δh̃·W_hhᵀ;  δr = d(r⊙h) ⊙ h_{t-1} ⊙ σ'(r)
            xp.matmul(dAn[t], W_hhT, out=drh)
            xp.multiply(drh, h_prev, out=tmp)
            xp.multiply(tmp, Sr, out=dAzr[t, :, H:])
            # dh_{t-1} = dh ⊙ (1 − z) + d(r⊙h) ⊙ r + [δz, δr]·W_zrᵀ
            xp.multiply(dh, z, out=tmp)
            dh -= tmp
            xp.multiply(drh, r, out=tmp)
            dh += tmp
            xp.matmul(dAzr[t], W_zrT, out=tmp)
            dh += tmp
        self.dh0 = dh
        dx = self._param_grads(dAzr, hs[:-1], slice(0, 2 * H))
        dxn = self._param_grads(dAn, self._RH, slice(2 * H, 3 * H))
        return None if dx is None else dx + dxn

    def backward_curvature(self, d2y):
        d2y = self._check_dy(d2y, "backward_curvature")
        xp = get_array_module(d2y)
        T, N, H = d2y.shape
        Gzr, Gn, hs = self._Gzr, self._Gn, self._hs
        d2Azr = xp.empty((T, N, 2 * H), dtype=d2y.dtype)
        d2An = xp.empty((T, N, H), dtype=d2y.dtype)
        W_zr2T = xp.square(self.Wh.data[:, :2 * H]).T
        W_hh2T = xp.square(self.Wh.data[:, 2 * H:]).T
        d2h = xp.zeros((N, H), dtype=d2y.dtype)
        for t in range(T - 1, -1, -1):
            z, r, n, h_prev = Gzr[t][:, :H], Gzr[t][:, H:], Gn[t], hs[t]
            d2h = d2h + d2y[t]
            d2Azr[t, :, :H] = d2h * xp.square((n - h_prev) * z * (1 - z))
            d2An[t] = d2h * xp.square(z * (1 - n * n))
            d2rh = d2An[t] @ W_hh2T
            d2Azr[t, :, H:] = d2rh * xp.square(h_prev * r * (1 - r))
            d2h = d2h * xp.square(1 - z) + d2rh * r * r + d2Azr[t] @ W_zr2T
        self.d2h0 = d2h
        d2x = self._param_curv(d2Azr, hs[:-1], slice(0, 2 * H))
        d2xn = self._param_curv(d2An, self._RH, slice(2 * H, 3 * H))
        return None if d2x is None else d2x + d2xn
