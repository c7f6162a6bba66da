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
