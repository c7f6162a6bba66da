"""Label smoothing as written in the paper: y_warm = y_hot - alpha * (y_hot - 1/N_c)."""

import tensorflow as tf


def smooth_labels(labels, num_classes, alpha):
  """Soft targets for integer `labels`: the true class gets 1 - alpha + alpha/N_c, every
  other class alpha/N_c. alpha = 0 is one-hot; alpha = 1 is uniform."""
  y_hot = tf.one_hot(labels, num_classes, dtype=tf.float32)
  return y_hot - alpha * (y_hot - 1.0 / num_classes)
