"""Per-example quantities of the paper's linearized robustness model (Eq. 4).

For true class y and the most likely wrong class ybar (the largest wrong logit):
logit gap z_y - z_ybar, gradient gap ||grad_x z_y - grad_x z_ybar||_1, epsilon_L = logit
gap / gradient gap, the cosine between the two gradients, and ||grad_x z_y||_1.
"""

import numpy as np
import tensorflow as tf

from data_input.pipeline import eval_batches


def _per_example_stats(model):
  @tf.function(reduce_retracing=True)
  def stats(x, y):
    with tf.GradientTape(persistent=True) as tape:
      tape.watch(x)
      logits = model(x, training=False)
      mask = tf.one_hot(y, tf.shape(logits)[-1])
      ybar = tf.argmax(logits - 1e9 * mask, axis=-1)
      z_y = tf.reduce_sum(mask * logits, -1)
      z_ybar = tf.gather(logits, ybar, batch_dims=1)
      sum_y, sum_ybar = tf.reduce_sum(z_y), tf.reduce_sum(z_ybar)
    # Examples are independent in inference mode, so these sums give per-example gradients.
    g_y = tf.reshape(tape.gradient(sum_y, x), [tf.shape(x)[0], -1])
    g_ybar = tf.reshape(tape.gradient(sum_ybar, x), [tf.shape(x)[0], -1])
    gap = z_y - z_ybar
    grad_gap = tf.reduce_sum(tf.abs(g_y - g_ybar), -1)
    cosine = tf.reduce_sum(g_y * g_ybar, -1) / tf.maximum(
        tf.norm(g_y, axis=-1) * tf.norm(g_ybar, axis=-1), 1e-30)
    return {'logit_gap': gap, 'gradient_gap': grad_gap,
            'epsilon_L': gap / tf.maximum(grad_gap, 1e-30), 'cosine': cosine,
            'grad_true_l1': tf.reduce_sum(tf.abs(g_y), -1), 'logits': logits,
            'correct': tf.equal(tf.argmax(logits, -1), y)}
  return stats


def linearized_quantities(model, split, spec, num_examples, batch_size):
  """Eq. 4's quantities per example.

  Args:
    model: the Keras model.
    split, spec: test data and its dataset spec.
    num_examples, batch_size: the first N images, in batches.

  Returns:
    {name: numpy array over the first `num_examples` images}: logit gap, gradient gap,
    epsilon_L, cosine, ||grad z_y||_1, logits, correct.
  """
  stats = _per_example_stats(model)
  parts = [{k: v.numpy() for k, v in stats(tf.constant(x), tf.constant(y)).items()}
           for x, y in eval_batches(split, spec, batch_size, num_examples)]
  return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def predicted_accuracy(epsilon_l, epsilon):
  """Table 1's prediction: the share of examples with epsilon < epsilon_L."""
  return float(np.mean(epsilon < epsilon_l))
