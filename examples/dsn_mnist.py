"""A Deep Stacking Network on MNIST: modules trained one after another, the error after each.

Module m sees the pixels beside the predictions of every module below,
z_m = [x, y_1, …, y_{m−1}], and predicts y_m = σ(z_m W_m + b_m) U_m. Its upper
weights are the ridge solution U = (HᵀH + λI)⁻¹HᵀT (one h×h solve from sums over
the data); its lower weights take a few full-batch gradient steps on ‖H U(W) − T‖²
with U kept at that solution. A checkpoint is written after every module:
interrupt the run and start it again with --resume to continue where it stopped.

    python examples/dsn_mnist.py                          # 3 modules of 500 units, 20000 rows
    python examples/dsn_mnist.py --rows 60000 --hidden 1000 --modules 4 --backprop 1
    python examples/dsn_mnist.py --resume                 # skip the modules already trained
"""
from __future__ import annotations

import argparse

import neuronet as nt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20000, help="training images (of 60000)")
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--modules", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3, help="fine-tuning steps per module")
    ap.add_argument("--ridge", type=float, default=1.0)
    ap.add_argument("--backprop", type=int, default=0, help="epochs of backprop over the stack")
    ap.add_argument("--checkpoint", default="dsn_mnist.npz")
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()

    X, y = nt.data.load_mnist("train")
    Xt, yt = nt.data.load_mnist("test")
    X, y = nt.data.to_float(X[:args.rows], flatten=True), y[:args.rows]
    Xt = nt.data.to_float(Xt, flatten=True)

    dsn = nt.models.DSN(784, 10, args.hidden, args.modules, ridge=args.ridge, seed=0)
    records = dsn.fit(X, y, finetune_iters=args.steps, finetune_lr=400.0, validation=(Xt, yt),
                      checkpoint=args.checkpoint, resume=args.resume, progress=True,
                      backprop_epochs=args.backprop)
    print("\nmodule   objective J   train error   test error   seconds")
    for r in records:
        print(f"{r['module']:>6}   {r['objective']:11.4f}   {100 * r['train_error']:10.2f} %"
              f"   {100 * r['val_error']:9.2f} %   {r['time_s']:7.1f}")
    if args.backprop:
        print(f"after {args.backprop} epoch(s) of backprop: test error "
              f"{100 * (1 - dsn.score(Xt, yt)):.2f} %")


if __name__ == "__main__":
    main()
