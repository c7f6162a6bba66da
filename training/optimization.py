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


def build_optimizer(cfg):
  """Adam (Madry's MNIST, TF1 defaults) or momentum SGD (Madry's CIFAR, not Nesterov)."""
  schedule = learning_rate_schedule(cfg)
  if cfg.optimizer == 'adam':
    return keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
  return keras.optimizers.SGD(schedule, momentum=cfg.momentum, nesterov=False)


def current_learning_rate(optimizer):
  """The rate the next step will use, as a Python float."""
  return float(tf.convert_to_tensor(optimizer.learning_rate))
