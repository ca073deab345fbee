"""The neuronet command: help, demo, train/resume/evaluate, data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from neuronet.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_help_of_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("demo", "train", "evaluate", "data"):
        assert cmd in out
    for cmd, words in [("demo", ["--epochs", "--out"]), ("train", ["--resume", "--out", "config"]),
                       ("evaluate", ["checkpoint", "--data"]), ("data", ["list", "verify", "fetch"])]:
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert all(w in out for w in words), (cmd, out)


def test_entry_point_runs_as_a_program():
    r = subprocess.run([sys.executable, "-m", "neuronet.cli", "data", "--help"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "verify" in r.stdout


def test_demo_prints_accuracy_and_writes_curve(tmp_path, capsys):
    assert main(["demo", "--epochs", "8", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("test accuracy:")[1].split("%")[0])
    assert acc > 90.0
    png = tmp_path / "demo_curves.png"
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"


def test_train_resume_evaluate(tmp_path, capsys):
    cfg = ROOT / "examples" / "digits_mlp.toml"
    out = tmp_path / "run"
    assert main(["train", str(cfg), "--out", str(out), "--epochs", "2", "--no-progress"]) == 0
    hist = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in hist] == [1, 2]
    assert main(["train", str(cfg), "--out", str(out), "--epochs", "4", "--no-progress",
                 "--resume"]) == 0
    hist = json.loads((out / "history.json").read_text())
    assert [r["epoch"] for r in hist] == [1, 2, 3, 4]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 4 and metrics["test_accuracy"] > 0.8
    assert (out / "curves.png").is_file()
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.npz"), "--confusion"]) == 0
    text = capsys.readouterr().out
    assert f"test accuracy {100 * metrics['test_accuracy']:.2f} %" in text
    assert "confusion matrix" in text


def _fails(capsys, argv, *words):
    """The command returns 2 and prints one line naming what was wrong, no traceback."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("neuronet: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_train_errors(tmp_path, capsys):
    _fails(capsys, ["train", str(tmp_path / "none.toml")], "config file not found")
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nname = "digits"\n[model]\ntype = "NoSuchNet"\n[optimizer]\ntype = "SGD"\n'
                   'lr = 0.1\n[training]\nepochs = 1\n')
    _fails(capsys, ["train", str(bad), "--out", str(tmp_path / "o"), "--no-progress"],
           "[model]", "unknown module class 'NoSuchNet'")
    _fails(capsys, ["train", str(ROOT / "examples" / "digits_mlp.toml"), "--out", str(tmp_path / "x"),
                    "--resume"], "no checkpoint")
    (tmp_path / "j.npz").write_text("junk")
    _fails(capsys, ["evaluate", str(tmp_path / "j.npz")], "not a readable")


GOOD = ('[data]\nname = "digits"\n[model]\ntype = "MLP"\nsizes = [64, 16, 10]\n'
        '[optimizer]\ntype = "SGD"\nlr = 0.1\n[training]\nepochs = 1\n')


@pytest.mark.parametrize("text, words", [
    ("[data\nname = 1", ["not valid TOML"]),
    (GOOD.replace('type = "SGD"', 'type = "Sgd"'), ["[optimizer]", "unknown optimizer 'Sgd'"]),
    (GOOD.replace("epochs = 1", "epochs = 0"), ["[training] epochs", "must be >= 1, got 0"]),
    (GOOD.replace("epochs = 1", 'epochs = "ten"'), ["[training] epochs", "expected int"]),
    (GOOD.replace("epochs = 1", "epoch = 3"), ["[training] epoch", "unknown option"]),
    (GOOD.replace("lr = 0.1", "lr = -1.0"), ["[optimizer]", "lr"]),
    (GOOD.replace("[64, 16, 10]", "[784, 16, 10]"), ["[model]", "does not fit the data", "784"]),
    (GOOD.replace('name = "digits"', 'name = "cifar"'), ["[data] name", "unknown data set 'cifar'"]),
    (GOOD + "schedule = {type = \"Nope\"}\n", ["[training] schedule", "unknown callback 'Nope'"]),
    (GOOD.replace("[training]\nepochs = 1\n", ""), ["[training]", "no [training] table"]),
])
def test_every_bad_config_is_one_line_and_status_2(tmp_path, capsys, text, words):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    _fails(capsys, ["train", str(cfg), "--out", str(tmp_path / "o"), "--no-progress"], *words)


def test_bad_config_from_the_shell_has_no_traceback(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(GOOD.replace("epochs = 1", "epochs = 0"))
    r = subprocess.run([sys.executable, "-m", "neuronet.cli", "train", str(cfg), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "neuronet: [training] epochs: must be >= 1, got 0"


def test_data_commands(data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEURONET_DATA", str(data_dir))
    assert main(["data", "verify", "mnist"]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok ") == 4
    assert main(["data", "list"]) == 0
    assert "mnist" in capsys.readouterr().out
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["data", "verify", "fashion-mnist"]) == 1
    assert "missing" in capsys.readouterr().out


@pytest.mark.slow
def test_mnist_mlp_reaches_98_percent(data_dir, tmp_path):
    """Issue 3's proof: `neuronet train examples/mnist_mlp.toml` >= 98.0 % test accuracy."""
    env = dict(os.environ, NEURONET_DATA=str(data_dir))
    r = subprocess.run([sys.executable, "-m", "neuronet.cli", "train",
                        str(ROOT / "examples" / "mnist_mlp.toml"), "--out", str(tmp_path),
                        "--no-progress"], capture_output=True, text=True, env=env, timeout=7200)
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"] <= 10
    assert metrics["test_accuracy"] >= 0.98, metrics


def test_logic_example_runs():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "logic_neurons.py")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "never 0" in r.stdout and r.stdout.count("(truth [0, 1, 1, 0])") == 3
