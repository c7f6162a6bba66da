"""The divergence guard: stop a run whose loss or weights are no longer finite before it
overwrites a good checkpoint, and flag a collapse of test accuracy to chance.

A collapse is only a warning by default: the paper reports rows that collapse (Table 6,
beta 10 and sigma 0.5: 75.8% at 100k steps, 12.9% at 400k), and a replication must be able
to run them to their k. `--stop_on_collapse` makes it an error.
"""

from absl import logging
import tensorflow as tf

from run_support.errors import UserError


class DivergenceError(UserError):
  """Training diverged; the message says where and what was kept."""


class LossMonitor:
  """The first step whose loss was not finite, recorded inside the compiled training step
  (no device-to-host copy per step); the host reads it at the logging and checkpoint
  cadence."""

  def __init__(self):
    self.first_bad_step = tf.Variable(-1, dtype=tf.int64, trainable=False, name='first_bad_step')
    self.bad_loss = tf.Variable(0.0, dtype=tf.float32, trainable=False, name='bad_loss')

  def observe(self, step, loss):
    """In the training step: `step` is the number of the step just taken."""
    bad = tf.logical_and(self.first_bad_step < 0, tf.logical_not(tf.math.is_finite(loss)))
    self.first_bad_step.assign(tf.where(bad, tf.cast(step, tf.int64), self.first_bad_step))
    self.bad_loss.assign(tf.where(bad, tf.cast(loss, tf.float32), self.bad_loss))


class DivergenceGuard:
  """Checks the loss record and the weights before each checkpoint and at each progress
  line, and each periodic test accuracy. Chance collapse: accuracy at most 1.5x chance after
  having reached 3x chance, or still at most 1.5x chance half-way through training."""

  def __init__(self, num_classes, train_steps, enabled=True, stop_on_collapse=False):
    self.chance = 1.0 / num_classes
    self.train_steps = train_steps
    self.enabled = enabled
    self.stop_on_collapse = stop_on_collapse
    self.best_accuracy = 0.0
    self.kept = 'no checkpoint yet'
    self.warnings = []

  def kept_checkpoint(self, path, step):
    self.kept = f'the last good checkpoint {path} (step {step}) is kept'

  def _stop(self, message):
    raise DivergenceError(f'{message}; {self.kept}. Lower --learning_rate or --beta, or pass '
                          '--nodivergence_guard to train on regardless')

  def check_loss(self, monitor):
    if not self.enabled:
      return
    step = int(monitor.first_bad_step.numpy())
    if step >= 0:
      self._stop(f'training diverged at step {step}: the loss is {float(monitor.bad_loss.numpy())}')

  def check_weights(self, step, variables):
    if not self.enabled:
      return
    bad = [getattr(v, 'path', v.name) for v in variables  # Keras 3: the layer's path
           if not bool(tf.reduce_all(tf.math.is_finite(v)))]
    if bad:
      self._stop(f'training diverged at step {step}: non-finite weights in {", ".join(bad[:3])}')

  def check_accuracy(self, step, accuracy):
    if not self.enabled:
      return
    self.best_accuracy = max(self.best_accuracy, accuracy)
    at_chance = accuracy <= 1.5 * self.chance
    message = None
    if at_chance and self.best_accuracy >= 3 * self.chance:
      message = (f'training collapsed at step {step}: test accuracy {accuracy:.2%} is at chance '
                 f'({self.chance:.0%}) after reaching {self.best_accuracy:.2%}')
    elif at_chance and step >= self.train_steps / 2:
      message = (f'training is stuck at chance at step {step} of {self.train_steps}: test '
                 f'accuracy {accuracy:.2%} (chance {self.chance:.0%})')
    if message is None:
      return
    if self.stop_on_collapse:
      self._stop(message)
    logging.warning('%s; training goes on (--stop_on_collapse stops instead).', message)
    self.warnings.append(message)
