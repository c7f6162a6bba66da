"""The paper's training objective: cross-entropy on smoothed labels plus logit squeezing."""

import tensorflow as tf

from regularizers import logit_frobenius_norm
from regularizers import smooth_labels


def regularized_xent(logits, labels, num_classes, alpha, beta, reduction):
  """{'loss', 'xent', 'logit_norm'} for one mini-batch.

  xent is summed (Madry's MNIST) or averaged (Madry's CIFAR) over the batch per
  `reduction`; beta multiplies ||Z||_F of the same batch, so the paper's beta values are
  relative to that reduction.
  """
  targets = smooth_labels(labels, num_classes, alpha)
  per_example = tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits)
  xent = tf.reduce_sum(per_example) if reduction == 'sum' else tf.reduce_mean(per_example)
  logit_norm = logit_frobenius_norm(logits)
  return {'loss': xent + beta * logit_norm, 'xent': xent, 'logit_norm': logit_norm}


def replica_objective(logits, labels, num_classes, alpha, beta, reduction, global_batch_size):
  """One replica's share of the global-batch objective under tf.distribute.

  Gradients are summed across replicas, so each replica's loss is chosen such that the sum
  of their gradients is the single-device gradient on the global batch: its xent sum
  (divided by the global batch size for 'mean'), and for logit squeezing
  beta * ||Z_r||_F^2 / (2 ||Z||_F), whose gradient beta * Z_r / ||Z||_F is replica r's part
  of the gradient of beta * ||Z||_F over the whole global batch Z. The returned terms are
  the global values (identical on every replica).
  """
  ctx = tf.distribute.get_replica_context()
  total = lambda v: ctx.all_reduce(tf.distribute.ReduceOp.SUM, v)
  targets = smooth_labels(labels, num_classes, alpha)
  xent = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits))
  if reduction == 'mean':
    xent /= global_batch_size
  squares = tf.reduce_sum(tf.square(tf.cast(logits, tf.float32)))
  global_norm = tf.sqrt(total(tf.stop_gradient(squares)))
  share = xent + beta * squares / (2.0 * tf.maximum(global_norm, 1e-12))
  global_xent = total(tf.stop_gradient(xent))
  return share, {'loss': global_xent + beta * global_norm, 'xent': global_xent,
                 'logit_norm': global_norm}
