"""Greedy denoising-autoencoder stacking, the lecture's other layer-wise pretraining (issue 14)."""
from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from conftest import pretrained_vs_random
from neuronet.models import AutoencoderStack


def test_denoising_stack_initialises_a_net_that_beats_random_initialisation_on_digits():
    (Xtr, ytr), (Xte, yte) = nt.data.load_digits("train"), nt.data.load_digits("test")
    stack = AutoencoderStack([64, 100, 100], noise=0.25, seed=0)
    histories = stack.pretrain(Xtr, epochs=6, batch_size=20, lr=3e-3, seed=0)
    for h in histories:
        assert h["loss"][-1] < 0.9 * h["loss"][0]  # cross-entropy of soft codes has a floor: their entropy
    np.testing.assert_allclose(stack.to_network()(Xte), stack.transform(Xte), rtol=1e-6, atol=1e-7)
    accuracies = pretrained_vs_random(stack.to_network(n_out=10, seed=1), Xtr, ytr, Xte, yte, [64, 100, 100, 10])
    # measured 0.89 against 0.62
    assert accuracies["pretrained"] > 0.85 and accuracies["pretrained"] > accuracies["random"] + 0.15, accuracies


def test_masking_noise_and_bad_input():
    stack = AutoencoderStack([6, 4], noise=0.5, seed=0)
    net = stack.layer_network(0)
    x = np.ones((2000, 6), dtype=np.float32)
    net.train()
    masked = net.layers[0](x)
    assert set(np.unique(masked)) == {0.0, 1.0} and abs(masked.mean() - 0.5) < 0.02  # zeroed, unscaled
    with pytest.raises(ValueError, match=r"noise must be in \[0, 1\)"):
        AutoencoderStack([6, 4], noise=1.0)
    with pytest.raises(ValueError, match="X must have 6 features"):
        stack.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        stack.pretrain(np.full((2, 6), 2.0), epochs=1)
    with pytest.raises(ValueError, match="at least 2 layer widths"):
        AutoencoderStack([6])
