"""The lecture's stochastic gradient on the "flower" planar set (MISSION A7).

Objects one at a time in random order (``batch_size=1``), the running estimate
``Q := (1 − λ)Q + λ·L_i`` recorded after every object, until the training error
is zero.  Writes ``flower_sg.png``: the running Q and the learned decision regions.

    python examples/flower_sg.py [--out flower_sg.png]
"""
import argparse

import numpy as np

import neuronet as nt

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--out", default="flower_sg.png")
args = ap.parse_args()

X, y = nt.data.make_flower(100, noise=0.02, seed=0)
st = nt.data.Standardizer().fit(X)
Z = st.transform(X)
net = nt.Sequential(nt.Dense(2, 64, seed=0), nt.Tanh(), nt.Dense(64, 64, seed=1), nt.Tanh(),
                    nt.Dense(64, 2, seed=2))
stop = nt.StopAtTarget("val_accuracy", 1.0)
hist = nt.fit(net, nt.SoftmaxCrossEntropy(), nt.optim.Adam(net.parameters(), lr=0.02), Z, y,
              epochs=300, batch_size=1, seed=0, smoothing=0.01, record_q=True,
              validation=(Z, y), callbacks=[nt.ExponentialLR(0.98), stop])
print(f"zero training errors after {stop.reached_epoch} epochs "
      f"({len(hist.q_trace)} single-object steps); running Q = {hist.q_trace[-1]:.4f}")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
a.semilogy(hist.q_trace)
a.set_xlabel("object presented")
a.set_ylabel("running Q")
a.set_title("Q := (1 − λ)Q + λ·L_i, λ = 0.01")
g = np.linspace(-5, 5, 300)
G = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
P = nt.predict(net, st.transform(G)).argmax(1).reshape(300, 300)
b.contourf(g, g, P, alpha=0.3, cmap="coolwarm")
b.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
b.set_title("decision regions after training")
fig.tight_layout()
fig.savefig(args.out, dpi=100)
print(f"wrote {args.out}")
