"""What targeted attacks over the top wrong classes share (APGD-T, FAB-T)."""

import tensorflow as tf


def as_batch(images, labels):
  """(float32 images, int64 labels) tensors."""
  return tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(labels, tf.int64)


def top_wrong_classes(model, x, count):
  """The `count` highest-ranked classes after the predicted one, by the clean logits, one
  int64 [N] tensor per rank (the runner-up first), as AutoAttack's targeted attacks use."""
  ranked = tf.argsort(model(x, training=False), axis=-1, direction='DESCENDING')
  return [tf.cast(ranked[:, rank], tf.int64)
          for rank in range(1, min(count, ranked.shape[-1] - 1) + 1)]  # rank 0: predicted
