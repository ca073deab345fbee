"""autoencoder-mnist: Hinton & Salakhutdinov (2006), the 784-1000-500-250-30 deep
autoencoder against PCA-30 on MNIST (mean squared error per test image, summed over
pixels), with their Fig. 2 (reconstructions) and Fig. 3 (2-D codes). Scaled."""
from __future__ import annotations

import time

from .common import mnist
from .registry import Reproduction, register


def _two_d(ctx, dbn, X, yt, Xt, epochs):
    """Fig. 3: the pretrained 784-1000-500-250 layers under a new linear 250-2 RBM, unrolled and
    fine-tuned briefly; codes of test images beside PCA's first two components."""
    from ..data import PCA
    from ..energy import DBN, RBM
    from ..models import DeepAutoencoder
    from ..viz import plot_codes_2d

    lower = DBN.from_rbms(dbn.rbms[:-1])
    top = RBM(lower.sizes[-1], 2, hidden="gaussian", seed=ctx.seed)
    top.fit(lower.transform(X), epochs=epochs, batch_size=100, lr=0.001, weight_decay=2e-4,
            seed=ctx.seed, verbose=ctx.progress)
    ae = DeepAutoencoder.from_dbn(DBN.from_rbms(list(lower.rbms) + [top]))
    ae.fit(X, epochs=epochs, batch_size=100, lr=1e-3, seed=ctx.seed, progress=ctx.progress)
    plot_codes_2d({"deep autoencoder 784-1000-500-250-2": ae.encode(Xt), "PCA (2 components)":
                   PCA(2).fit(X).transform(Xt)}, yt, path=ctx.picture("autoencoder_mnist_codes2d.png"),
                  title="codes of MNIST test images (Hinton & Salakhutdinov 2006, Fig. 3)")


def run(ctx) -> dict:
    from ..data import PCA, reconstruction_sse
    from ..energy import DBN
    from ..models import DeepAutoencoder
    from ..train import ModelCheckpoint
    from ..viz import plot_layer_filters, plot_reconstruction_rows

    X, _, Xt, yt = mnist(ctx, quick_train=2000, quick_test=1000)
    if ctx.quick:
        sizes, pre, ft, ft2 = [784, 64, 32, 16, 8], 1, 2, 1
    else:
        # 10 and 20 epochs: ~10 min on one idle core (2 and 3, sized for a machine loaded 10-20
        # deep, took 92 s idle and gave 5.39)
        sizes, pre, ft, ft2 = [784, 1000, 500, 250, 30], 10, 20, 2
    t0 = time.perf_counter()
    pca = PCA(sizes[-1]).fit(X)
    pca_error = reconstruction_sse(Xt, pca.reconstruct(Xt))
    ctx.log(f"PCA-{sizes[-1]}: {pca_error:.2f}")
    dbn = DBN(sizes, hidden=["bernoulli"] * (len(sizes) - 2) + ["gaussian"], seed=ctx.seed)
    dbn.pretrain(X, epochs=pre, batch_size=100, seed=ctx.seed, verbose=ctx.progress,
                 layers=[{}] * (len(sizes) - 2) + [{"lr": 0.001}],
                 checkpoint=ctx.checkpoint("autoencoder-mnist-pretrain"), resume=ctx.resume)
    ae = DeepAutoencoder.from_dbn(dbn)
    pretrained_error = reconstruction_sse(Xt, ae.reconstruct(Xt))
    t1 = time.perf_counter()
    ctx.log(f"pretrained ({pre} epochs per layer, {(t1 - t0) / 60:.1f} min): {pretrained_error:.2f}")
    ae.fit(X, epochs=ft, batch_size=100, lr=1e-3, seed=ctx.seed, progress=ctx.progress,
           callbacks=[ModelCheckpoint(ctx.checkpoint("autoencoder-mnist-finetune"))],
           resume_from=ctx.resume_from("autoencoder-mnist-finetune"))
    error = reconstruction_sse(Xt, ae.reconstruct(Xt))
    t2 = time.perf_counter()
    ctx.log(f"fine-tuned ({ft} epochs, {(t2 - t1) / 60:.1f} min): {error:.2f}")
    plot_reconstruction_rows(Xt, {"deep autoencoder": ae.reconstruct(Xt[:10]), f"PCA-{sizes[-1]}":
                                  pca.reconstruct(Xt[:10])}, n=10,
                             path=ctx.picture("autoencoder_mnist_reconstructions.png"),
                             title="MNIST test images, their reconstructions (Hinton & Salakhutdinov 2006, Fig. 2)")
    plot_layer_filters(dbn, n=36, path=ctx.picture("autoencoder_mnist_filters.png"))
    _two_d(ctx, dbn, X[:10000], yt, Xt, ft2)
    return {"test_squared_error": error, "pca_test_squared_error": pca_error,
            "pretrained_test_squared_error": pretrained_error,
            "pretrain_minutes": (t1 - t0) / 60, "finetune_minutes": (t2 - t1) / 60,
            "figure3_minutes": (time.perf_counter() - t2) / 60}


register(Reproduction(
    name="autoencoder-mnist",
    title="Deep autoencoder 784-1000-500-250-30 vs PCA-30 on MNIST (Hinton & Salakhutdinov 2006)",
    published={"test_squared_error": 3.00, "pca_test_squared_error": 13.87},
    source="Hinton & Salakhutdinov (2006), Science 313, 'Reducing the dimensionality of data with "
           "neural networks', Fig. 2 / text",
    recipe="RBMs 784-1000-500-250 (CD-1, rbm.m) + 250-30 with Gaussian hidden units (lr 0.001), "
           "10 epochs each; unrolled; backprop on the cross-entropy with Adam (lr 1e-3, batch 100), 20 epochs",
    differences="10 pretraining epochs per layer instead of 50; 20 epochs of Adam instead of 200 of "
                "conjugate gradients; Fig. 3's 2-D autoencoder reuses the 30-D run's lower RBMs and "
                "is fine-tuned 2 epochs on 10 000 images",
    target={"test_squared_error": 5.0, "pca_test_squared_error": 13.87},
    minutes=10,
    run=run))
