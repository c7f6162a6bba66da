"""What the eagerly driven attacks share: input conversion, the empty-batch rule, and the
top wrong classes that targeted attacks (APGD-T, FAB-T) go after."""

import functools

import tensorflow as tf


def as_batch(images, labels):
  """(float32 images, int64 labels) tensors."""
  return tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(labels, tf.int64)


def skips_empty_batch(call):
  """Decorates an attack's __call__(images, labels, seed): it receives float32 / int64
  tensors, and an empty batch comes back at once as (images, no fooled), never reaching
  the model (TF 2.21's oneDNN Conv2D mishandles empty batches; attacks/pgd.py)."""
  @functools.wraps(call)
  def wrapper(self, images, labels, seed=0):
    x, labels = as_batch(images, labels)
    if x.shape[0] == 0:
      return x, tf.zeros([0], tf.bool)
    return call(self, x, labels, seed)
  return wrapper


def top_wrong_classes(model, x, count):
  """The `count` highest-ranked classes after the predicted one, by the clean logits, one
  int64 [N] tensor per rank (the runner-up first), as AutoAttack's targeted attacks use."""
  ranked = tf.argsort(model(x, training=False), axis=-1, direction='DESCENDING')
  return [tf.cast(ranked[:, rank], tf.int64)
          for rank in range(1, min(count, ranked.shape[-1] - 1) + 1)]  # rank 0: predicted
