"""FAB-T: the box-constrained L-infinity projection, the closed-form minimal distance on a
linear model, and its place in AutoAttack's chain."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attacks import FABTConfig
from attacks.fab import FABT
from attacks.fab import linf_projection


def _reach(t, w, room):
  return np.sum(np.abs(w) * np.minimum(t, room))


@pytest.mark.parametrize('box', [(-100.0, 100.0), (0.0, 1.0)], ids=['free', 'unit_box'])
def test_projection_is_the_smallest_linf_step_onto_the_hyperplane(box):
  lo, hi = box
  rng = np.random.default_rng(0)
  p = rng.uniform(0.2, 0.8, (6, 50)).astype(np.float32)
  w = rng.normal(size=(6, 50)).astype(np.float32)
  b = (np.sum(w * p, 1) + rng.normal(0, 3, 6)).astype(np.float32)
  d = linf_projection(tf.constant(p), tf.constant(w), tf.constant(b), lo, hi).numpy()
  assert np.all(p + d >= lo - 1e-6) and np.all(p + d <= hi + 1e-6)
  for i in range(6):
    c = b[i] - w[i] @ p[i]
    room = np.where(np.sign(c) * np.sign(w[i]) > 0, hi - p[i], p[i] - lo)
    t = np.abs(d[i]).max()
    if _reach(room.max(), w[i], room) >= abs(c):  # reachable: on the plane, and minimal
      assert w[i] @ (p[i] + d[i]) == pytest.approx(b[i], abs=1e-3)
      low, high = 0.0, room.max()               # independent: bisection on the reach
      for _ in range(60):
        mid = (low + high) / 2
        low, high = (low, mid) if _reach(mid, w[i], room) >= abs(c) else (mid, high)
      assert t == pytest.approx(high, rel=1e-4)
      if box == (-100.0, 100.0):                # no box in the way: |c| / ||w||_1
        assert t == pytest.approx(abs(c) / np.abs(w[i]).sum(), rel=1e-4)
    else:                                       # not reachable: as far as the box allows
      assert np.allclose(np.abs(d[i]), room, atol=1e-6)


def test_fab_reaches_the_closed_form_minimal_distance_on_a_linear_model():
  rng = np.random.default_rng(1)
  weights = rng.normal(0, 0.05, (784, 10)).astype(np.float32)
  bias = rng.normal(0, 0.1, 10).astype(np.float32)
  model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(10)])
  model.layers[-1].set_weights([weights, bias])
  x = rng.uniform(0.4, 0.6, (8, 28, 28, 1)).astype(np.float32)  # far from the box edges
  z = x.reshape(8, -1) @ weights + bias
  y = z.argmax(1)
  # Closed form: the boundary with class t is (w_t - w_y) . x + (b_t - b_y) = 0, at L-inf
  # distance (z_y - z_t) / ||w_t - w_y||_1; the minimum over the wrong classes.
  closed = np.array([min((z[i, y[i]] - z[i, t]) / np.abs(weights[:, t] - weights[:, y[i]]).sum()
                         for t in range(10) if t != y[i]) for i in range(8)])
  assert closed.max() < 0.1  # the box [0, 1] is never in the way
  attack = FABT(model, FABTConfig(name='fab', epsilon=1.0, steps=100, targets=9), (0.0, 1.0))
  x_adv, fooled = attack(x, y)
  found = np.abs(x_adv.numpy() - x).reshape(8, -1).max(1)
  assert fooled.numpy().all()
  assert np.all(np.argmax(model(x_adv), 1) != y)
  np.testing.assert_allclose(found, closed, rtol=0.02)  # minimal up to the last backward step
  assert np.all(found >= closed * (1 - 1e-4))          # never closer than the boundary
  # Below the minimal distance nothing can be found: the attack reports the point robust.
  attack = FABT(model, FABTConfig(name='fab', epsilon=float(closed.min()) * 0.9), (0.0, 1.0))
  assert not attack(x, y)[1].numpy().any()
