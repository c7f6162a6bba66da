"""The divergence guard: non-finite loss or weights stop a run; collapse to chance and stuck
at chance warn (or stop with stop_on_collapse)."""

import numpy as np
import pytest
import tensorflow as tf

from training.guard import DivergenceError
from training.guard import DivergenceGuard
from training.guard import LossMonitor


def test_non_finite_loss_recorded_in_the_graph_stops_and_names_the_kept_checkpoint():
  for bad in (np.nan, np.inf):
    guard = DivergenceGuard(num_classes=10, train_steps=100)
    monitor = LossMonitor()
    step = tf.function(monitor.observe)
    for number, loss in ((1, 2.3), (2, 2.1)):
      step(tf.constant(number, tf.int64), tf.constant(loss))
    guard.check_loss(monitor)  # all finite so far
    guard.kept_checkpoint('run/checkpoints/ckpt-4', 4)
    for number, loss in ((7, bad), (8, 1.0), (9, np.nan)):  # the first bad step is kept
      step(tf.constant(number, tf.int64), tf.constant(loss))
    with pytest.raises(DivergenceError, match=r'diverged at step 7: the loss is .*ckpt-4 \(step 4\) is kept'):
      guard.check_loss(monitor)


def test_non_finite_weights_stop_before_a_checkpoint():
  guard = DivergenceGuard(num_classes=10, train_steps=100)
  good, bad = tf.Variable([1.0, 2.0], name='good'), tf.Variable([1.0, np.nan], name='kernel')
  guard.check_weights(5, [good])
  with pytest.raises(DivergenceError, match='non-finite weights in kernel'):
    guard.check_weights(5, [good, bad])


def test_collapse_to_chance_warns_and_training_goes_on_unless_asked_to_stop():
  for stop in (False, True):
    guard = DivergenceGuard(num_classes=10, train_steps=1000, stop_on_collapse=stop)
    guard.check_accuracy(100, 0.12)   # still learning: chance early on is fine
    guard.check_accuracy(200, 0.45)
    guard.check_accuracy(300, 0.16)   # a dip, not chance
    assert not guard.warnings
    if stop:
      with pytest.raises(DivergenceError, match='collapsed at step 400: test accuracy 10.00% is at chance'):
        guard.check_accuracy(400, 0.10)
    else:
      guard.check_accuracy(400, 0.10)
      assert len(guard.warnings) == 1 and 'collapsed at step 400' in guard.warnings[0]


def test_stuck_at_chance_half_way_is_flagged_but_not_earlier():
  guard = DivergenceGuard(num_classes=10, train_steps=1000, stop_on_collapse=True)
  guard.check_accuracy(400, 0.11)
  with pytest.raises(DivergenceError, match='stuck at chance at step 500 of 1000'):
    guard.check_accuracy(500, 0.11)


def test_disabled_guard_lets_everything_through():
  """The same NaN loss, infinite weight and collapse stop an enabled guard; a disabled one
  neither stops nor warns."""
  for enabled in (True, False):
    guard = DivergenceGuard(num_classes=10, train_steps=10, enabled=enabled, stop_on_collapse=True)
    monitor = LossMonitor()
    monitor.observe(tf.constant(1, tf.int64), tf.constant(np.nan))
    checks = (lambda: guard.check_loss(monitor),
              lambda: guard.check_weights(1, [tf.Variable([np.inf])]),
              lambda: guard.check_accuracy(9, 0.1))
    for check in checks:
      if enabled:
        with pytest.raises(DivergenceError):
          check()
      else:
        check()
    assert guard.warnings == []
