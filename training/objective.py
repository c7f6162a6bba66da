"""The paper's training objective: cross-entropy on smoothed labels plus logit squeezing,
one path for one device and for many replicas (built on regularizers/)."""

import tensorflow as tf

from regularizers import logit_squeeze_penalty
from regularizers import smooth_labels
from training.config import BETA_UNITS


def squeeze_weight(beta, reduction, global_batch_size, beta_units='summed_xent'):
  """The weight of ||Z||_F in the loss that is minimised."""
  if beta_units not in BETA_UNITS:
    raise ValueError(f'beta_units must be one of {BETA_UNITS}, got {beta_units!r}')
  if beta_units == 'summed_xent' and reduction == 'mean':
    return beta / global_batch_size
  return beta


def training_objective(logits, labels, num_classes, alpha, beta, reduction, global_batch_size,
                       beta_units='summed_xent', sum_over_replicas=None):
  """(loss to differentiate here, {'loss', 'xent', 'logit_norm'} of the global batch).

  Args:
    logits, labels: this device's rows of the global batch (all of it on one device).
    num_classes: N_c of label smoothing.
    alpha: label smoothing; beta: logit squeezing in `beta_units`.
    reduction: 'sum' (Madry's MNIST) or 'mean' (Madry's CIFAR) over the global batch.
    global_batch_size: B, the batch all replicas together see.
    beta_units: see training.config.BETA_UNITS.
    sum_over_replicas: all-reduce (sum) across replicas; None on one device.

  Returns:
    The loss whose gradients, summed over replicas, are the one-device gradients on the
    global batch, and the global batch's terms for logging.
  """
  targets = smooth_labels(labels, num_classes, alpha)
  xent = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits))
  if reduction == 'mean':
    xent /= global_batch_size
  weight = squeeze_weight(beta, reduction, global_batch_size, beta_units)
  squeeze, norm = logit_squeeze_penalty(logits, weight, sum_over_replicas)
  global_xent = xent if sum_over_replicas is None else sum_over_replicas(tf.stop_gradient(xent))
  return xent + squeeze, {'loss': global_xent + weight * norm, 'xent': global_xent,
                          'logit_norm': norm}
