"""The divergence guard: stop a run whose loss or weights are no longer finite, or whose
test accuracy fell to chance, before it overwrites a good checkpoint."""

import math

import tensorflow as tf

from run_support.errors import UserError


class DivergenceError(UserError):
  """Training diverged; the message says where and what was kept."""


class DivergenceGuard:
  """Checks each step's loss, the weights before each checkpoint, and each periodic test
  accuracy. Chance collapse: accuracy at most 1.5x chance after having reached 3x chance,
  or still at most 1.5x chance half-way through training."""

  def __init__(self, num_classes, train_steps, enabled=True):
    self.chance = 1.0 / num_classes
    self.train_steps = train_steps
    self.enabled = enabled
    self.best_accuracy = 0.0
    self.kept = 'no checkpoint yet'

  def kept_checkpoint(self, path, step):
    self.kept = f'the last good checkpoint {path} (step {step}) is kept'

  def _stop(self, message):
    raise DivergenceError(f'{message}; {self.kept}. Lower --learning_rate or --beta, or pass '
                          '--nodivergence_guard to train on regardless')

  def check_step(self, step, out):
    if not self.enabled:
      return
    loss = float(out['total_loss'])
    if not math.isfinite(loss):
      self._stop(f'training diverged at step {step}: the loss is {loss} (xent '
                 f'{float(out["xent"]):.4g}, ||Z||_F {float(out["logit_norm"]):.4g})')

  def check_weights(self, step, variables):
    if not self.enabled:
      return
    bad = [v.name for v in variables if not bool(tf.reduce_all(tf.math.is_finite(v)))]
    if bad:
      self._stop(f'training diverged at step {step}: non-finite weights in {", ".join(bad[:3])}')

  def check_accuracy(self, step, accuracy):
    if not self.enabled:
      return
    self.best_accuracy = max(self.best_accuracy, accuracy)
    at_chance = accuracy <= 1.5 * self.chance
    if at_chance and self.best_accuracy >= 3 * self.chance:
      self._stop(f'training collapsed at step {step}: test accuracy {accuracy:.2%} is at chance '
                 f'({self.chance:.0%}) after reaching {self.best_accuracy:.2%}')
    if at_chance and step >= self.train_steps / 2:
      self._stop(f'training is stuck at chance at step {step} of {self.train_steps}: test '
                 f'accuracy {accuracy:.2%} (chance {self.chance:.0%})')
