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

from .gru import GRU
from .lstm import LSTM
from .rnn import RNN

__all__ = ["RNN", "LSTM", "GRU"]
