"""Logit squeezing: beta times the Frobenius norm (not squared) of the batch logit matrix Z,
in one form that serves one device and many replicas (each holding some rows of Z)."""

import tensorflow as tf


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
