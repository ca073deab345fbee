"""A DBM on scikit-learn's 8×8 digits, fine-tuned as the paper's net on [v, q(h²)], against
the same-sized greedy RBM stack unrolled into a Sequential (RBM.to_layers) and fine-tuned
the same way (the DBN of the deep-belief-net issue is not in main yet: its RBM stack
with the same backprop stands in for it)."""
from __future__ import annotations

import pytest

import neuronet as nt
from neuronet.energy import DBM, RBM

H1, H2 = 100, 100


def _finetune(net, A, y, At, yt):
    opt = nt.optim.Adam(net.parameters(), lr=2e-3)
    nt.fit(net, nt.SoftmaxCrossEntropy(), opt, A, y, epochs=30, batch_size=32, seed=0)
    return float((nt.predict(net, At).argmax(1) == yt).mean())


@pytest.mark.slow
def test_dbm_classifies_digits_as_well_as_the_same_sized_rbm_stack():
    (X, y), (Xt, yt) = nt.data.load_digits("train", seed=0), nt.data.load_digits("test", seed=0)
    d = DBM([64, H1, H2], seed=0)
    d.pretrain(X, epochs=[30, 30], batch_size=20, lr=0.05, seed=0)
    d.fit(X, epochs=30, batch_size=20, lr=0.005, lr_decay=1.0, seed=0)
    acc_dbm = _finetune(d.to_network(10, seed=0), d.augment(X), y, d.augment(Xt), yt)

    r1 = RBM(64, H1, seed=0)
    r1.fit(X, epochs=30, batch_size=20, verbose=False, seed=0)
    r2 = RBM(H1, H2, seed=1)
    r2.fit(r1.transform(X), epochs=30, batch_size=20, verbose=False, seed=1)
    stack = nt.Sequential(*r1.to_layers(), *r2.to_layers(), nt.Dense(H2, 10, seed=0))
    acc_stack = _finetune(stack, X, y, Xt, yt)
    print(f"digits test accuracy: DBM {acc_dbm:.4f}, RBM stack {acc_stack:.4f}")
    assert acc_dbm >= 0.97
    assert acc_dbm >= acc_stack - 0.005, (acc_dbm, acc_stack)
