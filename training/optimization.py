"""Optimizer and learning-rate schedule following Madry's configs."""

import keras
import tensorflow as tf


class CyclicSchedule(keras.optimizers.schedules.LearningRateSchedule):
  """Wong et al.'s one-cycle rate (fast_adversarial's 'cyclic' lr_type): linear from 0 up
  to `peak` at `peak_fraction` of the run, then linear down to 0 at its end. Step i
  (0-based) uses the rate at fraction (i + 1) / total, as their loop does."""

  def __init__(self, peak, peak_fraction, total_steps):
    self.peak, self.peak_fraction, self.total_steps = peak, peak_fraction, total_steps

  def __call__(self, step):
    t = (tf.cast(step, tf.float32) + 1.0) / float(self.total_steps)
    up = t / self.peak_fraction
    down = (1.0 - t) / (1.0 - self.peak_fraction)
    return self.peak * tf.clip_by_value(tf.minimum(up, down), 0.0, 1.0)

  def get_config(self):
    return {'peak': self.peak, 'peak_fraction': self.peak_fraction,
            'total_steps': self.total_steps}


def learning_rate_schedule(cfg):
  """The rate as a function of the step, by cfg.lr_schedule.

  'piecewise' (Madry's): learning_rate, times lr_decay_factor after each boundary.
  Boundaries are fractions of train_steps (Madry's CIFAR: 40k and 60k of 80k = 0.5, 0.75),
  so a shorter run keeps the same shape. Like TF1's piecewise_constant, the rate changes
  after the step equal to the boundary. 'cyclic' (Wong et al.'s fast adversarial
  training): CyclicSchedule peaking at learning_rate.
  """
  if cfg.lr_schedule == 'cyclic':
    return CyclicSchedule(cfg.learning_rate, cfg.lr_peak_fraction, cfg.train_steps)
  if not cfg.lr_decay_fractions:
    return cfg.learning_rate
  boundaries = [int(f * cfg.train_steps) for f in cfg.lr_decay_fractions]
  values = [cfg.learning_rate * cfg.lr_decay_factor ** i for i in range(len(boundaries) + 1)]
  return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


class FusedAdam(keras.optimizers.Adam):
  """Keras Adam whose per-variable update is TF's fused kernel (ResourceApplyAdam, the op
  behind Madry's tf.train.AdamOptimizer): the same update and the same slot variables (so
  checkpoints are unchanged), in one pass over each variable instead of a dozen elementwise
  ops, which cost a fifth of an MNIST step at batch 50."""

  def update_step(self, gradient, variable, learning_rate):
    if self.amsgrad:
      raise ValueError('FusedAdam has no amsgrad variant')
    dtype = variable.dtype
    step = tf.cast(self.iterations + 1, dtype)
    index = self._get_variable_index(variable)
    beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle, m=self._momentums[index].handle,
        v=self._velocities[index].handle, beta1_power=tf.pow(beta_1, step),
        beta2_power=tf.pow(beta_2, step), lr=tf.cast(learning_rate, dtype), beta1=beta_1,
        beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))


def build_optimizer(cfg):
  """Adam (Madry's MNIST, TF1 defaults) or momentum SGD (Madry's CIFAR, not Nesterov)."""
  schedule = learning_rate_schedule(cfg)
  if cfg.optimizer == 'adam':
    return FusedAdam(schedule, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
  return keras.optimizers.SGD(schedule, momentum=cfg.momentum, nesterov=False)


def current_learning_rate(optimizer):
  """The rate the next step will use, as a Python float."""
  return float(tf.convert_to_tensor(optimizer.learning_rate))
