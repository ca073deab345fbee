"""The Elman recurrent layer (MISSION D5): forward, BPTT and the curvature pass."""
from __future__ import annotations

from ..backend import get_array_module
from .recurrent_base import _Recurrent

__all__ = ["RNN"]


class RNN(_Recurrent):
    """Elman recurrent layer: ``h_t = φ(x_t·Wx + h_{t-1}·Wh + b)``, ``φ`` = tanh or ReLU.

    ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``; the same function as ``torch.nn.RNN``
    with ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``, ``bias_ih_l0 + bias_hh_l0 = b``.

    BPTT: ``δ_t = (∂E/∂h_t + δ_{t+1}·Whᵀ) ⊙ φ'(a_t)``; ``∂E/∂Wh = Σ_t h_{t-1}ᵀ δ_t``,
    ``∂E/∂Wx = Σ_t x_tᵀ δ_t``, ``∂E/∂h_0 = δ_1·Whᵀ``.

    Curvature (diagonal Gauss–Newton, the same sweep with squares):
    ``d2a_t = (∂²E/∂h_t² + d2a_{t+1}·(Wh²)ᵀ) ⊙ φ'(a_t)²``; ``∂²E/∂Wh² = Σ_t (h_{t-1}²)ᵀ d2a_t``,
    ``∂²E/∂Wx² = Σ_t (x_t²)ᵀ d2a_t``, ``∂²E/∂x_t² = d2a_t·(Wx²)ᵀ``.
    """

    def __init__(self, n_in: int, n_hidden: int, activation: str = "tanh", stateful: bool = False,
                 init: str = "glorot", rng=None, seed=None, dtype=None, input_grad: bool = True):
        if activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
        self.activation = activation
        self._build(n_in, n_hidden, stateful, init, rng, seed, dtype, input_grad)

    def forward(self, x, h0=None):
        """All hidden states ``(T, N, H)`` of the sequence ``x (T, N, D)`` from ``h0 (N, H)``."""
        x, T, N = self._check_input(x)
        xp = get_array_module(x)
        hs = xp.empty((T + 1, N, self.n_hidden), dtype=x.dtype)
        hs[0] = self._initial(h0, "h", N)
        A = self._project(x, "A")
        Wh = self.Wh.data
        for t in range(T):
            h = hs[t + 1]
            xp.matmul(hs[t], Wh, out=h)
            h += A[t]
            if self.activation == "tanh":
                xp.tanh(h, out=h)
            else:
                xp.maximum(h, 0, out=h)
        self._x, self._hs = x, hs
        self._keep(h=hs[T])
        return hs[1:]

    def backward(self, dy):
        dy = self._check_dy(dy)
        xp = get_array_module(dy)
        hs = self._hs
        T, N, H = dy.shape
        dphi = self._dphi()
        dA = self._buffer("dA", dy.shape, dy.dtype)
        WhT = self.Wh.data.T
        dh = xp.zeros((N, H), dtype=dy.dtype)
        for t in range(T - 1, -1, -1):
            dh += dy[t]
            xp.multiply(dh, dphi[t], out=dA[t])
            xp.matmul(dA[t], WhT, out=dh)
        self.dh0 = dh
        return self._param_grads(dA, hs[:-1])

    def _dphi(self):
        """``φ'(a_t)`` for all steps at once, from the outputs: tanh' = 1 − h², relu' = [h > 0]."""
        h = self._hs[1:]
        return 1 - h * h if self.activation == "tanh" else (h > 0).astype(h.dtype)

    def backward_curvature(self, d2y):
        d2y = self._check_dy(d2y, "backward_curvature")
        xp = get_array_module(d2y)
        T, N, H = d2y.shape
        dphi2 = xp.square(self._dphi())
        d2A = xp.empty_like(d2y)
        Wh2T = xp.square(self.Wh.data).T
        d2h = xp.zeros((N, H), dtype=d2y.dtype)
        for t in range(T - 1, -1, -1):
            d2h += d2y[t]
            xp.multiply(d2h, dphi2[t], out=d2A[t])
            d2h = d2A[t] @ Wh2T
        self.d2h0 = d2h
        return self._param_curv(d2A, self._hs[:-1])
