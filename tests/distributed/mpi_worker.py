"""Run under ``mpiexec -n 2`` by test_mpi.py: ``python mpi_worker.py SCENARIO OUT_DIR``.

Each scenario trains or estimates on this rank's shard and writes what the test
compares with a single process to ``OUT_DIR/<scenario>_rank<r>.npz``.
"""
from __future__ import annotations

import sys

import numpy as np

import neuronet as nt
from neuronet import distributed as D
from neuronet.energy import RBM
from neuronet.models.dsn_module import DSNModule, UpperSolution, upper_statistics

#: shared by the worker and the test's single-process references
MLP_SIZES, MLP_BATCH, MLP_STEPS = [5, 7, 3], 7, 6
RBM_SHAPE, RBM_BATCH, RBM_STEPS, RBM_LR = (6, 4), 8, 5, 0.1


def mlp_data():
    rng = np.random.default_rng(1)
    return rng.standard_normal((MLP_BATCH * MLP_STEPS, MLP_SIZES[0])), rng.integers(0, 3, MLP_BATCH * MLP_STEPS)


def rbm_data():
    rng = np.random.default_rng(2)
    return (rng.random((RBM_BATCH * RBM_STEPS, RBM_SHAPE[0])) < 0.4).astype(np.float64)


def rbm_seed(step, part):
    return 1000 * step + part


def train_mlp(comm):
    """Adam on global batches of 7 rows (shards of 3 and 4): rank 1 starts from other weights."""
    X, y = mlp_data()
    model = nt.models.MLP(MLP_SIZES, activation="tanh", seed=comm.rank, dtype=np.float64)
    loss = nt.SoftmaxCrossEntropy()
    opt = D.DataParallel(nt.optim.Adam(model.parameters(), lr=0.05), comm)
    losses = []
    for s in range(MLP_STEPS):
        rows = D.shard(np.arange(s * MLP_BATCH, (s + 1) * MLP_BATCH), comm)
        opt.zero_grad()
        opt.loss = loss(model.forward(X[rows]), y[rows])
        opt.count = len(rows)
        model.backward(loss.backward())
        opt.step()
        losses.append(opt.global_loss)
    return {**{k: v for k, v in model.state_dict().items()}, "losses": np.array(losses),
            "calls": opt.allreduce_calls}


def train_rbm(comm):
    """CD-1: rank r draws the Gibbs samples of half r of each global batch with seed (step, r)."""
    X = rbm_data()
    rbm = RBM(*RBM_SHAPE, seed=5 + comm.rank, dtype=np.float64)
    opt = D.DataParallel(nt.optim.SGD(rbm.parameters(), lr=RBM_LR), comm)
    for s in range(RBM_STEPS):
        rows = D.shard(np.arange(s * RBM_BATCH, (s + 1) * RBM_BATCH), comm)
        rbm._rng = np.random.default_rng(rbm_seed(s, comm.rank))
        opt.count = len(rows)
        rbm.partial_fit(X[rows], optimizer=opt, weight_decay=0.0)
    return dict(rbm.state_dict())


def ais_and_sums(comm):
    rbm = RBM(*RBM_SHAPE, seed=5, init_std=0.5, dtype=np.float64)
    result = D.ais_log_partition(rbm, n_runs=9, comm=comm, seed=3, betas=np.linspace(0, 1, 50))
    Z, T = dsn_data()
    mine = D.shard(np.arange(len(Z)), comm)
    stats, tt = upper_statistics(dsn_module(), [(Z[mine], T[mine])])
    sol = UpperSolution(*D.allreduce_ridge_statistics(stats, tt, comm), ridge=0.5)
    return {"log_z": result.log_z, "log_w": result.log_weights, "HtH": stats.HtH, "HtT": stats.HtT,
            "n": stats.n, "U": sol.U, "J": sol.objective}


def dsn_module():
    return DSNModule(4, 6, 2, seed=3, dtype=np.float64)


def dsn_data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((11, 4)), rng.standard_normal((11, 2))


FIT_ROWS, FIT_BATCH, FIT_EPOCHS = 21, 7, 2


def rbm_fit_kwargs():
    """RBM.fit's arguments shared by the data-parallel runs and the one-process reference."""
    return dict(epochs=FIT_EPOCHS, batch_size=FIT_BATCH, lr=RBM_LR, momentum=0.5, weight_decay=1e-3,
                seed=11, verbose=False)


def rbm_fit(comm):
    """RBM.fit(comm=): CD-1 on batches of 7 (shards of 3 and 4); rank 1 starts from other weights."""
    rbm = RBM(*RBM_SHAPE, seed=5 + comm.rank, dtype=np.float64)
    history = rbm.fit(rbm_data()[:FIT_ROWS], comm=comm, **rbm_fit_kwargs())
    return {**rbm.state_dict(), "loss": np.array(history["loss"])}


def pcd_resume(comm, out):
    """PCD-1 with 4 chains (2 per rank): 3 epochs at once, and 2 epochs + a resume to 3."""
    X, runs = rbm_data()[:FIT_ROWS], {}
    for name, epochs in (("straight", 3), ("first", 2), ("resumed", 3)):
        rbm = RBM(*RBM_SHAPE, seed=5, dtype=np.float64)
        kw = dict(rbm_fit_kwargs(), epochs=epochs, persistent=True, n_chains=4)
        if name != "straight":
            kw["checkpoint" if name == "first" else "resume_from"] = f"{out}/pcd.npz"
        rbm.fit(X, comm=comm, **kw)
        runs.update({f"{name}_{k}": v for k, v in rbm.state_dict().items()})
        runs[f"{name}_chains"] = rbm.persistent_chains
    return runs


def dsn_fit(comm):
    """DSN.fit(comm=) on 11 rows (shards of 5 and 6): 2 modules, 3 fine-tuning steps each;
    rank 1 starts from other weights."""
    from neuronet.models import DSN

    Z, T = dsn_data()
    dsn = DSN(4, 2, hidden=6, n_modules=2, ridge=0.5, targets="values", seed=3 + comm.rank,
              dtype=np.float64)
    records = dsn.fit(Z, T, finetune_iters=3, finetune_lr=1.0, chunk=4, comm=comm)
    return {**dsn.state_dict(), "objective": np.array([r["objective"] for r in records]),
            "train_error": np.array([r["train_error"] for r in records])}


def deep_energy(comm):
    """DBN.pretrain and fit_updown, DBM.pretrain and fit, BoltzmannMachine.fit with comm=; rank
    1's DBNs start from other weights."""
    from neuronet.energy import DBM, DBN, BoltzmannMachine

    X = rbm_data()[:FIT_ROWS]
    dbn = DBN([6, 5, 3], seed=comm.rank, dtype=np.float64)
    dbn.pretrain(X, epochs=2, batch_size=FIT_BATCH, seed=1, verbose=False, comm=comm)
    dbm = DBM([6, 5, 3], seed=0, dtype=np.float64)  # the same generator: the chains must still differ
    dbm.pretrain(X, epochs=1, batch_size=FIT_BATCH, seed=1, comm=comm)
    dbm.fit(X, epochs=2, batch_size=FIT_BATCH, n_chains=6, seed=1, comm=comm)
    # one row repeated, batches of 8: both ranks see the same 4 rows, so only their own
    # streams can make their samples differ
    same, labels = np.repeat(X[:1], 16, axis=0), np.ones(16, dtype=np.int64)
    updown = DBN([6, 5, 4], n_labels=2, seed=comm.rank, dtype=np.float64)
    updown.pretrain(same, labels, epochs=1, batch_size=8, seed=1, verbose=False, comm=comm)
    updown.fit_updown(same, labels, epochs=1, batch_size=8, k=1, seed=1, comm=comm)
    bm = BoltzmannMachine(6, 2, seed=0, dtype=np.float64)
    bm.fit(same, epochs=2, batch_size=8, n_chains=6, sweeps=2, seed=1, progress=False, comm=comm)
    return {**{f"dbn_{k}": v for k, v in dbn.state_dict().items()},
            **{f"dbm_{k}": v for k, v in dbm.state_dict().items()},
            **{f"updown_{k}": v for k, v in updown.state_dict().items()},
            **{f"bm_{k}": v for k, v in bm.state_dict().items()},
            "dbm_chains": dbm.persistent_chains[1], "bm_chains": bm._chains,
            "updown_samples": updown.rbms[-1].negative_samples_}


LOOP_ROWS, LOOP_BATCH = 45, 10


def loop_data():
    rng = np.random.default_rng(4)
    return rng.standard_normal((LOOP_ROWS, MLP_SIZES[0])), rng.integers(0, 3, LOOP_ROWS)


def loop_fit(model, epochs, comm=None, **kw):
    X, y = loop_data()
    opt = nt.optim.Momentum(model.parameters(), lr=0.1)
    return nt.fit(model, nt.SoftmaxCrossEntropy(), opt, X, y, epochs=epochs, batch_size=LOOP_BATCH,
                  comm=comm, **kw)


def train_loop(comm, out):
    """nt.fit on the loop: 2 epochs with a checkpoint, then a resume to 4 on every rank;
    rank 1 starts from other weights and another seed; batches of 10 end with 5 rows."""
    X, y = loop_data()
    ck = f"{out}/loop_checkpoint.npz"
    first = nt.models.MLP(MLP_SIZES, seed=comm.rank, dtype=np.float64)
    loop_fit(first, 2, comm, seed=comm.rank * 99, callbacks=[nt.ModelCheckpoint(ck)])
    model = nt.models.MLP(MLP_SIZES, seed=7 + comm.rank, dtype=np.float64)
    history = loop_fit(model, 4, comm, resume_from=ck, validation=(X[:9], y[:9]))
    # the stop decision is rank 0's: rank 1's validation data would stop it at once
    stopper = nt.EarlyStopping("val_loss", patience=1, restore_best=False)
    val = (X[:9], y[:9]) if comm.rank == 0 else (X[:9], (y[:9] + 1) % 3)
    stopped = loop_fit(nt.models.MLP(MLP_SIZES, seed=0, dtype=np.float64), 40, comm, seed=0,
                       validation=val, callbacks=[stopper])
    return {**model.state_dict(), "loss": np.array(history["loss"]), "stop_epochs": len(stopped)}


def fail(comm):
    """Rank 1 raises while rank 0 waits in the allreduce: both must end, not hang."""
    if comm.rank == 1:
        raise ValueError("rank one broke on purpose")
    comm.allreduce(np.zeros(3))
    return {}


SCENARIOS = {"mlp": train_mlp, "rbm": train_rbm, "stats": ais_and_sums, "loop": train_loop, "fail": fail,
             "rbmfit": rbm_fit, "pcd": pcd_resume, "dsn": dsn_fit, "deep": deep_energy}


def main(argv):
    out = argv[2]
    comm = D.get_communicator("mpi")
    for name in argv[1].split(","):
        run = SCENARIOS[name]
        result = run(comm, out) if name in ("loop", "pcd") else run(comm)
        np.savez(f"{out}/{name}_rank{comm.rank}.npz", **result)


if __name__ == "__main__":
    main(sys.argv)
