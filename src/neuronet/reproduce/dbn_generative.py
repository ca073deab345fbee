"""dbn-generative: Hinton, Osindero & Teh (2006): 784-500-500 with the top RBM joined
to 10 label units (500+10 ↔ 2000), greedy pretraining, then up-down fine-tuning;
classification by the top RBM's free energy; samples of each class. Scaled."""
from __future__ import annotations

import time

import numpy as np

from .common import mnist
from .registry import Reproduction, register

#: CD-1 epochs per RBM (the paper's), up-down epochs and CD-k at the top of the full run
PRETRAIN_EPOCHS, UPDOWN_EPOCHS, UPDOWN_K = 30, 20, 3


def run(ctx) -> dict:
    from ..energy import DBN
    from ..train import ModelCheckpoint
    from ..viz import plot_samples

    X, y, Xt, yt = mnist(ctx, quick_train=2000, quick_test=1000)
    sizes, pre, ud, k = ([784, 64, 64, 128], 2, 1, 2) if ctx.quick else ([784, 500, 500, 2000], PRETRAIN_EPOCHS, UPDOWN_EPOCHS, UPDOWN_K)
    t0 = time.perf_counter()
    dbn = DBN(sizes, n_labels=10, seed=ctx.seed)
    # the paper's 30 pretraining epochs for every layer, 20 of up-down: ~18 min on one idle core. Earlier
    # test-set records: 3 / 10 / 2 epochs (lower layers / top / up-down) 6.30 % in 194 s; 10 / 30 / 10
    # 3.25 % in 10 min; 30 / 30 / 10 3.29 % (greedy alone 4.22 %) in 13 min, then resumed to 20 up-down epochs
    dbn.pretrain(X, y, epochs=pre, batch_size=100, seed=ctx.seed, verbose=ctx.progress,
                 checkpoint=ctx.checkpoint("dbn-generative-pretrain"), resume=ctx.resume)
    pretrained = 100.0 * float((dbn.predict(Xt) != yt).mean())
    t1 = time.perf_counter()
    ctx.log(f"greedy pretraining ({pre} epochs per layer, {(t1 - t0) / 60:.1f} min): "
            f"test error {pretrained:.2f} % by free energy")
    history = dbn.fit_updown(X, y, epochs=ud, batch_size=100, k=k, lr=0.01, seed=ctx.seed,
                             progress=ctx.progress,
                             callbacks=[ModelCheckpoint(ctx.checkpoint("dbn-generative-updown"))],
                             resume_from=ctx.resume_from("dbn-generative-updown"))
    error = 100.0 * float((dbn.predict(Xt) != yt).mean())
    t2 = time.perf_counter()
    ctx.log(f"up-down ({ud} epochs, CD-{k} at the top, {(t2 - t1) / 60:.1f} min): test error {error:.2f} %")
    labels = np.repeat(np.arange(10), 10)
    samples = dbn.sample(100, label=labels, steps=200 if ctx.quick else 1000, seed=ctx.seed)
    plot_samples(samples, n_cols=10, path=ctx.picture("dbn_generative_samples.png"),
                 title="samples of each class (rows 0-9)")
    recognised = float((dbn.predict(samples) == labels).mean())
    return {"test_error_pct": error, "pretrained_test_error_pct": pretrained,
            "updown_recon_error": history["loss"][-1], "samples_recognised": recognised,
            "pretrain_minutes": (t1 - t0) / 60, "updown_minutes": (t2 - t1) / 60}


register(Reproduction(
    name="dbn-generative",
    title="Generative DBN with labels (Hinton, Osindero & Teh 2006): up-down fine-tuning, sampling",
    published={"test_error_pct": 1.25},
    source="Hinton, Osindero & Teh (2006), 'A fast learning algorithm for deep belief nets', §6",
    recipe=f"784-500-500, top RBM (500+10 labels)-2000; CD-1 pretraining {PRETRAIN_EPOCHS} epochs per layer "
           f"(rbm.m); up-down {UPDOWN_EPOCHS} epochs, CD-{UPDOWN_K} at the top, lr 0.01, batch 100; class by the "
           "top's free energy",
    differences=f"{UPDOWN_EPOCHS} up-down epochs (CD-{UPDOWN_K}) instead of 300 "
                "(CD-3, 6, 10); no validation-based stopping; our number is what this scale reaches",
    target={"test_error_pct": 3.0},
    minutes=18,
    run=run))
