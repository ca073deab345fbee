"""`neuronet reproduce`: every registered entry's --quick run end to end, the record it
writes, --list, bad names, Ctrl-C and --resume, --report."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt
from neuronet import reproduce as R
from neuronet.cli import main
from neuronet.reproduce.runner import record_path, run_entry

TOY = "toy-test-entry"


@pytest.fixture(autouse=True)
def _data(data_dir, monkeypatch):
    monkeypatch.setenv("NEURONET_DATA", str(data_dir))


@pytest.mark.parametrize("name", R.names())
def test_quick_run_writes_its_record(name, tmp_path, capsys):
    entry = R.get(name)
    assert main(["reproduce", name, "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    rec = json.loads(record_path(tmp_path, name, quick=True).read_text())
    assert rec["name"] == name and rec["quick"] is True and rec["seed"] == 0
    for metric, published in entry.published.items():
        value = rec["ours"][metric]
        assert isinstance(value, (int, float)) and math.isfinite(value), (metric, value)
        row = next(r for r in rec["rows"] if r["metric"] == metric)
        assert row["published"] == published
        assert row["difference"] == pytest.approx(value - published)
        assert row["meets_target"] is None  # a quick run is not judged
        assert metric in printed
    assert rec["neuronet"] == nt.__version__
    assert rec["machine"]["cores"] >= 1 and rec["machine"]["blas"]
    assert 0 < rec["seconds"] < 60
    for pic in rec["pictures"]:
        assert Path(pic).is_file() and Path(pic).stat().st_size > 0
    assert "differences from the paper" in printed or not entry.differences


@pytest.mark.slow
@pytest.mark.parametrize("name", R.names())
def test_full_run_reaches_its_target(name, tmp_path):
    """The full recipe (minutes each; what docs/results.md reports) meets every target it sets."""
    rec = run_entry(R.get(name), tmp_path, progress=False)
    missed = [(r["metric"], r["ours"], r["target"]) for r in rec["rows"] if r["meets_target"] is False]
    assert not missed, missed


def test_list_shows_every_entry_with_its_published_number(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in R.names():
        e = R.get(name)
        assert f"{name}  (" in out and e.source in out and e.recipe in out
        for v in e.published.values():
            assert f"{v:g}" in out


def test_unknown_name_is_a_clear_error(capsys):
    assert main(["reproduce", "no-such", "--quick"]) == 2
    assert re.search(r"unknown reproduction 'no-such'.*known: .*logreg-mnist", capsys.readouterr().err)
    assert main(["reproduce"]) == 2
    assert "give NAME" in capsys.readouterr().err


def test_registry_rejects_duplicates_and_non_entries():
    with pytest.raises(ValueError, match="already registered"):
        R.register(R.get("logreg-mnist"))
    with pytest.raises(TypeError, match="Reproduction"):
        R.register({"name": "x"})
    with pytest.raises(KeyError, match="no reproduction named 'x'"):
        R.get("x")


# ------------------------------------------------------------------ resume
class _Interrupt(nt.Callback):
    """Ctrl-C after epoch ``at`` (only while ``armed``)."""
    armed = True

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, trainer, epoch, logs):
        if _Interrupt.armed and epoch == self.at:
            raise KeyboardInterrupt


def _toy_run(ctx):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = nt.models.MLP([5, 8, 2], dropout=0.3, seed=ctx.seed)
    opt = nt.optim.Adam(model.parameters(), lr=1e-2)
    kw = ctx.loop_kwargs("toy")
    hist = nt.fit(model, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=2 if ctx.quick else 6, batch_size=16,
                  seed=ctx.seed, callbacks=[_Interrupt(3)] + kw.pop("callbacks"), **kw)
    return {"loss": hist.records[-1]["loss"], "w": float(model.parameters()[0].data.sum()),
            "epochs": [r["epoch"] for r in hist.records]}


@pytest.fixture
def toy_entry():
    entry = R.register(R.Reproduction(name=TOY, title="toy", published={"loss": 0.1}, source="test",
                                      recipe="MLP on noise", run=_toy_run))
    yield entry
    del R.REGISTRY[TOY]
    _Interrupt.armed = True


def test_interrupted_run_resumes_to_the_uninterrupted_result(toy_entry, tmp_path, capsys):
    args = ["reproduce", TOY, "--out", str(tmp_path / "a"), "--no-progress"]
    assert main(args) == 130
    assert "--resume" in capsys.readouterr().err
    assert not record_path(tmp_path / "a", TOY).exists()
    _Interrupt.armed = False
    assert main(args + ["--resume"]) == 0
    resumed = json.loads(record_path(tmp_path / "a", TOY).read_text())
    full = run_entry(toy_entry, tmp_path / "b", progress=False)
    assert resumed["resumed"] is True and resumed["ours"]["epochs"] == [1, 2, 3, 4, 5, 6]
    assert resumed["ours"]["loss"] == full["ours"]["loss"]
    assert resumed["ours"]["w"] == full["ours"]["w"]


def test_run_must_return_the_published_metrics(tmp_path):
    bad = R.Reproduction(name="bad", title="", published={"err": 1.0}, source="", recipe="",
                         run=lambda ctx: {"other": 2.0})
    with pytest.raises(ValueError, match=r"did not return the published metrics \['err'\]"):
        run_entry(bad, tmp_path, progress=False)
    worse = R.Reproduction(name="worse", title="", published={}, source="", recipe="",
                           run=lambda ctx: 3.0)
    with pytest.raises(TypeError, match="must return a dict"):
        run_entry(worse, tmp_path, progress=False)


# ------------------------------------------------------------------ pieces of the recipes
def test_nudged_digits_equal_scikit_learns_convolutions():
    from scipy.ndimage import convolve

    from neuronet.reproduce.rbm_digits_logreg import nudge
    X = np.random.default_rng(0).random((7, 64))
    kernels = [np.eye(1, 9, k).reshape(3, 3) for k in (1, 3, 5, 7)]  # scikit-learn's example
    want = np.concatenate([X] + [np.stack([convolve(im, w, mode="constant") for im in X.reshape(-1, 8, 8)])
                                 .reshape(7, 64) for w in kernels])
    np.testing.assert_array_equal(nudge(X), want)


def test_mlp_with_input_dropout_backpropagates():
    model = nt.models.MLP([6, 5, 3], input_dropout=0.2, dropout=0.5, seed=0)
    x = np.random.default_rng(0).random((4, 6)).astype(np.float32)
    loss = nt.SoftmaxCrossEntropy()
    loss.forward(model.forward(x), np.array([0, 1, 2, 0]))
    assert model.backward(loss.backward()) is None      # the first Dense needs no input gradient
    assert all(np.abs(p.grad).sum() > 0 for p in model.parameters())


# ------------------------------------------------------------------ --report
def test_report_fills_the_marked_tables_from_full_records_only(toy_entry, tmp_path):
    _Interrupt.armed = False
    records = tmp_path / "records"
    full = run_entry(toy_entry, records, progress=False)
    quick = run_entry(toy_entry, records, quick=True, progress=False)
    assert quick["ours"]["loss"] != full["ours"]["loss"]     # the table must show the full one
    doc = tmp_path / "results.md"
    doc.write_text("# Results\n\nprose before\n\n<!-- reproduce:begin toy-test-entry -->\nstale\n"
                   "<!-- reproduce:end -->\n\nprose between\n\n<!-- reproduce:begin -->\n"
                   "<!-- reproduce:end -->\nprose after\n")
    assert main(["reproduce", "--report", "--out", str(records), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert "stale" not in text
    for prose in ("prose before", "prose between", "prose after"):
        assert text.count(prose) == 1
    first, second = text.split("prose between")
    row = next(line for line in first.splitlines() if line.startswith(f"| `{TOY}`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "loss" and cells[2] == "0.1" and cells[3] == f"**{full['ours']['loss']:.5g}**"
    assert cells[4] == f"{full['ours']['loss'] - 0.1:.5g}"
    assert "logreg-mnist" not in first                       # the first table names only the toy
    assert "| `logreg-mnist` | test_error_pct | 7.489 | not run |" in second
    assert f"`{TOY}` (test): MLP on noise." in second
    assert main(["reproduce", "--report", "--out", str(records), "--doc", str(doc)]) == 0
    assert doc.read_text() == text                            # regenerating changes nothing


def test_report_keeps_the_rows_of_entries_without_a_record(toy_entry, tmp_path):
    _Interrupt.armed = False
    records, empty = tmp_path / "records", tmp_path / "empty"
    empty.mkdir()
    full = run_entry(toy_entry, records, progress=False)
    doc = tmp_path / "results.md"
    doc.write_text("<!-- reproduce:begin -->\n<!-- reproduce:end -->\n")
    assert main(["reproduce", "--report", "--out", str(records), "--doc", str(doc)]) == 0
    generated = doc.read_text()
    assert f"**{full['ours']['loss']:.5g}**" in generated
    assert main(["reproduce", "--report", "--out", str(empty), "--doc", str(doc)]) == 0
    assert doc.read_text() == generated                      # rows and recipe line kept, run cell too
    path = record_path(records, TOY)
    rec = json.loads(path.read_text())
    rec["rows"][0]["ours"] = 123.0
    path.write_text(json.dumps(rec))
    assert main(["reproduce", "--report", "--out", str(records), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert "**123**" in text and f"**{full['ours']['loss']:.5g}**" not in text   # a record wins
    assert text.count(f"* `{TOY}` (test)") == 1
    assert "| `logreg-mnist` | test_error_pct | 7.489 | not run |" in text
    assert "resumed" not in text
    rec["resumed"] = True                                    # a --resume run says so beside its time
    path.write_text(json.dumps(rec))
    assert main(["reproduce", "--report", "--out", str(records), "--doc", str(doc)]) == 0
    row = next(line for line in doc.read_text().splitlines() if line.startswith(f"| `{TOY}`"))
    assert row.rstrip().endswith(", resumed |")


def test_report_lists_an_entry_without_a_published_number(tmp_path):
    entry = R.register(R.Reproduction(name="toy-noref", title="", published={}, source="lecture", recipe="r",
                                      run=lambda ctx: {"width": 4}))
    try:
        run_entry(entry, tmp_path, progress=False)
        doc = tmp_path / "results.md"
        doc.write_text("<!-- reproduce:begin toy-noref -->\n<!-- reproduce:end -->\n")
        assert main(["reproduce", "--report", "--out", str(tmp_path), "--doc", str(doc)]) == 0
        row = next(line for line in doc.read_text().splitlines() if line.startswith("| `toy-noref` |"))
        assert "(no published number)" in row and "UTC" in row
    finally:
        del R.REGISTRY["toy-noref"]


def test_report_needs_markers_and_known_names(tmp_path):
    doc = tmp_path / "results.md"
    doc.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="no '<!-- reproduce:begin -->'"):
        main(["reproduce", "--report", "--out", str(tmp_path), "--doc", str(doc)])
    doc.write_text("<!-- reproduce:begin no-such -->\n<!-- reproduce:end -->\n")
    with pytest.raises(SystemExit, match=r"unknown reproductions \['no-such'\]"):
        main(["reproduce", "--report", "--out", str(tmp_path), "--doc", str(doc)])
