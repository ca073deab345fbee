"""Character data, the truncated-BPTT trainer, checkpoint/resume, and learning."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import CharVocab, batchify, one_hot, stream_chunks


# ------------------------------------------------------------ text data
def test_vocab_roundtrip_and_errors():
    v = CharVocab.from_text("hello, world")
    assert v.chars == " ,dehlorw" and v.size == 9
    codes = v.encode("world hello")
    assert codes.dtype == np.int32 and v.decode(codes) == "world hello"
    assert CharVocab(v.chars).encode("hello").tolist() == codes[6:].tolist()
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        v.encode("zoo")
    with pytest.raises(ValueError, match=r"codes must be in \[0, 9\)"):
        v.decode([9])
    with pytest.raises(ValueError, match="empty"):
        CharVocab("")


def test_batchify_and_chunks_cover_the_stream_in_order():
    codes = np.arange(103)
    s = batchify(codes, 4)                      # 25 steps × 4 streams, 3 codes dropped
    assert s.shape == (25, 4)
    np.testing.assert_array_equal(s[:, 1], np.arange(25, 50))
    chunks = list(stream_chunks(s, 7))
    assert [x.shape[0] for x, _ in chunks] == [7, 7, 7, 3]
    xs = np.concatenate([x for x, _ in chunks])
    ys = np.concatenate([y for _, y in chunks])
    np.testing.assert_array_equal(xs, s[:-1])
    np.testing.assert_array_equal(ys, s[1:])   # y_t = x_{t+1}
    with pytest.raises(ValueError, match="too short"):
        batchify(np.arange(5), 4)
    with pytest.raises(ValueError, match="1-D"):
        batchify(np.zeros((3, 3)), 1)


def test_one_hot():
    oh = one_hot(np.array([[2, 0]]), 3)
    assert oh.dtype == np.float32 and oh.shape == (1, 2, 3)
    np.testing.assert_array_equal(oh[0], [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"codes must be in \[0, 3\)"):
        one_hot([3], 3)


# ------------------------------------------------------------ truncated BPTT
def _lm(V, H=6, seed=0, **kw):
    return nt.Sequential(nt.LSTM(V, H, stateful=True, seed=seed, **kw),
                         nt.TimeDistributed(nt.Dense(H, V, seed=seed + 1))).astype(np.float64)


def _stream(L=41, N=3, V=5, seed=0):
    s = np.random.default_rng(seed).integers(0, V, (L, N))
    return s[:-1], s[1:]


def test_one_chunk_over_the_whole_stream_is_full_bptt():
    """fit_stream with seq_len ≥ L takes exactly the full-BPTT gradient step."""
    V = 5
    x, y = _stream(V=V)
    tr = _lm(V)
    fit = lambda c: one_hot(c, V, np.float64)  # noqa: E731
    nt.fit_stream(tr, nt.SequenceSoftmaxCrossEntropy(), nt.optim.SGD(tr.parameters(), lr=0.5),
                  x, y, seq_len=len(x), steps=1, transform=fit, clip_grad_norm=None, progress=False)
    full = _lm(V)
    full.layers[0].stateful = False
    loss = nt.SequenceSoftmaxCrossEntropy()
    loss.forward(full.forward(fit(x)), y)
    full.backward(loss.backward())
    for (name, p), (_, q) in zip(full.named_parameters(), tr.named_parameters()):
        np.testing.assert_allclose(q.data, p.data - 0.5 * p.grad, atol=1e-12, err_msg=name)


def test_truncated_bptt_carries_state_and_cuts_gradient():
    """With chunks of T steps: the forward states equal one pass over the stream, and the
    gradient of each chunk equals BPTT within the chunk started from the carried state."""
    V, T = 5, 7
    x, y = _stream(V=V)
    fx = one_hot(x, V, np.float64)
    net = _lm(V)
    loss = nt.SequenceSoftmaxCrossEntropy()
    ref = _lm(V)
    ref.layers[0].stateful = False
    h_full = ref.layers[0].forward(fx)
    grads = []
    for a in range(0, len(x), T):
        net.zero_grad()
        out = net.forward(fx[a:a + T])
        h_end, _ = net.layers[0].state
        np.testing.assert_allclose(h_end, h_full[min(a + T, len(x)) - 1], atol=1e-12)
        loss.forward(out, y[a:a + T])
        net.backward(loss.backward())
        grads.append(net.layers[0].Wh.grad.copy())
    # the last chunk alone, from the carried state given explicitly
    a = (len(x) - 1) // T * T
    lone = _lm(V)
    lone.layers[0].stateful = False
    h0, c0 = h_full[a - 1], ref.layers[0].cells[a - 1]
    loss.forward(lone.layers[1].forward(lone.layers[0].forward(fx[a:], h0, c0)), y[a:])
    lone.layers[0].backward(lone.layers[1].backward(loss.backward()))
    np.testing.assert_allclose(grads[-1], lone.layers[0].Wh.grad, atol=1e-12)


def test_fit_stream_needs_stateful_layers_and_a_budget():
    x, y = _stream()
    net = nt.Sequential(nt.GRU(5, 4), nt.TimeDistributed(nt.Dense(4, 5)))
    opt = nt.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="stateful=True.*GRU"):
        nt.fit_stream(net, nt.SequenceSoftmaxCrossEntropy(), opt, x, y, steps=1,
                      transform=lambda c: one_hot(c, 5), progress=False)
    net = _lm(5)
    with pytest.raises(ValueError, match="steps="):
        nt.fit_stream(net, nt.SequenceSoftmaxCrossEntropy(), opt, x, y, progress=False)
    with pytest.raises(ValueError, match="same"):
        nt.fit_stream(net, nt.SequenceSoftmaxCrossEntropy(), opt, x, y[:-1], steps=1, progress=False)


def test_resume_from_checkpoint_gives_the_same_run(tmp_path):
    """Stopping after 5 steps (mid-stream, state carried) and resuming equals 11 straight steps."""
    V = 5
    x, y = _stream(L=61, V=V)
    fit = lambda c: one_hot(c, V, np.float64)  # noqa: E731

    def run(steps, model, opt, path=None):
        return nt.fit_stream(model, nt.SequenceSoftmaxCrossEntropy(), opt, x, y, seq_len=8,
                             steps=steps, transform=fit, checkpoint=path, checkpoint_every=2,
                             validation=(x, y), val_every=4, progress=False)

    a = _lm(V, peepholes="f")
    ha = run(11, a, nt.optim.Adam(a.parameters(), lr=0.01))
    b = _lm(V, peepholes="f")
    ck = tmp_path / "lm.npz"
    run(5, b, nt.optim.Adam(b.parameters(), lr=0.01), ck)
    info = nt.train.sequence.stream_checkpoint_info(ck)
    assert info["step"] == 5 and info["position"] == 40
    c = _lm(V, peepholes="f", seed=9)            # different weights: all come from the file
    hc = run(11, c, nt.optim.Adam(c.parameters(), lr=0.01), ck)
    for (n, p), (_, q) in zip(a.named_parameters(), c.named_parameters()):
        np.testing.assert_allclose(q.data, p.data, atol=1e-12, err_msg=n)
    # the interrupted run also validated at its end (step 5)
    assert hc.steps_done == 11 and ha.val_step == [4, 8, 11] and hc.val_step == [4, 5, 8, 11]
    np.testing.assert_allclose(np.delete(hc.val_loss, 1), ha.val_loss, atol=1e-12)


def test_char_lm_learns_a_repeating_text():
    """Real learning: a small LSTM LM drives the loss on a periodic text far below ln V."""
    from neuronet.models import CharLM

    text = "the cat sat on the mat. " * 60
    vocab = CharVocab.from_text(text)
    s = batchify(vocab.encode(text), 4)
    lm = CharLM(vocab.size, 32, seed=0)
    hist = nt.fit_stream(lm, nt.SequenceSoftmaxCrossEntropy(), nt.optim.Adam(lm.parameters(), lr=0.02),
                         s[:-1], s[1:], seq_len=20, steps=120, transform=lm.encode_inputs,
                         validation=(s[:-1], s[1:]), val_every=60, progress=False)
    assert hist.q[0] > 0.9 * np.log(vocab.size)
    assert hist.val_loss[-1] < 0.25 * np.log(vocab.size)
    sample = lm.sample(vocab, "the ", 40, temperature=0.3, seed=0)
    assert sample.startswith("the ") and len(sample) == 44
    assert "cat" in sample or "mat" in sample


def test_char_lm_checkpoint_loads_and_samples(tmp_path):
    from neuronet.models import CharLM

    vocab = CharVocab.from_text("abcab ")
    lm = CharLM(vocab.size, 8, n_layers=2, cell="gru", seed=0)
    nt.save(tmp_path / "lm.npz", lm, extra={"vocab": vocab.chars})
    ck = nt.io.load_checkpoint(tmp_path / "lm.npz")
    back, v2 = ck.model, CharVocab(ck.extra["vocab"])
    assert isinstance(back, CharLM) and v2.chars == vocab.chars
    assert back.sample(v2, "ab", 20, temperature=0.5, seed=3) == lm.sample(vocab, "ab", 20, temperature=0.5, seed=3)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        lm.sample(vocab, "a", 5, temperature=0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        lm.sample(vocab, "xyz", 5)
