"""The ``neuronet`` command: demo, train, evaluate, data.

``neuronet train CONFIG.toml`` reads a config (see :mod:`neuronet.config`)
and writes ``checkpoint.npz`` (every epoch, atomic), ``model.npz`` (the final
model), ``history.json``,
``curves.png`` and ``metrics.json`` into the output folder; ``--resume``
continues from the checkpoint exactly.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "load_config", "build_model", "build_from_config", "load_data"]


from .config import (ConfigError, build_callbacks, build_from_config, build_model,  # noqa: F401
                     check_model_fits_data, load_config, load_data, training_options)


class UsageError(ValueError):
    """A command-line mistake that is not in a config (a missing checkpoint, say)."""


# ------------------------------------------------------------------ commands
def _callbacks(tcfg: dict, ckpt: Path, progress: bool, cfg: dict):
    from .train import callbacks as C
    cbs = build_callbacks(tcfg)
    # every checkpoint carries the config, so `neuronet evaluate` knows the data
    cbs.append(C.ModelCheckpoint(ckpt, every=int(tcfg.get("checkpoint_every", 1)), extra={"config": cfg}))
    if progress:
        cbs.append(C.ProgressBar())
    return cbs


def _run_setup(args):
    """Config, output folder, checkpoint path, data, model, loss and optimiser of a run."""
    from .distributed import get_communicator
    cfg = load_config(args.config)
    tcfg = training_options(cfg)
    if args.epochs is not None:
        tcfg["epochs"] = args.epochs
        training_options({"training": tcfg})
    out = Path(args.out or Path("runs") / Path(args.config).stem)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.npz"
    if args.resume and not ckpt.is_file():
        raise UsageError(f"--resume: no checkpoint at {ckpt}")
    t0 = time.perf_counter()
    data = load_data(cfg["data"])
    t_data = time.perf_counter() - t0
    model, loss, opt = build_from_config(cfg)
    check_model_fits_data(model, data[0])
    if get_communicator("auto").is_root:  # under mpiexec: one report, from rank 0
        print(f"neuronet: {cfg['data']['name']}: {len(data[0])} training, {len(data[2])} test objects "
              f"(loaded in {t_data:.1f} s); model {type(model).__name__} with "
              f"{model.num_parameters()} weights; {type(opt).__name__} lr={opt.lr:g}", flush=True)
    return cfg, tcfg, out, ckpt, data, (model, loss, opt)


def _write_results(args, cfg, out, ckpt, hist, model, loss, test, train_time, final):
    """history.json, metrics.json, curves.png and the closing line of a run (``final``: the
    model.npz written: best weights if early stopping restored them; checkpoint.npz stays
    the exact state of the last epoch, for --resume)."""
    from .train.supervised import evaluate
    res = evaluate(model, loss, *test)
    metrics = {"test_loss": res["loss"], "test_accuracy": res.get("accuracy"),
               "epochs": hist.trainer.epoch,
               "mean_epoch_time_s": float(np.mean([r["time"] for r in hist.records])),
               "train_time_s": train_time}
    (out / "history.json").write_text(json.dumps(hist.records, indent=1))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    try:
        from .viz.curves import plot_history
        plot_history(hist, out / "curves.png", title=Path(args.config).stem)
    except ImportError:
        pass
    acc = res.get("accuracy")
    acc_txt = f", test accuracy {100 * acc:.2f} %" if acc is not None else ""
    print(f"neuronet: {hist.trainer.epoch} epochs, mean epoch {metrics['mean_epoch_time_s']:.3g} s; "
          f"test loss {res['loss']:.4f}{acc_txt}; wrote {final} (final model), {ckpt} (for --resume), "
          f"{out / 'curves.png'}")


def cmd_train(args) -> int:
    from .train.supervised import fit
    cfg, tcfg, out, ckpt, (Xtr, ytr, Xte, yte), (model, loss, opt) = _run_setup(args)
    val = cfg["data"].get("validation", "test")
    kw = {}
    if val == "test":
        kw["validation"] = (Xte, yte)
    elif val:
        kw["validation_split"] = float(val)
    t0 = time.perf_counter()
    hist = fit(model, loss, opt, Xtr, ytr, epochs=int(tcfg.get("epochs", 10)),
               batch_size=int(tcfg.get("batch_size", 32)), seed=tcfg.get("seed"),
               smoothing=float(tcfg.get("smoothing", 0.05)), clip_grad_norm=tcfg.get("clip_grad_norm"),
               callbacks=_callbacks(tcfg, ckpt, not args.no_progress, cfg),
               resume_from=ckpt if args.resume else None, comm="auto", **kw)
    # every rank takes part in the final checkpoint (each gives its step state); rank 0 writes
    final = hist.trainer.save_checkpoint(out / "model.npz", extra={"config": cfg})
    if hist.trainer.comm.is_root:  # under mpiexec: rank 0 reports and writes
        _write_results(args, cfg, out, ckpt, hist, model, loss, (Xte, yte), time.perf_counter() - t0,
                       final)
    return 0


def cmd_evaluate(args) -> int:
    from .io import CheckpointError, load_checkpoint
    from .config import _build
    from .train.metrics import confusion_matrix
    from .train.supervised import evaluate, predict
    try:
        ck = load_checkpoint(args.checkpoint)
    except (CheckpointError, FileNotFoundError) as e:
        raise UsageError(str(e)) from None
    cfg = (ck.extra or {}).get("config")
    if args.data:
        cfg = dict(cfg or {}, data=dict((cfg or {}).get("data", {}), name=args.data))
    if not cfg or "data" not in cfg:
        raise UsageError(f"{args.checkpoint} does not say which data it was trained on; "
                         "give --data NAME")
    _, _, Xte, yte = load_data(cfg["data"])
    loss = _build("loss", cfg.get("loss", {"type": "SoftmaxCrossEntropy"}), "[loss]")
    res = evaluate(ck.model, loss, Xte, yte)
    print(f"{args.checkpoint}: epoch {ck.epoch}, {len(Xte)} test objects of {cfg['data']['name']}")
    print(f"test loss {res['loss']:.4f}" + (f", test accuracy {100 * res['accuracy']:.2f} %, "
                                              f"error rate {100 * (1 - res['accuracy']):.2f} %"
                                              if "accuracy" in res else ""))
    if args.confusion:
        print("confusion matrix (rows: true class, columns: predicted):")
        print(confusion_matrix(yte, predict(ck.model, Xte)))
    return 0


def cmd_data(args) -> int:
    from . import data as D
    names = [args.name] if args.name else list(D.DATASETS)
    if args.action == "list":
        print(f"NEURONET_DATA={os.environ.get('NEURONET_DATA', '(not set)')}; cache {D.cache_dir()}")
        for n in names:
            ds = D.DATASETS[n]
            rows = D.verify(n)
            state = "complete" if all(r[2] == "ok" for r in rows) else \
                f"{sum(r[2] == 'ok' for r in rows)}/{len(rows)} files"
            print(f"{n:16s} {state:12s} {ds.home}")
        print("digits           built in     scikit-learn's 8x8 digits (pip install 'neuronet[sklearn]')")
        print("flower, xor      generated    the lecture's planar flower set and logic tables")
        return 0
    if args.action == "verify":
        bad = 0
        for n in names:
            for fname, path, status in D.verify(n):
                bad += status != "ok"
                print(f"{n:16s} {fname:28s} {status:13s} {path}")
        return 1 if bad else 0
    failed = 0
    for n in names:  # fetch: try every data set, then report
        try:
            paths = D.fetch(n, download=True)
        except D.DataError as e:
            print(f"neuronet: {e}", file=sys.stderr)
            failed += 1
            continue
        for fname, p in paths.items():
            print(f"{n:16s} {fname:28s} ok  {p}")
    return 1 if failed else 0


def cmd_demo(args) -> int:
    from . import data as D
    from .losses import SoftmaxCrossEntropy
    from .models.mlp import MLP
    from .optim import Adam
    from .train.callbacks import ProgressBar
    from .train.supervised import evaluate, fit
    Xtr, ytr = D.load_digits("train")
    Xte, yte = D.load_digits("test")
    model = MLP([64, 128, 10], activation="relu", seed=args.seed)
    loss = SoftmaxCrossEntropy()
    opt = Adam(model.parameters(), lr=3e-3)
    print(f"neuronet demo: scikit-learn's 8x8 digits, {len(Xtr)} training and {len(Xte)} test "
          f"images; MLP 64-128-10 (ReLU), Adam, {args.epochs} epochs")
    hist = fit(model, loss, opt, Xtr, ytr, epochs=args.epochs, batch_size=32, seed=args.seed,
               validation=(Xte, yte), callbacks=[ProgressBar()] if not args.no_progress else [])
    res = evaluate(model, loss, Xte, yte)
    out = Path(args.out)
    msg = ""
    try:
        from .viz.curves import plot_history
        plot_history(hist, out / "demo_curves.png", title="neuronet demo: digits")
        msg = f"; training curves in {out / 'demo_curves.png'}"
    except ImportError:
        msg = " (install matplotlib for the training-curve picture)"
    print(f"test accuracy: {100 * res['accuracy']:.2f} %{msg}")
    return 0


# ------------------------------------------------------------------ parser
def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="neuronet",
        description="neuronet: classic neural networks written out by hand in NumPy. "
                    "Train from a TOML config, evaluate checkpoints, manage data sets.",
        epilog="Data sets are looked up in $NEURONET_DATA, then in the user cache "
               "(~/.cache/neuronet). Examples: `neuronet demo`, "
               "`neuronet train examples/mnist_mlp.toml`, `neuronet data verify`.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in (_add_demo, _add_train, _add_evaluate, _add_data):
        add(sub)
    from .cli_reproduce import add_reproduce_parser
    add_reproduce_parser(sub)
    return p


def _add_demo(sub):
    d = sub.add_parser("demo", help="offline demo: train an MLP on scikit-learn's digits",
                       description="Train an MLP 64-128-10 on scikit-learn's 8x8 digits (offline), "
                                   "print the test accuracy and write a training-curve PNG.")
    d.add_argument("--epochs", type=int, default=30, help="number of epochs (default 30)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    d.add_argument("--out", default=".", help="folder for demo_curves.png (default: current folder)")
    d.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    d.set_defaults(func=cmd_demo)


def _add_train(sub):
    t = sub.add_parser("train", help="train a model described in a TOML config",
                       description="Train the model of CONFIG.toml ([data], [model], [loss], "
                                   "[optimizer], [training] tables; see examples/mnist_mlp.toml). "
                                   "Writes checkpoint.npz every epoch (atomically), model.npz (the "
                                   "final model, for `neuronet evaluate`), history.json, "
                                   "metrics.json and curves.png into the output folder.")
    t.add_argument("config", help="the TOML config file")
    t.add_argument("--out", help="output folder (default runs/<config name>)")
    t.add_argument("--resume", action="store_true",
                   help="continue exactly from OUT/checkpoint.npz (weights, optimiser, RNG, epoch)")
    t.add_argument("--epochs", type=int, help="override [training] epochs (the epoch to train up to)")
    t.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    t.set_defaults(func=cmd_train)


def _add_evaluate(sub):
    e = sub.add_parser("evaluate", help="evaluate a checkpoint on its test set",
                       description="Load CHECKPOINT (written by `neuronet train`) and print the test "
                                   "loss and accuracy on the data set it was trained on.")
    e.add_argument("checkpoint", help="a .npz checkpoint")
    e.add_argument("--data", help="data set name, if the checkpoint does not record it")
    e.add_argument("--confusion", action="store_true", help="also print the confusion matrix")
    e.set_defaults(func=cmd_evaluate)


def _add_data(sub):
    from .data.registry import DATASETS
    a = sub.add_parser("data", help="list, verify or fetch the data sets (" + ", ".join(DATASETS) + ")",
                       description="list: where each data set is and whether it is complete; "
                                   "verify: check every file's MD5 (exit status 1 if any is bad "
                                   "or missing); fetch: download missing files into the cache, "
                                   "verified, atomically.")
    a.add_argument("action", choices=["list", "verify", "fetch"], help="what to do")
    a.add_argument("name", nargs="?", choices=list(DATASETS),
                   help="one data set (default: all)")
    a.set_defaults(func=cmd_data)


def main(argv=None) -> int:
    """Entry point of the ``neuronet`` command; returns the exit status.

    A bad config or argument prints one line naming it and returns 2 (no traceback).
    """
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, UsageError) as e:
        print(f"neuronet: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
