"""Optimizer and learning-rate schedule following Madry's configs."""

import keras
import tensorflow as tf


def learning_rate_schedule(cfg):
  """Piecewise constant: learning_rate, times lr_decay_factor after each boundary.

  Boundaries are fractions of train_steps (Madry's CIFAR: 40k and 60k of 80k = 0.5, 0.75),
  so a shorter run keeps the same shape. Like TF1's piecewise_constant, the rate changes
  after the step equal to the boundary.
  """
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
