"""Cross-entropy loss landscapes around test images (Figures 5 and 9)."""

import numpy as np
import tensorflow as tf


def loss_landscapes(model, images, labels, extent, points, seed=0):
  """Cross-entropy landscapes around each image (Figures 5, 9).

  Args:
    model: the Keras model.
    images, labels: the N images (model scale) and their labels.
    extent: half-width of the grid in pixel units.
    points: grid points per axis.
    seed: seed of the Rademacher directions.

  Returns:
    {'random': [N, points, points], 'adversarial': [...]}: xent at x + e1 d1 + e2 d2 for
    e1, e2 in linspace(-extent, extent, points); 'random': d1, d2 Rademacher (+-1 per
    pixel); 'adversarial': d1 = sign(grad_x xent), d2 Rademacher. No clipping to the data
    range, as the paper's formula.
  """
  rng = np.random.default_rng(seed)
  x = tf.constant(images, tf.float32)
  y = tf.constant(labels, tf.int64)
  with tf.GradientTape() as tape:
    tape.watch(x)
    loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x, training=False)))
  adversarial = np.sign(tape.gradient(loss, x).numpy())
  rademacher = lambda: rng.choice([-1.0, 1.0], size=images.shape).astype(np.float32)
  grid = np.linspace(-extent, extent, points, dtype=np.float32)
  e1, e2 = [a.reshape(-1) for a in np.meshgrid(grid, grid, indexing='ij')]
  out = {}
  for name, d1, d2 in (('random', rademacher(), rademacher()),
                       ('adversarial', adversarial, rademacher())):
    values = np.empty((len(images), points * points), np.float32)
    for i in range(len(images)):
      batch = (images[i][None] + e1[:, None, None, None] * d1[i][None] +
               e2[:, None, None, None] * d2[i][None]).astype(np.float32)
      logits = model(batch, training=False)
      values[i] = tf.nn.sparse_softmax_cross_entropy_with_logits(
          tf.fill([len(batch)], y[i]), logits).numpy()
    out[name] = values.reshape(len(images), points, points)
  return out, grid
