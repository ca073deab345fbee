"""What the recurrent layers share (see :mod:`neuronet.layers.recurrent`): weight
initialisation, parameters ``Wx, Wh, b``, input and state checks, the carried state of
``stateful`` layers, the all-steps input projection and the after-the-sweep GEMMs that
turn stacked pre-activation gradients (or curvatures) into parameter gradients (or
curvatures).
"""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module, get_default_dtype
from ..init import glorot, initialize
from ..module import Module, Parameter
from ..random import make_rng
from ..validation import as_float_array, check_features, check_int, check_ndim

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
        if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype or get_array_module(buf) is not xp \
                or not getattr(buf.flags, "writeable", True):  # loaded read-only (a memory-mapped pickle)
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

    def _check_dy(self, dy, what="backward"):
        if not hasattr(self, "_x"):
            raise RuntimeError(f"{type(self).__name__}.{what} called before forward")
        name = "dy" if what == "backward" else "d2y"
        dy = as_float_array(dy, self.Wx.data.dtype, name)
        want = self._x.shape[:2] + (self.n_hidden,)
        if tuple(dy.shape) != want:
            raise ValueError(f"{name} must have the output's shape (T, N, H) = {want}, "
                             f"got {tuple(dy.shape)}")
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

    def _param_curv(self, d2A, h_prev, cols=slice(None)):
        """The curvature pass's counterpart of :meth:`_param_grads`: from the stacked
        pre-activation curvatures ``d2A = ∂²E/∂a² (T, N, gH)``,
        ``[∂²E/∂Wx²; ∂²E/∂Wh²; ∂²E/∂b²] += Σ_t [x_t², h_{t-1}², 1]ᵀ·d2A_t`` and
        ``∂²E/∂x² = d2A·(Wx²)ᵀ``. A weight shared by all steps gets the sum of the
        curvatures of its per-step connections (LeCun et al. 1990's rule for shared
        weights, as in a convolution)."""
        x = self._x
        T, N, D = x.shape
        xp = get_array_module(d2A)
        TN, k = T * N, h_prev.shape[-1]
        Z = xp.empty((TN, D + k + 1), dtype=d2A.dtype)
        xp.square(x.reshape(TN, D), out=Z[:, :D])
        xp.square(h_prev.reshape(TN, k), out=Z[:, D:D + k])
        Z[:, -1] = 1
        d2A2 = d2A.reshape(TN, -1)
        dW = Z.T @ d2A2
        for p, block in ((self.Wx, dW[:D]), (self.Wh, dW[D:D + k]), (self.b, dW[-1])):
            if p.curv is None:
                p.zero_curv()
            p.curv[..., cols] += block
        if not self.input_grad:
            return None
        return (d2A2 @ xp.square(self.Wx.data[:, cols]).T).reshape(T, N, D)
