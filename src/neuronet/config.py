"""Training configs: a TOML file read into a model, a loss, an optimiser, data and options.

A config has five tables::

    [data]      name = "mnist" | "fashion-mnist" | "digits" | "flower" | "xor" | "and" | "or"
                layout = "flat" (N, D) | "image" (N, 1, H, W); validation = "test" | 0.1
                standardize = true | false
    [model]     type = "MLP" (or any registered Module) and its constructor arguments,
                or layers = [{type = "Dense", n_in = 784, n_out = 512}, {type = "ReLU"}, ...]
    [loss]      type = "SoftmaxCrossEntropy" and its arguments (optional)
    [optimizer] type = "Adam", lr = 1e-3, ...
    [training]  epochs, batch_size, seed, smoothing, clip_grad_norm, checkpoint_every,
                schedule = {type = "StepLR", step = 3, gamma = 0.5},
                early_stopping = {monitor = "val_loss", patience = 3}

Every mistake raises :class:`ConfigError` (a ``ValueError``) whose message names the
config key, what was expected and what came; classes are looked up only in the
library's registry (:mod:`neuronet.registry`), so a config can never run code.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .registry import REGISTRIES

__all__ = ["ConfigError", "load_config", "build_model", "build_from_config", "load_data",
           "training_options", "build_callbacks", "check_model_fits_data"]

_TRAINING_KEYS = {"epochs": int, "batch_size": int, "seed": int, "smoothing": float,
                  "clip_grad_norm": float, "checkpoint_every": int, "schedule": dict,
                  "early_stopping": dict}


class ConfigError(ValueError):
    """A config that cannot be used; ``key`` names the offending entry."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}")


def load_config(path) -> dict:
    """Read a TOML file (``tomllib``, or ``tomli`` before Python 3.11) and check its tables."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), "config file not found")
    try:
        with open(path, "rb") as f:
            cfg = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), f"not valid TOML: {e}") from None
    for section in ("data", "model", "optimizer", "training"):
        if not isinstance(cfg.get(section), dict):
            raise ConfigError(f"[{section}]", f"{path} has no [{section}] table")
    training_options(cfg)
    return cfg


def _split_type(table, key: str):
    if not isinstance(table, dict):
        raise ConfigError(key, f"expected a table with a 'type', got {type(table).__name__}")
    table = dict(table)
    if "type" not in table:
        raise ConfigError(key, "needs a 'type' (a class name)")
    return table.pop("type"), table


def _build(kind: str, table, key: str, *first):
    name, args = _split_type(table, key)
    try:
        cls = REGISTRIES[kind].get_class(name)
        return cls(*first, **args)
    except (TypeError, ValueError) as e:
        raise ConfigError(key, f"cannot build {kind} {name!r}: {e}") from None


def build_model(cfg: dict):
    """A Module from the [model] table: ``type`` + arguments, or a ``layers`` list."""
    from .io import CheckpointError, build_module
    from .layers.containers import Sequential
    cfg = dict(cfg)
    try:
        if "layers" in cfg:
            if not isinstance(cfg["layers"], list) or not cfg["layers"]:
                raise ConfigError("[model] layers", "expected a non-empty list of tables")
            layers = []
            for i, layer in enumerate(cfg["layers"]):
                name, args = _split_type(layer, f"[model] layers[{i}]")
                layers.append(build_module({"type": name, "args": args}, f"[model] layer {i}"))
            return Sequential(*layers)
        name, args = _split_type(cfg, "[model]")
        return build_module({"type": name, "args": args}, "[model]")
    except (CheckpointError, TypeError) as e:
        raise ConfigError("[model]", str(e)) from None
    except ValueError as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError("[model]", str(e)) from None


def build_from_config(cfg: dict):
    """``(model, loss, optimizer)`` from a config dict."""
    model = build_model(cfg["model"])
    loss = _build("loss", cfg.get("loss", {"type": "SoftmaxCrossEntropy"}), "[loss]")
    opt = _build("optimizer", cfg["optimizer"], "[optimizer]", model.parameters())
    return model, loss, opt


def training_options(cfg: dict) -> dict:
    """The [training] table with every value checked against its expected type and range."""
    t = dict(cfg.get("training", {}))
    for key, value in t.items():
        want = _TRAINING_KEYS.get(key)
        if want is None:
            raise ConfigError(f"[training] {key}", f"unknown option; known: {', '.join(_TRAINING_KEYS)}")
        ok = isinstance(value, want) and not isinstance(value, bool) or \
            (want is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            raise ConfigError(f"[training] {key}", f"expected {want.__name__}, got {value!r}")
    for key in ("epochs", "batch_size", "checkpoint_every"):
        if key in t and t[key] < 1:
            raise ConfigError(f"[training] {key}", f"must be >= 1, got {t[key]}")
    if "smoothing" in t and not 0 < t["smoothing"] <= 1:
        raise ConfigError("[training] smoothing", f"must be in (0, 1], got {t['smoothing']}")
    if "clip_grad_norm" in t and t["clip_grad_norm"] <= 0:
        raise ConfigError("[training] clip_grad_norm", f"must be > 0, got {t['clip_grad_norm']}")
    return t


def build_callbacks(tcfg: dict) -> list:
    """The learning-rate schedule and early stopping named in the [training] table."""
    cbs = []
    if "schedule" in tcfg:
        cbs.append(_build("callback", tcfg["schedule"], "[training] schedule"))
    if "early_stopping" in tcfg:
        cbs.append(_build("callback", dict(tcfg["early_stopping"], type="EarlyStopping"),
                          "[training] early_stopping"))
    return cbs


def check_model_fits_data(model, X) -> None:
    """One forward pass on two objects, so a size mismatch is named before training starts."""
    was = model.training
    model.eval()
    try:
        model.forward(X[:2])
    except (ValueError, TypeError) as e:
        raise ConfigError("[model]", f"does not fit the data of shape {tuple(X.shape[1:])} per "
                                     f"object: {e}") from None
    finally:
        model.train(was)


def load_data(cfg: dict):
    """``(X_train, y_train, X_test, y_test)`` as float32 arrays and integer labels."""
    from . import data as D
    name = str(cfg.get("name", "")).lower()
    layout = cfg.get("layout", "flat")
    if layout not in ("flat", "image"):
        raise ConfigError("[data] layout", f"must be 'flat' or 'image', got {layout!r}")
    if name in ("flower", "xor", "and", "or"):
        return _toy(name, cfg)
    if name in ("mnist", "fashion-mnist", "fashion_mnist"):
        loader = D.load_mnist if name == "mnist" else D.load_fashion_mnist
        try:
            (xi, yi), (xt, yt) = loader("train"), loader("test")
        except D.DataError as e:
            raise ConfigError("[data] name", str(e)) from None
        xi, xt = D.to_float(xi), D.to_float(xt)
    elif name == "digits":
        (xi, yi), (xt, yt) = D.load_digits("train"), D.load_digits("test")
        xi, xt = xi.reshape(-1, 8, 8), xt.reshape(-1, 8, 8)
    else:
        raise ConfigError("[data] name", f"unknown data set {name!r}; known: mnist, fashion-mnist, "
                                         "digits, flower, xor, and, or")
    if layout == "flat":
        xi, xt = xi.reshape(len(xi), -1), xt.reshape(len(xt), -1)
    else:
        xi, xt = xi[:, None], xt[:, None]
    if cfg.get("standardize"):
        st = D.Standardizer().fit(xi)
        xi, xt = st.transform(xi), st.transform(xt)
    return xi, yi.astype(np.int64), xt, yt.astype(np.int64)


def _toy(name: str, cfg: dict):
    from . import data as D
    if name in ("xor", "and", "or"):
        X, y = D.logic_table(name)
        X = X.astype(np.float32)
        return X, y, X, y
    X, y = D.make_flower(int(cfg.get("n", 400)), noise=float(cfg.get("noise", 0.2)),
                         seed=int(cfg.get("seed", 0)), dtype=np.float32)
    perm = np.random.default_rng(int(cfg.get("seed", 0))).permutation(len(X))
    X, y = X[perm], y[perm]
    k = int(len(X) * 0.75)
    return X[:k], y[:k], X[k:], y[k:]
