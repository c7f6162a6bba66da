"""The optimizer: fused Adam is TF1's Adam update (Madry's tf.train.AdamOptimizer)."""

import keras
import numpy as np
import tensorflow as tf

from training.optimization import FusedAdam


def _tf1_adam(var, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
  """TF1's AdamOptimizer by hand, in float32 as its kernel computes it."""
  f = np.float32
  m, v = np.zeros_like(var), np.zeros_like(var)
  for t, g in enumerate(grads, start=1):
    m = m + (g - m) * (f(1) - f(beta_1))
    v = v + (g * g - v) * (f(1) - f(beta_2))
    lr_t = f(lr) * np.sqrt(f(1) - f(beta_2) ** t) / (f(1) - f(beta_1) ** t)
    var = var - lr_t * m / (np.sqrt(v) + f(epsilon))
  return var, m, v


def test_fused_adam_is_tf1_adam_and_keeps_keras_slots(tmp_path):
  rng = np.random.default_rng(0)
  start = rng.normal(size=(3, 4)).astype(np.float32)
  grads = [rng.normal(size=(3, 4)).astype(np.float32) * s for s in (1.0, 30.0, 0.01)]
  expected = _tf1_adam(start, grads, lr=1e-3)
  var = keras.Variable(start)
  fused = FusedAdam(1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
  fused.build([var])
  apply = tf.function(lambda g: fused.apply_gradients([(g, var)]))
  for g in grads:
    apply(tf.constant(g))
  for got, want in zip((var, fused._momentums[0], fused._velocities[0]), expected):
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-7)
  # The same slots as Keras Adam: runs checkpointed before it resume with it.
  old_var = keras.Variable(start)
  keras_adam = keras.optimizers.Adam(1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
  keras_adam.build([old_var])
  keras_adam.apply_gradients([(tf.constant(grads[0]), old_var)])
  path = tf.train.Checkpoint(var=old_var, optimizer=keras_adam).save(str(tmp_path / 'ckpt'))
  tf.train.Checkpoint(var=var, optimizer=fused).restore(path).assert_consumed()
  assert int(fused.iterations) == 1
  np.testing.assert_array_equal(np.asarray(fused._velocities[0]),
                                np.asarray(keras_adam._velocities[0]))


def _schedule(**overrides):
  from training.config import TrainConfig
  from training.optimization import learning_rate_schedule
  cfg = TrainConfig(dataset='mnist', train_steps=10, **overrides).resolved()
  return cfg, learning_rate_schedule(cfg)


def test_cyclic_schedule_is_wongs_one_cycle_by_hand():
  """Peak 5e-3 at 0.4 of 10 steps: step i uses the rate at (i + 1) / 10, as Wong's loop
  (rate at epoch + (i + 1) / len(loader)); up 1.25e-3 per step, then down 0.833e-3."""
  cfg, schedule = _schedule(lr_schedule='cyclic', learning_rate=5e-3)
  assert cfg.lr_decay_fractions == ()
  rates = [float(schedule(step)) for step in range(10)]
  want = [1.25e-3, 2.5e-3, 3.75e-3, 5e-3, 5e-3 * 5 / 6, 5e-3 * 4 / 6, 5e-3 * 3 / 6,
          5e-3 * 2 / 6, 5e-3 / 6, 0.0]
  np.testing.assert_allclose(rates, want, rtol=1e-5, atol=1e-9)


def test_piecewise_schedule_decays_after_the_boundary_step():
  _, schedule = _schedule(learning_rate=0.1, lr_decay_fractions=(0.5, 0.8))
  rates = [float(schedule(step)) for step in (0, 5, 6, 8, 9)]
  np.testing.assert_allclose(rates, [0.1, 0.1, 0.01, 0.01, 0.001], rtol=1e-6)
