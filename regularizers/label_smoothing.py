"""Label smoothing as written in the paper: y_warm = y_hot - alpha * (y_hot - 1/N_c)."""

import tensorflow as tf


def smooth_targets(targets, num_classes, alpha):
  """The paper's rule applied to (one-hot or already soft) targets of shape [B, N_c]."""
  return targets - alpha * (targets - 1.0 / num_classes)


def smooth_labels(labels, num_classes, alpha):
  """Soft targets for integer `labels`: the true class gets 1 - alpha + alpha/N_c, every
  other class alpha/N_c. alpha = 0 is one-hot; alpha = 1 is uniform."""
  return smooth_targets(tf.one_hot(labels, num_classes, dtype=tf.float32), num_classes, alpha)


def build(cfg, spec):
  """The cross-entropy's targets rule (registry place 'targets'), or None at alpha 0."""
  if cfg.alpha == 0:
    return None
  return lambda targets: smooth_targets(targets, spec.num_classes, cfg.alpha)
