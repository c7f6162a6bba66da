"""Clean accuracy of a Keras model, batched, in inference mode: the one place it is computed
(training's periodic and final evaluation, eval.py's clean row, diagnose.py)."""

import numpy as np
import tensorflow as tf

from data_input.pipeline import eval_batches


def make_predict_fn(model, jit_compile=False):
  """A compiled `images -> predicted labels` function (training=False, float32)."""
  @tf.function(jit_compile=jit_compile, reduce_retracing=True)
  def predict(images):
    return tf.argmax(model(images, training=False), axis=-1)
  return predict


def correct_per_example(predict_fn, split, spec, batch_size, num_examples=None):
  """Whether each example is predicted correctly.

  Args:
    predict_fn: images -> predicted labels (make_predict_fn).
    split, spec: the data and its dataset spec.
    batch_size: images per call.
    num_examples: the first N examples (default all).

  Returns:
    A bool array over the first `num_examples` examples of `split`.
  """
  correct = [predict_fn(images).numpy() == labels
             for images, labels in eval_batches(split, spec, batch_size, num_examples)]
  return np.concatenate(correct) if correct else np.zeros(0, bool)


def clean_accuracy(predict_fn, split, spec, batch_size, num_examples=None):
  """(accuracy, number of examples) on the first `num_examples` of `split`; arguments as
  correct_per_example."""
  correct = correct_per_example(predict_fn, split, spec, batch_size, num_examples)
  return float(correct.mean()) if len(correct) else 0.0, len(correct)
