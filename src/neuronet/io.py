"""Save and load models: one ``.npz`` file of arrays plus a JSON description.

Layout of the file (read with ``allow_pickle=False``, so a downloaded
checkpoint can never run code)::

    __meta__            JSON text: format version, the model spec (from
                        Module.spec(), nested Modules and arrays encoded),
                        optimiser state, epoch, RNG state, user metadata
    model/<name>        each parameter (and pruning mask) by dotted name
    arr/<k>             arrays referenced from the JSON ({"__array__": "arr/<k>"})

Only classes registered in :data:`neuronet.module.MODULES` can be built.
Writes go to a temporary name in the same folder and are renamed into place
(``os.replace`` is atomic), so a crash mid-save leaves the previous file intact.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .module import Module
from .random import rng_state, set_rng_state
from .spec import CheckpointError, build_module, decode_json, encode_json

__all__ = ["save", "load", "restore", "load_checkpoint", "Checkpoint", "CheckpointError",
           "build_module", "encode_json", "decode_json", "write_text_atomic"]

FORMAT = "neuronet-checkpoint/1"


def _named_modules(module: Module, prefix: str = ""):
    yield prefix, module
    for name, child in module.children():
        yield from _named_modules(child, prefix + name + ".")


def module_rng_states(model: Module) -> dict:
    """Bit-generator states of every Generator held by a sub-module (dropout masks),
    by ``"<module path><attribute>"``: needed for a bit-identical resume."""
    out = {}
    for prefix, m in _named_modules(model):
        for attr, v in m.__dict__.items():
            if isinstance(v, np.random.Generator):
                out[prefix + attr] = rng_state(v)
    return out


def set_module_rng_states(model: Module, states: dict) -> None:
    for prefix, m in _named_modules(model):
        for attr, v in m.__dict__.items():
            if isinstance(v, np.random.Generator) and prefix + attr in states:
                set_rng_state(v, states[prefix + attr])


# ---------------------------------------------------------------- writing
_TMP_MARK = ".neuronet-partial-"  # a temporary file's name: ".<name>.neuronet-partial-<pid>"
MAX_META_BYTES = 64 << 20          # the JSON description of a checkpoint, at most
MAX_META_DEPTH = 64                # and its nesting


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_partials(path: Path) -> None:
    """Delete what an interrupted save to ``path`` left (its writer is gone): the
    temporary files are named so that they can never be taken for ``path`` itself."""
    for tmp in path.parent.glob(f".{path.name}{_TMP_MARK}*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _atomic_savez(path: Path, arrays: dict) -> None:
    _atomic_write(path, lambda f: np.savez(f, **arrays))


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, like every save here (JSON records, reports)."""
    path = Path(path)
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(path)
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():  # the rename did not happen: leave no half-written file
            tmp.unlink()


def save(path, model: Module, optimizer=None, *, epoch: int | None = None, rng=None,
         extra: dict | None = None) -> Path:
    """Write ``model`` (architecture + weights) and optionally ``optimizer`` state.

    ``epoch``, ``rng`` (a Generator: its bit-generator state is stored) and ``extra``
    (a JSON-friendly dict, arrays allowed) are stored for exact resume and records.
    The write is atomic: temporary file, fsync, rename.
    """
    if not isinstance(model, Module):
        raise TypeError(f"save() takes a Module, got {type(model).__name__}")
    path = Path(path)
    arrays: dict = {}
    meta = {"format": FORMAT, "spec": encode_json(model.spec(), arrays, "model spec")}
    for name, a in model.state_dict().items():
        arrays["model/" + name] = a
    rngs = module_rng_states(model)
    if rngs:
        meta["module_rngs"] = encode_json(rngs, arrays, "module RNG states")
    if optimizer is not None:
        meta["optimizer"] = {"type": type(optimizer).__name__,
                             "state": encode_json(optimizer.state_dict(), arrays, "optimizer state")}
    if epoch is not None:
        meta["epoch"] = int(epoch)
    if rng is not None:
        meta["rng_state"] = encode_json(rng.bit_generator.state, arrays, "rng state")
    if extra is not None:
        meta["extra"] = encode_json(dict(extra), arrays, "extra")
    arrays["__meta__"] = np.array(json.dumps(meta))
    _atomic_savez(path, arrays)
    return path


# ---------------------------------------------------------------- reading
@dataclass
class Checkpoint:
    """What a checkpoint holds: the built model and everything needed to resume."""
    model: Module
    spec: dict = field(default_factory=dict)
    optimizer_type: str | None = None
    optimizer_state: dict | None = None
    epoch: int | None = None
    rng_state: dict | None = None
    extra: dict = field(default_factory=dict)

    def restore_rng(self, rng: np.random.Generator) -> None:
        if self.rng_state is None:
            raise CheckpointError("this checkpoint holds no RNG state")
        set_rng_state(rng, self.rng_state)


def _read_npz(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # np.load would otherwise try it as a pickle
            raise CheckpointError(f"{path}: not a readable .npz checkpoint (no zip header)")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise CheckpointError(f"{path}: holds object arrays, which would need pickle to "
                                  "load; refusing (not a neuronet checkpoint?)") from None
        raise CheckpointError(f"{path}: not a readable .npz checkpoint ({e})") from None
    except Exception as e:  # BadZipFile, EOFError, OSError from a truncated or foreign file
        raise CheckpointError(f"{path}: not a readable .npz checkpoint "
                              f"({type(e).__name__}: {e})") from None


def _depth(obj) -> int:
    """Nesting depth of decoded JSON, without recursion (a hostile file cannot blow the stack)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_META_DEPTH:
            break
        if isinstance(o, dict):
            stack += [(v, d + 1) for v in o.values()]
        elif isinstance(o, list):
            stack += [(v, d + 1) for v in o]
    return deepest


def _read_meta(raw, path: Path) -> dict:
    """The checkpoint's JSON description, within limits of size and depth and of the right form."""
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise CheckpointError(f"{path}: '__meta__' must be one JSON string, got an array of dtype "
                              f"{raw.dtype} and shape {raw.shape}")
    text = str(raw[()])
    if len(text) > MAX_META_BYTES:
        raise CheckpointError(f"{path}: the JSON description is {len(text)} characters, more than "
                              f"the limit of {MAX_META_BYTES}")
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"{path}: the JSON description is corrupt or nested too deeply "
                              f"({type(e).__name__})") from None
    if _depth(meta) > MAX_META_DEPTH:
        raise CheckpointError(f"{path}: the JSON description nests deeper than {MAX_META_DEPTH} levels")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{path}: format {got!r}, expected {FORMAT!r}")
    if not isinstance(meta.get("spec"), dict):
        raise CheckpointError(f"{path}: the JSON description has no model spec (a dict under 'spec')")
    for key, kind in (("optimizer", dict), ("epoch", int), ("rng_state", dict), ("extra", dict),
                      ("module_rngs", dict)):
        if meta.get(key) is not None and not isinstance(meta[key], kind):
            raise CheckpointError(f"{path}: '{key}' in the JSON description must be a "
                                  f"{kind.__name__}, got {type(meta[key]).__name__}")
    return meta


def load_checkpoint(path) -> Checkpoint:
    """Read a file written by :func:`save`: model built and filled, plus resume state."""
    path = Path(path)
    arrays = _read_npz(path)
    if "__meta__" not in arrays:
        raise CheckpointError(f"{path}: missing key '__meta__' (not a neuronet checkpoint)")
    meta = _read_meta(arrays["__meta__"], path)
    where = str(path)
    model = build_module(decode_json(meta["spec"], arrays, where), where)
    _fill(model, arrays, path)
    if "module_rngs" in meta:
        set_module_rng_states(model, decode_json(meta["module_rngs"], arrays, where))
    opt = meta.get("optimizer") or {}
    return Checkpoint(model=model, spec=meta["spec"],
                      optimizer_type=opt.get("type"),
                      optimizer_state=decode_json(opt["state"], arrays, where) if opt else None,
                      epoch=meta.get("epoch"),
                      rng_state=decode_json(meta["rng_state"], arrays, where) if "rng_state" in meta else None,
                      extra=decode_json(meta.get("extra", {}), arrays, where))


def _fill(model: Module, arrays: dict, path) -> None:
    """Copy the ``model/*`` arrays into ``model``, checking names and shapes."""
    state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    params = dict(model.named_parameters())
    missing = [n for n in params if n not in state]
    unexpected = [k for k in state if k.split(":")[0] not in params]
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not match the architecture "
                              f"{type(model).__name__}: missing {missing}, unexpected {unexpected}")
    for name, p in params.items():
        if tuple(state[name].shape) != tuple(p.shape):
            raise CheckpointError(f"{path}: parameter {name!r} should have shape "
                                  f"{tuple(p.shape)}, the file gives {tuple(state[name].shape)}")
    dtypes = {a.dtype for n, a in state.items() if ":" not in n}
    bad = sorted(str(d) for d in dtypes if d not in (np.float32, np.float64))
    if bad:  # the dtype policy: an integer "Dense" would truncate its inputs to 0
        raise CheckpointError(f"{path}: parameters must be float32 or float64, the file holds "
                              f"{', '.join(bad)}")
    if nonfinite := [n for n, a in state.items() if ":" not in n and not np.isfinite(a).all()]:
        raise CheckpointError(f"{path}: parameters {nonfinite} hold NaN or infinity; refused")
    if len(dtypes) == 1 and next(iter(dtypes)) != next(iter(params.values())).data.dtype:
        model.astype(next(iter(dtypes)))  # e.g. a float64 model saved from tests
    model.load_state_dict(state)
    for m in model.modules():
        m.check_state(str(path))


def load(path) -> Module:
    """The model saved at ``path``, built from its spec, with its weights."""
    return load_checkpoint(path).model


def restore(path, model: Module, optimizer=None) -> Checkpoint:
    """Load a checkpoint *into* an existing ``model`` (and ``optimizer``), for resuming.

    The saved architecture must equal ``model.spec()``; weights, dropout RNG
    states and optimiser state are copied in.  Returns the :class:`Checkpoint`
    (epoch, trainer RNG state, extra) with ``model`` set to the given one.
    """
    ck = load_checkpoint(path)
    if type(ck.model) is not type(model):
        raise CheckpointError(f"{path}: saved model is a {type(ck.model).__name__}, "
                              f"resuming into a {type(model).__name__}")
    params = dict(model.named_parameters())
    for name, p in ck.model.named_parameters():
        if name not in params or tuple(params[name].shape) != tuple(p.shape):
            got = tuple(params[name].shape) if name in params else "no such parameter"
            raise CheckpointError(f"{path}: parameter {name!r} has shape {tuple(p.shape)} in the "
                                  f"file, the model given has {got}")
    model.load_state_dict(ck.model.state_dict())
    set_module_rng_states(model, module_rng_states(ck.model))
    if optimizer is not None:
        if ck.optimizer_state is None:
            raise CheckpointError(f"{path}: holds no optimizer state to resume from")
        optimizer.load_state_dict(ck.optimizer_state)
    ck.model = model
    return ck
