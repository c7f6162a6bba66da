"""Logit squeezing: beta times the Frobenius norm (not squared) of the batch logit matrix."""

import tensorflow as tf


def logit_frobenius_norm(logits):
  """||Z||_F of the (batch, classes) logit matrix Z."""
  return tf.norm(tf.cast(logits, tf.float32), ord='fro', axis=(0, 1))


def logit_squeeze_penalty(logits, beta):
  """beta * ||Z||_F; the paper adds this to the cross-entropy of the same mini-batch."""
  return beta * logit_frobenius_norm(logits)
