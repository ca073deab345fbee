"""The LSTM layer with optional peepholes (MISSION D6): forward, BPTT and the curvature pass."""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..module import Parameter
from .recurrent_base import _Recurrent

__all__ = ["LSTM"]


def _sigmoid_by_tanh(H, dt, xp):
    """``A, B`` with ``σ(a) = A·tanh(A·a) + B`` on the i, f, o blocks (A = B = ½) and
    ``tanh(a) = A·tanh(A·a) + B`` on the C̃ block (A = 1, B = 0): σ(a) = ½·tanh(a/2) + ½,
    so with the i, f, o columns of the weights halved (exact in floating point) one tanh
    over the whole contiguous gate row, then ``row·A + B``, gives all gates."""
    A = xp.full(4 * H, 0.5, dtype=dt)
    A[2 * H:3 * H] = 1
    B = A.copy()
    B[2 * H:3 * H] = 0
    return A, B


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), the lecture's equations::

        i_t = σ(W_i·[h_{t-1}, x_t] + b_i)   (+ p_i ⊙ C_{t-1} with the 'i' peephole)
        f_t = σ(W_f·[h_{t-1}, x_t] + b_f)   (+ p_f ⊙ C_{t-1} with the 'f' peephole)
        C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)
        C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
        o_t = σ(W_o·[h_{t-1}, x_t] + b_o)   (+ p_o ⊙ C_t with the 'o' peephole)
        h_t = o_t ⊙ tanh(C_t)

    ``W·[h, x]`` is stored split as ``x·Wx + h·Wh``: ``Wx (D, 4H)``, ``Wh (H, 4H)``,
    ``b (4H,)`` with the gate blocks in PyTorch's order ``i, f, C̃ (g), o``, so that
    ``torch.nn.LSTM`` has ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``,
    ``bias_ih_l0 + bias_hh_l0 = b``. ``peepholes`` names any of ``'i', 'f', 'o'``
    (the lecture's "keyhole" variant, Gers & Schmidhuber 2000): diagonal weights
    ``p_i, p_f, p_o (H,)``, zero at the start; ``i`` and ``f`` look at ``C_{t-1}``,
    ``o`` at ``C_t``. ``forget_bias`` is added to ``b_f`` at initialisation (1 keeps
    the memory open early in training).

    BPTT carries ``∂E/∂h`` and ``∂E/∂C`` backwards::

        δo = dh ⊙ tanh C_t ⊙ o(1−o)
        dC = dC_next + dh ⊙ o ⊙ (1 − tanh² C_t) + δo ⊙ p_o
        δi = dC ⊙ C̃ ⊙ i(1−i),  δf = dC ⊙ C_{t-1} ⊙ f(1−f),  δg = dC ⊙ i ⊙ (1 − C̃²)
        dC_{t-1} = dC ⊙ f + δi ⊙ p_i + δf ⊙ p_f,  dh_{t-1} = δ·Whᵀ

    The curvature pass (diagonal Gauss–Newton) is the same sweep with squared local
    derivatives, ``∂h/∂C = o(1 − tanh²C) (+ tanh C · o(1−o) · p_o)`` taken whole::

        d2o = d2h ⊙ (tanh C_t · o(1−o))²,   d2C = d2C_next + d2h ⊙ (∂h/∂C)²
        d2i = d2C ⊙ (C̃ · i(1−i))²,  d2f = d2C ⊙ (C_{t-1} · f(1−f))²,  d2g = d2C ⊙ (i(1 − C̃²))²
        d2C_{t-1} = d2C ⊙ f² + d2i ⊙ p_i² + d2f ⊙ p_f²,  d2h_{t-1} = d2a·(Wh²)ᵀ
    """

    _n_gates = 4
    _state_names = ("h", "c")

    def __init__(self, n_in: int, n_hidden: int, peepholes=(), forget_bias: float = 1.0,
                 stateful: bool = False, init: str = "glorot", rng=None, seed=None, dtype=None,
                 input_grad: bool = True):
        if isinstance(peepholes, str):
            peepholes = tuple(peepholes)
        try:
            peep = tuple(peepholes)
        except TypeError:
            raise TypeError(f"peepholes must be a sequence of 'i', 'f', 'o', got {peepholes!r}") from None
        bad = [p for p in peep if p not in ("i", "f", "o")]
        if bad or len(set(peep)) != len(peep):
            raise ValueError(f"peepholes must name distinct gates among 'i', 'f', 'o', got {peepholes!r}")
        self.peepholes = tuple(g for g in "ifo" if g in peep)
        self._build(n_in, n_hidden, stateful, init, rng, seed, dtype, input_grad)
        H, dt = self.n_hidden, self.b.data.dtype
        self.b.data[H:2 * H] += dt.type(forget_bias)
        for g in self.peepholes:
            setattr(self, "p_" + g, Parameter(np.zeros(H, dtype=dt), name="p_" + g))

    def _peep(self, g):
        p = getattr(self, "p_" + g, None)
        return None if p is None else p.data

    def forward(self, x, h0=None, c0=None):
        """All hidden states ``(T, N, H)``; the cell states are kept in ``self.cells``."""
        x, T, N = self._check_input(x)
        xp = get_array_module(x)
        H, dt = self.n_hidden, x.dtype
        hs = xp.empty((T + 1, N, H), dtype=dt)
        cs = self._buffer("cs", (T + 1, N, H), dt)
        tc = self._buffer("tc", (T, N, H), dt)
        hs[0] = self._initial(h0, "h", N)
        cs[0] = self._initial(c0, "c", N)
        A, B = _sigmoid_by_tanh(H, dt, xp)
        G = self._project(x, "G", A)    # pre-activations, overwritten by the gate values
        Wh = self.Wh.data * A
        p_i, p_f, p_o = (None if p is None else p * dt.type(0.5)
                         for p in (self._peep("i"), self._peep("f"), self._peep("o")))
        tmp, tmpH = xp.empty((N, 4 * H), dtype=dt), xp.empty((N, H), dtype=dt)
        # without an 'o' peephole o_t is known before C_t: one tanh for the whole row
        nl = 4 * H if p_o is None else 3 * H
        A, B = A[:nl], B[:nl]
        for t in range(T):
            g = G[t]
            xp.matmul(hs[t], Wh, out=tmp)
            g += tmp
            c_prev, c = cs[t], cs[t + 1]
            if p_i is not None:
                xp.multiply(c_prev, p_i, out=tmpH)
                g[:, :H] += tmpH
            if p_f is not None:
                xp.multiply(c_prev, p_f, out=tmpH)
                g[:, H:2 * H] += tmpH
            a = g if nl == 4 * H else g[:, :nl]
            xp.tanh(a, out=a)
            a *= A
            a += B
            xp.multiply(g[:, H:2 * H], c_prev, out=c)
            xp.multiply(g[:, :H], g[:, 2 * H:3 * H], out=tmpH)
            c += tmpH
            o = g[:, 3 * H:]
            if p_o is not None:
                xp.multiply(c, p_o, out=tmpH)
                o += tmpH
                xp.tanh(o, out=o)
                o *= 0.5
                o += 0.5
            xp.tanh(c, out=tc[t])
            xp.multiply(o, tc[t], out=hs[t + 1])
        self._x, self._hs, self._cs, self._tc, self._G = x, hs, cs, tc, G
        self._keep(h=hs[T], c=cs[T])
        return hs[1:]

    @property
    def cells(self):
        """The cell states ``C_1..C_T`` of the last forward, ``(T, N, H)`` (a view of a work
        array: valid until the next forward; copy it to keep it)."""
        return self._cs[1:]

    def backward(self, dy):
        dy = self._check_dy(dy)
        xp = get_array_module(dy)
        (T, N, H), dt = dy.shape, dy.dtype
        G, cs, tc, hs = self._G, self._cs, self._tc, self._hs
        p_i, p_f, p_o = self._peep("i"), self._peep("f"), self._peep("o")
        dA = self._buffer("dA", (T, N, 4 * H), dt)
        WhT = xp.ascontiguousarray(self.Wh.data.T)
        dh, dc = xp.zeros((N, H), dtype=dt), xp.zeros((N, H), dtype=dt)
        # small per-step buffers that stay in cache: S = σ' = (1 − s)(0 + s) on i, f, o and
        # tanh' = (1 − C̃)(1 + C̃) on C̃; M = their factors dC·C̃, dC·C_{t-1}, dC·i, dh·tanh C_t
        S, M = xp.empty((N, 4 * H), dtype=dt), xp.empty((N, 4 * H), dtype=dt)
        one_g = xp.zeros(4 * H, dtype=dt)
        one_g[2 * H:3 * H] = 1
        tmpH = xp.empty((N, H), dtype=dt)
        So = S[:, 3 * H:]
        Mi, Mf, Mg, Mo = (M[:, k * H:(k + 1) * H] for k in range(4))
        for t in range(T - 1, -1, -1):
            g4 = G[t]
            i, f, g, o = (g4[:, k * H:(k + 1) * H] for k in range(4))
            da = dA[t]
            dh += dy[t]
            xp.add(g4, one_g, out=S)
            xp.subtract(1, g4, out=M)
            S *= M
            xp.multiply(dh, tc[t], out=Mo)     # δo = dh ⊙ tanh C_t ⊙ o(1 − o)
            # dC_t += dh ⊙ o ⊙ (1 − tanh² C_t) (+ δo ⊙ p_o);  o(1 − tanh²C) = o − h ⊙ tanh C
            xp.multiply(hs[t + 1], tc[t], out=tmpH)
            xp.subtract(o, tmpH, out=tmpH)
            tmpH *= dh
            dc += tmpH
            if p_o is not None:
                xp.multiply(Mo, So, out=tmpH)
                tmpH *= p_o
                dc += tmpH
            xp.multiply(dc, g, out=Mi)
            xp.multiply(dc, cs[t], out=Mf)
            xp.multiply(dc, i, out=Mg)
            xp.multiply(S, M, out=da)
            dc *= f                            # dC_{t-1} = dC ⊙ f (+ δi ⊙ p_i + δf ⊙ p_f)
            if p_i is not None:
                xp.multiply(da[:, :H], p_i, out=tmpH)
                dc += tmpH
            if p_f is not None:
                xp.multiply(da[:, H:2 * H], p_f, out=tmpH)
                dc += tmpH
            xp.matmul(da, WhT, out=dh)
        self.dh0, self.dc0 = dh, dc
        self._peephole_update(dA)
        return self._param_grads(dA, hs[:-1])

    def _peephole_update(self, dA, curvature=False):
        """``∂E/∂p_g = Σ_{t,n} δg ⊙ C`` (``C_{t-1}`` for i, f; ``C_t`` for o) into ``grad``,
        or with ``curvature`` ``∂²E/∂p_g² = Σ d2g ⊙ C²`` into ``curv``."""
        xp, H, cs = get_array_module(dA), self.n_hidden, self._cs
        for k, gate, c in ((0, "i", cs[:-1]), (1, "f", cs[:-1]), (3, "o", cs[1:])):
            if gate in self.peepholes:
                p = getattr(self, "p_" + gate)
                v = xp.einsum("tnh,tnh->h", dA[..., k * H:(k + 1) * H], c * c if curvature else c)
                if curvature:
                    p.add_curv(v)
                else:
                    p.grad += v

    def backward_curvature(self, d2y):
        d2y = self._check_dy(d2y, "backward_curvature")
        xp = get_array_module(d2y)
        T, N, H = d2y.shape
        G, cs, tc = self._G, self._cs, self._tc
        p_i, p_f, p_o = self._peep("i"), self._peep("f"), self._peep("o")
        d2A = xp.empty((T, N, 4 * H), dtype=d2y.dtype)
        Wh2T = xp.square(self.Wh.data).T
        d2h, d2c = xp.zeros((N, H), dtype=d2y.dtype), xp.zeros((N, H), dtype=d2y.dtype)
        for t in range(T - 1, -1, -1):
            i, f, g, o = (G[t][:, k * H:(k + 1) * H] for k in range(4))
            d2h = d2h + d2y[t]
            so = o * (1 - o)
            dh_dc = o * (1 - tc[t] * tc[t])
            if p_o is not None:
                dh_dc = dh_dc + tc[t] * so * p_o
            d2c = d2c + d2h * dh_dc * dh_dc
            d2a = d2A[t]
            d2a[:, 3 * H:] = d2h * xp.square(tc[t] * so)
            d2a[:, :H] = d2c * xp.square(g * i * (1 - i))
            d2a[:, H:2 * H] = d2c * xp.square(cs[t] * f * (1 - f))
            d2a[:, 2 * H:3 * H] = d2c * xp.square(i * (1 - g * g))
            d2c = d2c * f * f
            if p_i is not None:
                d2c += d2a[:, :H] * p_i * p_i
            if p_f is not None:
                d2c += d2a[:, H:2 * H] * p_f * p_f
            d2h = d2a @ Wh2T
        self.d2h0, self.d2c0 = d2h, d2c
        self._peephole_update(d2A, curvature=True)
        return self._param_curv(d2A, self._hs[:-1])
