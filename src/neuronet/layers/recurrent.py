"""Recurrent layers: a plain RNN, the LSTM (with peepholes) and the GRU, unrolled in
time with hand-written BackProp Through Time (MISSION D5, D6; lecture 003).

Every layer maps a sequence ``x`` of shape ``(T, N, D)`` (time-major, batch second)
to all its hidden states ``h_1..h_T`` of shape ``(T, N, H)``. ``forward`` takes an
initial state (``h0``, and ``c0`` for the LSTM; zeros by default), ``backward(dy)``
takes ``∂E/∂h_t`` for every step, adds the weight gradients into ``p.grad``, returns
``∂E/∂x`` and leaves the gradient with respect to the initial state in ``dh0``
(``dc0``); with ``input_grad=False`` (a first layer, whose input is data) ``backward``
skips ``∂E/∂x`` and returns ``None``, saving one GEMM. With ``stateful=True`` the last
state of one call is the initial state of the next (truncated BPTT over a long stream:
the state is carried forward, the gradient stops at the chunk border);
``reset_state()`` forgets it, ``get_state()``/``set_state()`` save and restore it.

BPTT (lecture): ``∂L_t/∂W = ∂L_t/∂y_t · ∂y_t/∂h_t · Σ_k (Π_{i=k+1..t} ∂h_i/∂h_{i-1}) ∂h_k/∂W``.
It is computed by one backward sweep over time carrying ``∂E/∂h_{t-1}``.

Speed: the input projections of all steps are one GEMM ``[x, 1]·[Wx; b]`` over the
``T·N`` rows; each step adds one ``(N, H)×(H, gH)`` GEMM and a few whole-row array
operations on buffers allocated once per call; the backward sweep does one
``(N, gH)×(gH, H)`` GEMM per step, and after the loop ``∂E/∂Wx, ∂E/∂Wh, ∂E/∂b`` come
from one GEMM ``[x_t, h_{t-1}, 1]ᵀ·δ_t`` over all steps, ``∂E/∂x`` from ``δ·Wxᵀ``.
The gate derivatives are formed per step, while that step's activations are in cache.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, get_default_dtype
from ..init import glorot, initialize
from ..module import Module, Parameter
from ..random import make_rng
from ..validation import as_float_array, check_features, check_int, check_ndim

__all__ = ["RNN", "LSTM", "GRU"]


# ----------------------------------------------------------------- helpers
def _orthogonal(n, rng):
    """A random ``n×n`` orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _init_weights(init, n_in, n_hidden, n_gates, rng, dtype):
    """``Wx (D, gH)``, ``Wh (H, gH)``, ``b (gH,)`` for ``g`` gate blocks.

    ``'glorot'`` (default): each block of ``Wx`` Glorot-uniform, ``±√(6/(D+H))``, each
    block of ``Wh`` orthogonal (keeps ``∂h_t/∂h_{t-1}`` near norm 1 at the start, the
    lecture's cure for vanishing and exploding gradients), ``b = 0``.
    ``'uniform'``: PyTorch's default, every weight and bias in ``±1/√H``.
    Any other name or float σ of :func:`neuronet.init.initialize` (``'he'``,
    ``'normal'``, ``'zeros'``, ...) is applied to each ``(·, H)`` block of both
    matrices, ``b = 0``.
    """
    D, H, g = n_in, n_hidden, n_gates
    if init == "glorot":
        Wx = np.concatenate([glorot((D, H), rng=rng, dtype=np.float64) for _ in range(g)], axis=1)
        Wh = np.concatenate([_orthogonal(H, rng) for _ in range(g)], axis=1)
        b = np.zeros(g * H)
    elif init == "uniform":
        k = 1.0 / np.sqrt(H)
        Wx = rng.uniform(-k, k, (D, g * H))
        Wh = rng.uniform(-k, k, (H, g * H))
        b = rng.uniform(-k, k, g * H)
    else:
        try:
            Wx, Wh = (np.concatenate([initialize(init, (n, H), rng=rng, dtype=np.float64)
                                      for _ in range(g)], axis=1) for n in (D, H))
        except ValueError as e:
            raise ValueError(f"init must be 'glorot', 'uniform' or an initialiser of "
                             f"neuronet.init ({e})") from None
        b = np.zeros(g * H)
    return Wx.astype(dtype), Wh.astype(dtype), b.astype(dtype)


class _Recurrent(Module):
    """Shared machinery: parameters ``Wx, Wh, b``, input and state checks, the carried
    state of ``stateful`` layers, the all-steps input projection."""

    _n_gates = 1
    _state_names = ("h",)

    def _build(self, n_in, n_hidden, stateful, init, rng, seed, dtype, input_grad=True):
        self.input_grad = bool(input_grad)
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_hidden = check_int(n_hidden, "n_hidden", minimum=1)
        if not isinstance(stateful, (bool, np.bool_)):
            raise TypeError(f"stateful must be a bool, got {type(stateful).__name__}")
        self.stateful = bool(stateful)
        dtype = np.dtype(get_default_dtype() if dtype is None else dtype)
        Wx, Wh, b = _init_weights(init, self.n_in, self.n_hidden, self._n_gates,
                                  make_rng(rng, seed), dtype)
        self.Wx = Parameter(Wx, name="Wx")
        self.Wh = Parameter(Wh, name="Wh")
        self.b = Parameter(b, name="b")
        self._carry = {}
        self._work = {}
        self.reset_state()

    # ------------------------------------------------------------- state
    def reset_state(self) -> None:
        """Forget the carried state: the next ``forward`` starts from zeros (or the given state)."""
        self._carry = {name: None for name in self._state_names}

    @property
    def state(self):
        """The last forward's final state (``h_T``; ``(h_T, C_T)`` for the LSTM), or None."""
        vals = tuple(self._carry[n] for n in self._state_names)
        return vals[0] if len(vals) == 1 else (None if vals[0] is None else vals)

    def get_state(self) -> dict:
        """Copies of the carried state arrays by name (``h``; ``h``, ``c`` for the LSTM);
        ``None`` for a state not set yet. For saving a truncated-BPTT run mid-stream."""
        return {n: None if v is None else v.copy() for n, v in self._carry.items()}

    def set_state(self, state: dict) -> None:
        """Set the carried state from :meth:`get_state`'s dict (``None`` entries reset)."""
        unknown = set(state) - set(self._state_names)
        if unknown:
            raise KeyError(f"{type(self).__name__} carries {self._state_names}, got {sorted(unknown)}")
        xp = get_array_module(self.Wx.data)
        for n in self._state_names:
            v = state.get(n)
            if v is not None:
                v = xp.asarray(v, dtype=self.Wx.data.dtype)
                if v.ndim != 2 or v.shape[1] != self.n_hidden:
                    raise ValueError(f"state {n!r} must have shape (N, {self.n_hidden}), "
                                     f"got {tuple(v.shape)}")
            self._carry[n] = v

    def _on_dtype_change(self, dtype) -> None:
        self._work = {}
        for name, v in self._carry.items():
            if v is not None:
                self._carry[name] = v.astype(dtype)

    # ------------------------------------------------------------- checks
    def _check_input(self, x):
        x = as_float_array(x, self.Wx.data.dtype, "input")
        check_ndim(x, 3, "input", layout="(T, N, D): time, batch, features")
        check_features(x, self.n_in, axis=2, name="input")
        T, N = x.shape[:2]
        if T == 0 or N == 0:
            raise ValueError(f"input must have at least one time step and one sequence, "
                             f"got shape {tuple(x.shape)} (T={T}, N={N})")
        return x, T, N

    def _initial(self, value, name, N):
        """The initial state ``name`` as an ``(N, H)`` array: the given one, else the
        carried one (stateful), else zeros."""
        H, dt = self.n_hidden, self.Wx.data.dtype
        xp = get_array_module(self.Wx.data)
        if value is not None:
            v = as_float_array(value, dt, f"{name}0")
            if tuple(v.shape) != (N, H):
                raise ValueError(f"{name}0 must have shape (N, H) = ({N}, {H}) for this input, "
                                 f"got shape {tuple(v.shape)}")
            return v
        carried = self._carry.get(name) if self.stateful else None
        if carried is not None:
            if carried.shape[0] != N:
                raise ValueError(f"the carried state has batch size {carried.shape[0]} but the "
                                 f"input has N={N}; call reset_state() before changing the batch")
            return carried
        return xp.zeros((N, H), dtype=dt)

    def _buffer(self, name, shape, dtype):
        """A work array kept between calls for internal use (gates, cell states, gate
        gradients): writing tens of MB of freshly allocated memory every call costs
        page faults worth several ms. Arrays handed to the caller are never buffers."""
        xp = get_array_module(self.Wx.data)
        buf = self._work.get(name)
        if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype or get_array_module(buf) is not xp:
            buf = xp.empty(shape, dtype=dtype)
            self._work[name] = buf
        return buf

    def _keep(self, **final):
        for name, v in final.items():
            self._carry[name] = v.copy()

    def _project(self, x, name, scale=None, cols=slice(None)):
        """Input projections of all steps at once, ``x·Wx + b`` as ``(T, N, gH)`` in the
        work array ``name``: one GEMM of ``[x, 1]`` with ``[Wx; b]`` (the bias rides in
        the GEMM); ``scale`` multiplies the columns; ``cols`` selects a block of gates."""
        T, N, D = x.shape
        xp = get_array_module(x)
        x1 = self._buffer("x1", (T * N, D + 1), x.dtype)
        x1[:, :D] = x.reshape(T * N, D)
        x1[:, D] = 1
        W = xp.concatenate([self.Wx.data[:, cols], self.b.data[None, cols]], axis=0)
        if scale is not None:
            W *= scale
        out = self._buffer(name, (T, N, W.shape[1]), x.dtype)
        xp.matmul(x1, W, out=out.reshape(T * N, -1))
        return out

    def _check_dy(self, dy):
        if not hasattr(self, "_x"):
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dy = as_float_array(dy, self.Wx.data.dtype, "dy")
        want = self._x.shape[:2] + (self.n_hidden,)
        if tuple(dy.shape) != want:
            raise ValueError(f"dy must have the output's shape (T, N, H) = {want}, got {tuple(dy.shape)}")
        return dy

    def _param_grads(self, dA, h_prev=None, cols=slice(None)):
        """After the sweep, from the stacked pre-activation gradients ``δ = dA (T, N, gH)``:
        ``[∂E/∂Wx; ∂E/∂Wh; ∂E/∂b] = Σ_t [x_t, h_{t-1}, 1]ᵀ·δ_t`` as one GEMM over all
        steps (without ``h_prev``: ``Wx`` and ``b`` only), and ``∂E/∂x = δ·Wxᵀ``;
        ``cols``: the block of gates ``dA`` belongs to."""
        x = self._x
        T, N, D = x.shape
        xp = get_array_module(dA)
        TN = T * N
        k = 0 if h_prev is None else h_prev.shape[-1]
        Z = self._buffer(f"Z{k}", (TN, D + k + 1), dA.dtype)
        Z[:, :D] = x.reshape(TN, D)
        if k:
            Z[:, D:D + k] = h_prev.reshape(TN, k)
        Z[:, -1] = 1
        dA2 = dA.reshape(TN, -1)
        dW = Z.T @ dA2
        self.Wx.grad[:, cols] += dW[:D]
        if k:
            self.Wh.grad[:, cols] += dW[D:D + k]
        self.b.grad[cols] += dW[-1]
        if not self.input_grad:
            return None
        # a contiguous copy of Wxᵀ (small) makes the big product faster than a transposed view
        return (dA2 @ xp.ascontiguousarray(self.Wx.data[:, cols].T)).reshape(T, N, D)


# ----------------------------------------------------------------- RNN
class RNN(_Recurrent):
    """Elman recurrent layer: ``h_t = φ(x_t·Wx + h_{t-1}·Wh + b)``, ``φ`` = tanh or ReLU.

    ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``; the same function as ``torch.nn.RNN``
    with ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``, ``bias_ih_l0 + bias_hh_l0 = b``.

    BPTT: ``δ_t = (∂E/∂h_t + δ_{t+1}·Whᵀ) ⊙ φ'(a_t)``; ``∂E/∂Wh = Σ_t h_{t-1}ᵀ δ_t``,
    ``∂E/∂Wx = Σ_t x_tᵀ δ_t``, ``∂E/∂h_0 = δ_1·Whᵀ``.
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
        h = hs[1:]
        # φ'(a_t) for all steps at once, from the outputs: tanh' = 1 − h², relu' = [h > 0]
        dphi = 1 - h * h if self.activation == "tanh" else (h > 0).astype(h.dtype)
        dA = self._buffer("dA", dy.shape, dy.dtype)
        WhT = self.Wh.data.T
        dh = xp.zeros((N, H), dtype=dy.dtype)
        for t in range(T - 1, -1, -1):
            dh += dy[t]
            xp.multiply(dh, dphi[t], out=dA[t])
            xp.matmul(dA[t], WhT, out=dh)
        self.dh0 = dh
        return self._param_grads(dA, hs[:-1])


# ----------------------------------------------------------------- LSTM
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
        # σ(a) = ½·tanh(a/2) + ½: with the i, f, o columns of the weights halved
        # (exact in floating point) one tanh over the whole contiguous gate row, then
        # ``row·A + B`` with A = B = ½ on i, f, o and A = 1, B = 0 on C̃ gives all gates.
        A = xp.full(4 * H, 0.5, dtype=dt)
        A[2 * H:3 * H] = 1
        B = A.copy()
        B[2 * H:3 * H] = 0
        G = self._project(x, "G", A)    # pre-activations, overwritten by the gate values
        Wh = self.Wh.data * A
        p_i, p_f, p_o = (None if p is None else p * dt.type(0.5)
                         for p in (self._peep("i"), self._peep("f"), self._peep("o")))
        tmp = xp.empty((N, 4 * H), dtype=dt)
        tmpH = xp.empty((N, H), dtype=dt)
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
        T, N, H = dy.shape
        dt = dy.dtype
        G, cs, tc, hs = self._G, self._cs, self._tc, self._hs
        p_i, p_f, p_o = self._peep("i"), self._peep("f"), self._peep("o")
        dA = self._buffer("dA", (T, N, 4 * H), dt)
        WhT = xp.ascontiguousarray(self.Wh.data.T)
        dh = xp.zeros((N, H), dtype=dt)
        dc = xp.zeros((N, H), dtype=dt)
        # per step, in small buffers that stay in cache: S holds the gate derivatives
        # σ' = (1 − s)(0 + s) on i, f, o and tanh' = (1 − C̃)(1 + C̃) on C̃ (whole row
        # at once), M what multiplies them: dC·C̃, dC·C_{t-1}, dC·i, dh·tanh C_t
        S = xp.empty((N, 4 * H), dtype=dt)
        M = xp.empty((N, 4 * H), dtype=dt)
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
        for k, gate, c in ((0, "i", cs[:-1]), (1, "f", cs[:-1]), (3, "o", cs[1:])):
            if gate in self.peepholes:
                getattr(self, "p_" + gate).grad += xp.einsum("tnh,tnh->h", dA[..., k * H:(k + 1) * H], c)
        return self._param_grads(dA, hs[:-1])


# ----------------------------------------------------------------- GRU
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
