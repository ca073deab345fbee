"""The lecture's first examples (MISSION A1), run end to end.

1. AND, OR, NOT as single McCulloch-Pitts threshold neurons with the lecture's weights:
   x1 ∧ x2 = [x1 + x2 − 3/2 > 0],  x1 ∨ x2 = [x1 + x2 − 1/2 > 0],  ¬x1 = [−x1 + 1/2 > 0].
2. XOR is not one neuron: Rosenblatt's perceptron never reaches zero errors.
3. XOR solved by the added feature x1·x2: [x1 + x2 − 2·x1·x2 − 1/2 > 0],
   by the two-layer net [(x1 ∨ x2) − (x1 ∧ x2) − 1/2 > 0],
   and by a two-layer sigmoid net trained with BackProp, one object at a time.

    python examples/logic_neurons.py
"""
import numpy as np

import neuronet as nt
from neuronet.models import (logic_neuron, perceptron_train, train_xor_backprop,
                             xor_feature_neuron, xor_product_feature, xor_two_layer_threshold_net)


def table(name, X, out, y):
    print(f"{name:>28}:  " + "  ".join(f"{''.join(str(int(v)) for v in x)}→{int(o)}"
                                          for x, o in zip(X, out)) + f"   (truth {y.tolist()})")


for name in ("and", "or", "not"):
    X, y = nt.data.logic_table(name)
    out = logic_neuron(name)(X).ravel()
    assert np.array_equal(out, y)
    table(f"{name.upper()} (one neuron)", X, out, y)

X, y = nt.data.logic_table("xor")
_, _, errors = perceptron_train(X, y, epochs=100, seed=0)
print(f"{'XOR perceptron':>28}:  errors per epoch min {min(errors)}, last {errors[-1]} (never 0)")
table("XOR with feature x1·x2", X, xor_feature_neuron()(xor_product_feature(X)).ravel(), y)
table("XOR = OR − AND (2 layers)", X, xor_two_layer_threshold_net()(X).ravel(), y)
net, hist = train_xor_backprop(hidden=4, seed=0)
out = nt.predict(net, X).ravel()
table("XOR by BackProp (SG)", X, out > 0.5, y)
print(f"{'':>28}   outputs {np.round(out, 3).tolist()} after {len(hist)} epochs, "
      f"running Q = {hist.last['q']:.4f}")
