"""Clean accuracy of a Keras model, batched, in inference mode."""

import tensorflow as tf

from data_input.pipeline import eval_batches


def make_predict_fn(model, jit_compile=False):
  """A compiled `images -> predicted labels` function (training=False, float32)."""
  @tf.function(jit_compile=jit_compile, reduce_retracing=True)
  def predict(images):
    return tf.argmax(model(images, training=False), axis=-1)
  return predict


def clean_accuracy(predict_fn, split, spec, batch_size, num_examples=None):
  """(accuracy, number of examples) on the first `num_examples` of `split`."""
  correct = total = 0
  for images, labels in eval_batches(split, spec, batch_size, num_examples):
    correct += int(tf.reduce_sum(tf.cast(predict_fn(images) == labels, tf.int32)))
    total += len(labels)
  return correct / max(total, 1), total
