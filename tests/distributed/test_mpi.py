"""Data-parallel training on 2 local MPI ranks equals one process on the combined batch.

The MPI runs start ``mpiexec -n 2`` on this machine (loopback only) with a
timeout; without mpi4py or an ``mpiexec`` they skip. The single-process tests
below them need neither.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt
from neuronet import distributed as D
from neuronet.energy import RBM, ais
from neuronet.energy.cd import ContrastiveDivergence
from neuronet.models.dsn_module import UpperSolution, upper_statistics

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import mpi_worker as W  # noqa: E402

SRC = HERE.parents[1] / "src"


def _mpiexec():
    found = shutil.which("mpiexec", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                           os.environ.get("PATH", "")]))
    return found


def run_mpi(scenarios: str, out: Path, n: int = 2, timeout: float = 120, program=None):
    """``mpiexec -n 2 python mpi_worker.py SCENARIOS OUT`` (or ``program``, a list of arguments)
    on loopback; returns the CompletedProcess."""
    pytest.importorskip("mpi4py")
    mpiexec = _mpiexec()
    if mpiexec is None:
        pytest.skip("no mpiexec (pip install 'neuronet[mpi]')")
    env = dict(os.environ, OMP_NUM_THREADS="1", HYDRA_IFACE="lo",
               PYTHONPATH=os.pathsep.join([str(SRC), str(HERE), os.environ.get("PYTHONPATH", "")]))
    program = program or [sys.executable, str(HERE / "mpi_worker.py"), scenarios, str(out)]
    cmd = [mpiexec, "-n", str(n), *program]
    try:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"mpiexec did not finish in {timeout} s (a hang): {e.stderr}")


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpi")
    done = run_mpi("mlp,rbm,stats,loop,rbmfit,pcd,dsn,deep", out)
    assert done.returncode == 0, done.stderr[-3000:]
    return lambda name: [dict(np.load(out / f"{name}_rank{r}.npz")) for r in range(2)]


def test_mlp_equals_one_process_on_the_combined_batch(two_ranks):
    ranks = two_ranks("mlp")
    X, y = W.mlp_data()
    model = nt.models.MLP(W.MLP_SIZES, activation="tanh", seed=0, dtype=np.float64)
    loss = nt.SoftmaxCrossEntropy()
    opt = nt.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for s in range(W.MLP_STEPS):
        rows = slice(s * W.MLP_BATCH, (s + 1) * W.MLP_BATCH)
        opt.zero_grad()
        losses.append(loss(model.forward(X[rows]), y[rows]))
        model.backward(loss.backward())
        opt.step()
    for got in ranks:  # both ranks hold the single-process weights (rank 1 started elsewhere)
        for name, value in model.state_dict().items():
            np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(got["losses"], losses, rtol=1e-12)
        assert int(got["calls"]) == W.MLP_STEPS  # one allreduce per step


def test_rbm_cd_equals_one_process_with_the_same_samples(two_ranks):
    ranks = two_ranks("rbm")
    X = W.rbm_data()
    rbm = RBM(*W.RBM_SHAPE, seed=5, dtype=np.float64)
    recorder = _GradientRecorder(rbm.parameters())
    for s in range(W.RBM_STEPS):
        rows = np.arange(s * W.RBM_BATCH, (s + 1) * W.RBM_BATCH)
        halves = np.array_split(rows, 2)
        total = [np.zeros_like(p.data) for p in rbm.parameters()]
        for r, half in enumerate(halves):  # the samples rank r draws for its half
            rbm._rng = np.random.default_rng(W.rbm_seed(s, r))
            rbm.partial_fit(X[half], optimizer=recorder, weight_decay=0.0)
            for t, g in zip(total, recorder.grads):
                t += len(half) * g
        for p, t in zip(rbm.parameters(), total):
            p.data -= W.RBM_LR * t / len(rows)
    for got in ranks:
        for name, value in rbm.state_dict().items():
            np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-14, err_msg=name)


class _GradientRecorder:
    """An 'optimiser' that keeps the gradients instead of stepping."""

    def __init__(self, params):
        self.params = params

    def step(self):
        self.grads = [p.grad.copy() for p in self.params]


def test_rbm_fit_with_comm_equals_one_process_on_the_combined_batch(two_ranks):
    """RBM.fit(comm=) on 2 ranks, replayed in one process: the loop's order from the seed,
    each half of a batch sampled with that rank's stream, the CD gradients of the halves
    weighted by their sizes, then one SGD step (momentum, weight decay) on the mean."""
    ranks = two_ranks("rbmfit")
    X, kw = W.rbm_data()[:W.FIT_ROWS], W.rbm_fit_kwargs()
    rbm = RBM(*W.RBM_SHAPE, seed=5, dtype=np.float64)
    rbm.a.data[...] = rbm.visible.init_bias(X)
    order_rng = np.random.default_rng(kw["seed"])
    streams = [D.rank_generator(_copy(order_rng), _FakeRank(r, 2)) for r in range(2)]
    order_rng.integers(2**63)  # the draw the streams came from
    opt = nt.optim.SGD(rbm.parameters(), lr=kw["lr"], momentum=kw["momentum"],
                       weight_decay=kw["weight_decay"])
    cd, losses = ContrastiveDivergence(k=1), []
    for _ in range(kw["epochs"]):
        order, epoch_loss = order_rng.permutation(W.FIT_ROWS), 0.0
        for i in range(0, W.FIT_ROWS, W.FIT_BATCH):
            batch = order[i:i + W.FIT_BATCH]
            total = [np.zeros_like(p.data) for p in rbm.parameters()]
            for r in range(2):
                rows = D.shard(batch, _FakeRank(r, 2))
                epoch_loss += cd(rbm, X[rows], streams[r])["loss"] * len(rows)
                for t, p in zip(total, rbm.parameters()):
                    t += len(rows) * p.grad
            for p, t in zip(rbm.parameters(), total):
                p.grad[...] = t / len(batch)
            opt.step()
        losses.append(epoch_loss / W.FIT_ROWS)
    for got in ranks:
        for name, value in rbm.state_dict().items():
            np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(got["loss"], losses, rtol=1e-12)


def test_pcd_ranks_keep_their_own_chains_and_resume_exactly(two_ranks):
    ranks = two_ranks("pcd")
    for got in ranks:  # a resumed run is the uninterrupted one: every rank's chains were saved
        for key in got:
            if key.startswith("straight_"):
                np.testing.assert_array_equal(got[key.replace("straight", "resumed")], got[key], err_msg=key)
        assert got["straight_chains"].shape == (2, W.RBM_SHAPE[1])  # 4 chains, 2 per rank
        np.testing.assert_array_equal(got["straight_W"], ranks[0]["straight_W"])
    assert not np.array_equal(ranks[0]["straight_chains"], ranks[1]["straight_chains"])


def test_dsn_fit_with_comm_equals_one_process(two_ranks):
    from neuronet.models import DSN

    ranks = two_ranks("dsn")
    Z, T = W.dsn_data()
    dsn = DSN(4, 2, hidden=6, n_modules=2, ridge=0.5, targets="values", seed=3, dtype=np.float64)
    records = dsn.fit(Z, T, finetune_iters=3, finetune_lr=1.0, chunk=4)
    for got in ranks:
        for name, value in dsn.state_dict().items():  # U, and W, b after 3 steps on summed gradients
            np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(got["objective"], [r["objective"] for r in records], rtol=1e-10)
        np.testing.assert_allclose(got["train_error"], [r["train_error"] for r in records], rtol=1e-10)


def test_dbn_and_dbm_train_data_parallel_with_their_own_chains(two_ranks):
    """Every rank ends with rank 0's weights; the DBM's and the Boltzmann machine's 6 chains are
    3 per rank, not copies, and the up-down samples differ between ranks."""
    first, second = two_ranks("deep")
    own = ("dbm_chains", "bm_chains", "updown_samples")  # what each rank draws for itself
    for key in first:
        if key not in own:
            np.testing.assert_array_equal(second[key], first[key], err_msg=key)
    assert first["dbm_chains"].shape == (3, 5) and first["bm_chains"].shape == (3, 8)
    for key in own:
        assert not np.array_equal(first[key], second[key]), key
    from neuronet.energy import DBM

    untrained = DBM([6, 5, 3], seed=0, dtype=np.float64).W1.data
    assert np.abs(first["dbm_W1"] - untrained).max() > 1e-3  # trained


def _copy(rng):
    twin = np.random.default_rng()
    twin.bit_generator.state = rng.bit_generator.state
    return twin


def test_ais_runs_split_over_ranks_and_dsn_statistics_sum(two_ranks):
    ranks = two_ranks("stats")
    rbm = RBM(*W.RBM_SHAPE, seed=5, init_std=0.5, dtype=np.float64)
    children = np.random.SeedSequence(3).spawn(2)
    log_w = np.concatenate([ais.ais_log_partition(rbm, n_runs=n, rng=np.random.default_rng(c),
                                                  betas=np.linspace(0, 1, 50)).log_weights
                            for n, c in zip((4, 5), children)])
    pooled = ais.ais_result(log_w, _log_z_base(rbm), 50)
    Z, T = W.dsn_data()  # the DSN module's ridge statistics over all rows, and its solution
    stats, tt = upper_statistics(W.dsn_module(), [(Z, T)])
    sol = UpperSolution(stats, tt, ridge=0.5)
    for got in ranks:
        np.testing.assert_allclose(got["log_w"], log_w, rtol=1e-12)
        assert float(got["log_z"]) == pytest.approx(pooled.log_z, rel=1e-12)
        np.testing.assert_allclose(got["HtH"], stats.HtH, rtol=1e-12)
        np.testing.assert_allclose(got["HtT"], stats.HtT, rtol=1e-12)
        assert int(got["n"]) == 11
        np.testing.assert_allclose(got["U"], sol.U, rtol=1e-10)
        assert float(got["J"]) == pytest.approx(sol.objective, rel=1e-10)


def _log_z_base(rbm):
    return ais.ais_log_partition(rbm, n_runs=2, betas=np.linspace(0, 1, 3), seed=0).log_z_base


def test_the_loop_trains_data_parallel_and_resumes_on_every_rank(two_ranks):
    ranks = two_ranks("loop")
    X, y = W.loop_data()
    model = nt.models.MLP(W.MLP_SIZES, seed=0, dtype=np.float64)
    history = W.loop_fit(model, 4, seed=0, validation=(X[:9], y[:9]))
    reference = W.loop_fit(nt.models.MLP(W.MLP_SIZES, seed=0, dtype=np.float64), 40, seed=0,
                           validation=(X[:9], y[:9]),
                           callbacks=[nt.EarlyStopping("val_loss", patience=1, restore_best=False)])
    for got in ranks:
        for name, value in model.state_dict().items():
            np.testing.assert_allclose(got[name], value, rtol=1e-11, atol=1e-13, err_msg=name)
        np.testing.assert_allclose(got["loss"], history["loss"], rtol=1e-11)  # the global epoch means
        assert int(got["stop_epochs"]) == len(reference) < 40


def test_a_failing_rank_stops_every_rank(tmp_path):
    done = run_mpi("fail", tmp_path, timeout=60)
    assert done.returncode != 0
    assert "rank 1 of 2 failed" in done.stderr and "rank one broke on purpose" in done.stderr


def test_neuronet_train_under_mpiexec_trains_the_one_process_model(tmp_path):
    """``mpiexec -n 2 neuronet train`` (the digits example, 3 epochs): rank 0 alone reports
    and writes, and the model is the single-process one."""
    config = HERE.parents[1] / "examples" / "digits_mlp.toml"
    command = [sys.executable, "-c", "import sys; from neuronet.cli import main; sys.exit(main())"]
    args = ["train", str(config), "--epochs", "3", "--no-progress", "--out"]
    done = run_mpi("", tmp_path, program=command + args + [str(tmp_path / "two")], timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test accuracy") == 1  # one report, from rank 0
    assert done.stdout.count("(loaded in") == 1
    from neuronet.cli import main

    assert main(args + [str(tmp_path / "one")]) == 0
    two, one = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("two", "one"))
    assert two["epochs"] == one["epochs"] == 3
    assert two["test_loss"] == pytest.approx(one["test_loss"], rel=1e-5)
    assert two["test_accuracy"] == pytest.approx(one["test_accuracy"], abs=1 / 450)


# ------------------------------------------------------------ one process, no MPI
def test_without_a_launcher_the_communicator_is_one_process():
    script = ("import sys, neuronet.distributed as D; c = D.get_communicator(); "
              "print(type(c).__name__, c.rank, c.size, 'mpi4py' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in D.comm._LAUNCHER_VARIABLES}
    env["PYTHONPATH"] = str(SRC)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["SingleProcess", "0", "1", "False"], out.stderr
    with pytest.raises(ValueError, match="comm must be 'auto'"):
        D.get_communicator("tcp")


def test_one_process_data_parallel_is_the_plain_optimiser():
    X, y = W.mlp_data()
    runs = []
    for wrap in (False, True):
        model = nt.models.MLP(W.MLP_SIZES, seed=0, dtype=np.float64)
        opt = nt.optim.Momentum(model.parameters(), lr=0.1)
        opt = D.DataParallel(opt) if wrap else opt
        loss = nt.SoftmaxCrossEntropy()
        for _ in range(3):
            opt.zero_grad()
            loss(model.forward(X), y)
            model.backward(loss.backward())
            opt.step()
        runs.append(model.state_dict())
    opt.lr = 0.5  # hyper-parameters go to the wrapped rule (LR schedules)
    assert opt.optimizer.lr == 0.5 and opt.state_dict()["hyper"]["lr"] == 0.5
    for name in runs[0]:
        np.testing.assert_array_equal(runs[0][name], runs[1][name])


@pytest.mark.parametrize("n, size", [(7, 2), (10, 3), (2, 4)])
def test_shards_and_shares_cover_everything_once(n, size):
    comms = [_FakeRank(r, size) for r in range(size)]
    parts = [D.shard(np.arange(n), c) for c in comms]
    assert np.array_equal(np.concatenate(parts), np.arange(n))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert [D.split_count(n, c) for c in comms] == [len(p) for p in parts]


class _FakeRank(D.SingleProcess):
    def __init__(self, rank, size):
        self.rank, self.size = rank, size
