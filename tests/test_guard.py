"""The divergence guard: non-finite loss or weights, collapse to chance, stuck at chance."""

import numpy as np
import pytest
import tensorflow as tf

from training.guard import DivergenceError
from training.guard import DivergenceGuard


def _out(loss):
  return {'total_loss': tf.constant(loss), 'xent': tf.constant(loss), 'logit_norm': tf.constant(1.0)}


def test_non_finite_loss_stops_and_names_the_kept_checkpoint():
  guard = DivergenceGuard(num_classes=10, train_steps=100)
  guard.check_step(3, _out(2.3))
  guard.kept_checkpoint('run/checkpoints/ckpt-4', 4)
  for bad in (np.nan, np.inf):
    with pytest.raises(DivergenceError, match=r'diverged at step 7: the loss is .*ckpt-4 \(step 4\) is kept'):
      guard.check_step(7, _out(bad))


def test_non_finite_weights_stop_before_a_checkpoint():
  guard = DivergenceGuard(num_classes=10, train_steps=100)
  good, bad = tf.Variable([1.0, 2.0], name='good'), tf.Variable([1.0, np.nan], name='kernel')
  guard.check_weights(5, [good])
  with pytest.raises(DivergenceError, match='non-finite weights in kernel'):
    guard.check_weights(5, [good, bad])


def test_collapse_to_chance_after_learning_stops():
  guard = DivergenceGuard(num_classes=10, train_steps=1000)
  guard.check_accuracy(100, 0.12)   # still learning: chance early on is fine
  guard.check_accuracy(200, 0.45)
  guard.check_accuracy(300, 0.16)   # a dip, not chance
  with pytest.raises(DivergenceError, match='collapsed at step 400: test accuracy 10.00% is at chance'):
    guard.check_accuracy(400, 0.10)


def test_stuck_at_chance_half_way_stops_but_not_earlier():
  guard = DivergenceGuard(num_classes=10, train_steps=1000)
  guard.check_accuracy(400, 0.11)
  with pytest.raises(DivergenceError, match='stuck at chance at step 500 of 1000'):
    guard.check_accuracy(500, 0.11)


def test_disabled_guard_lets_everything_through():
  guard = DivergenceGuard(num_classes=10, train_steps=10, enabled=False)
  guard.check_step(1, _out(np.nan))
  guard.check_weights(1, [tf.Variable([np.inf])])
  guard.check_accuracy(9, 0.1)
