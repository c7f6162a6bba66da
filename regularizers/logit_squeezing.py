"""Logit squeezing: beta times the Frobenius norm (not squared) of the batch logit matrix Z,
in one form that serves one device and many replicas (each holding some rows of Z)."""

import tensorflow as tf

from regularizers.registry import BETA_UNITS


def _squares(logits):
  return tf.reduce_sum(tf.square(tf.cast(logits, tf.float32)))


def logit_frobenius_norm(logits, sum_over_replicas=None):
  """||Z||_F of the whole batch; `sum_over_replicas` all-reduces a per-replica sum when the
  rows of Z are spread over replicas (None: Z is all here)."""
  squares = _squares(logits)
  return tf.sqrt(squares if sum_over_replicas is None else sum_over_replicas(squares))


def logit_squeeze_penalty(logits, beta, sum_over_replicas=None):
  """(penalty to differentiate, ||Z||_F of the whole batch).

  The penalty is beta ||Z_r||_F^2 / (2 ||Z||_F) with the whole-batch norm held constant: its
  gradient is beta Z_r / ||Z||_F, this device's rows of the gradient of beta ||Z||_F, so the
  replicas' gradients add up to the one-device gradient (and on one device it is that
  gradient). Its value is not beta ||Z||_F; report beta times the returned norm instead.
  """
  squares = _squares(logits)
  total = squares if sum_over_replicas is None else sum_over_replicas(squares)
  norm = tf.sqrt(tf.stop_gradient(total))
  return beta * squares / (2.0 * tf.maximum(norm, 1e-12)), norm


def squeeze_weight(beta, reduction, global_batch_size, beta_units='summed_xent'):
  """The weight of ||Z||_F in the loss that is minimised (BETA_UNITS says what beta means)."""
  if beta_units not in BETA_UNITS:
    raise ValueError(f'beta_units must be one of {BETA_UNITS}, got {beta_units!r}')
  if beta_units == 'summed_xent' and reduction == 'mean':
    return beta / global_batch_size
  return beta


def build(cfg, spec):
  """The logit penalty (registry place 'logits'), or None at beta 0."""
  del spec
  if cfg.beta == 0:
    return None

  def penalty(logits, context):
    weight = squeeze_weight(cfg.beta, context.reduction, context.global_batch_size,
                            cfg.beta_units)
    share, norm = logit_squeeze_penalty(logits, weight, context.sum_over_replicas)
    return share, weight * norm, {}
  return penalty
