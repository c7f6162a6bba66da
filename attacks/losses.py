"""Per-example attack losses; attacks ascend them."""

import tensorflow as tf

from attacks.config import MADRY_KAPPA


def xent_loss(logits, labels):
  """Softmax cross-entropy of each example (Madry sums these; the sign gradient is the same)."""
  return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def _true_and_best_other(logits, labels):
  mask = tf.one_hot(labels, tf.shape(logits)[-1], dtype=logits.dtype)
  true_logit = tf.reduce_sum(mask * logits, axis=-1)
  best_other = tf.reduce_max(logits - 1e9 * mask, axis=-1)
  return true_logit, best_other


def logit_margin(logits, labels):
  """z_y - max_{j != y} z_j per example: negative exactly when misclassified."""
  true_logit, best_other = _true_and_best_other(logits, labels)
  return true_logit - best_other


def cw_margin_loss(logits, labels, kappa=MADRY_KAPPA):
  """Madry's CW loss: -relu(z_y - max_{j != y} z_j + kappa). Its gradient vanishes once a
  wrong class leads by kappa."""
  true_logit, best_other = _true_and_best_other(logits, labels)
  return -tf.nn.relu(true_logit - best_other + kappa)


def attack_loss(logits, labels, loss, kappa, targeted):
  """The per-example loss PGD ascends.

  Args:
    logits: [N, classes] float32.
    labels: true labels, or the targets when `targeted`.
    loss: 'xent' or 'cw' (Madry's margin); anything else is a ValueError.
    kappa: the CW margin.
    targeted: descend the targets' xent / raise their margin over every other class.

  Returns:
    [N] losses.
  """
  if loss == 'xent':
    value = xent_loss(logits, labels)
    return -value if targeted else value
  if loss != 'cw':
    raise ValueError(f'PGD optimizes xent or cw, not {loss!r}')
  if targeted:
    target_logit, best_other = _true_and_best_other(logits, labels)
    return -tf.nn.relu(best_other - target_logit + kappa)
  return cw_margin_loss(logits, labels, kappa)


def dlr_loss(logits, labels, targets=None):
  """Croce & Hein's difference-of-logits ratio (ascended). Untargeted:
  -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3); targeted at t:
  -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2), pi sorting the logits in decreasing order.
  Unchanged by adding a constant to the logits or scaling them by a positive factor."""
  top = tf.math.top_k(logits, k=4).values
  true_logit, best_other = _true_and_best_other(logits, labels)
  if targets is None:
    return -(true_logit - best_other) / (top[:, 0] - top[:, 2] + 1e-12)
  target_logit = tf.reduce_sum(tf.one_hot(targets, tf.shape(logits)[-1], dtype=logits.dtype) *
                               logits, axis=-1)
  return -(true_logit - target_logit) / (top[:, 0] - 0.5 * (top[:, 2] + top[:, 3]) + 1e-12)
