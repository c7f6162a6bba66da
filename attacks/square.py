"""The Square attack (Andriushchenko et al. 2020), L-infinity: a score-based random search
that needs no gradients, so gradient masking does not stop it.

Start from vertical stripes of +-epsilon; each query redraws one random square window
(its side shrinking on the paper's schedule for p, starting at p_init of the image;
not rescaled to the query budget, as AutoAttack's standard version)
to +-epsilon per channel and keeps the change when the margin loss
z_y - max_{i != y} z_i drops. An example stops once misclassified. Queries run in
compiled chunks on the examples still robust, so the cost follows the robust ones.
"""

import math

import tensorflow as tf

from attacks.config import SquareConfig
from attacks.losses import logit_margin
from attacks.seeds import derived_seed
from attacks.targets import skips_empty_batch

_CHUNK = 100  # queries per compiled call


def window_fraction(query, total_queries, p_init=SquareConfig.p_init, rescale_schedule=False):
  """The share p of the image a window covers at `query`, on the schedule of the paper's code,
  written for 10,000 queries: AutoAttack's standard version uses it as is (with 5,000
  queries the last halvings never come); `rescale_schedule` stretches it to the budget."""
  i = int(query / total_queries * 10000) if rescale_schedule else query
  for bound, divisor in ((8000, 512), (6000, 256), (4000, 128), (2000, 64), (1000, 32),
                         (500, 16), (200, 8), (50, 4), (10, 2)):
    if i > bound:
      return p_init / divisor
  return p_init


def _margin(model, x, labels):
  return logit_margin(tf.cast(model(x, training=False), tf.float32), labels)


def _build(model):
  def run(x, labels, x_best, margin, seed, sides, eps, lo, hi):
    shape = tf.shape(x)
    n, h, w, c = shape[0], shape[1], shape[2], shape[3]
    for q in tf.range(tf.shape(sides)[0]):
      side = sides[q]
      key = tf.stack([seed, tf.cast(q, tf.int64)])
      top = tf.random.stateless_uniform([n, 1, 1, 1], key, 0, h - side + 1, dtype=tf.int32)
      left = tf.random.stateless_uniform([n, 1, 1, 1], key + 1, 0, w - side + 1, dtype=tf.int32)
      rows = tf.reshape(tf.range(h), [1, -1, 1, 1])
      cols = tf.reshape(tf.range(w), [1, 1, -1, 1])
      window = tf.logical_and(tf.logical_and(rows >= top, rows < top + side),
                              tf.logical_and(cols >= left, cols < left + side))
      signs = tf.sign(tf.random.stateless_uniform([n, 1, 1, c], key + 2, -1.0, 1.0))
      candidate = tf.clip_by_value(tf.where(window, x + eps * signs, x_best), lo, hi)
      candidate = tf.clip_by_value(candidate, x - eps, x + eps)
      new_margin = _margin(model, candidate, labels)
      accept = tf.logical_and(new_margin < margin, margin >= 0)
      x_best = tf.ensure_shape(tf.where(tf.reshape(accept, [-1, 1, 1, 1]), candidate, x_best),
                               x.shape)
      margin = tf.ensure_shape(tf.where(accept, new_margin, margin), labels.shape)
    return x_best, margin

  return tf.function(run, reduce_retracing=True)


class Square:
  """Square attack on one model; call like attacks.Attack (NHWC images)."""

  def __init__(self, model, config, clip_range):
    self.model, self.config = model, config
    self.clip_range = (float(clip_range[0]), float(clip_range[1]))
    self._run = _build(model)

  def _sides(self, start, stop, h):
    """Window side per query in [start, stop)."""
    sides = []
    for q in range(start, stop):
      p = window_fraction(q, self.config.queries, self.config.p_init,
                          self.config.rescale_schedule)
      sides.append(min(max(int(round(math.sqrt(p * h * h))), 1), h - 1))
    return tf.constant(sides, tf.int32)

  @skips_empty_batch
  def __call__(self, x, labels, seed=0):
    eps = self.config.epsilon
    lo, hi = self.clip_range
    _, h, w, c = x.shape
    stripes = tf.sign(tf.random.stateless_uniform([x.shape[0], 1, w, c],
                                                  tf.constant([seed, 0], tf.int64), -1.0, 1.0))
    x_best = tf.clip_by_value(x + eps * stripes, lo, hi)
    margin = _margin(self.model, x_best, labels)
    for start in range(1, self.config.queries, _CHUNK):  # the stripes used query 1
      active = tf.reshape(tf.where(margin >= 0), [-1, 1])
      if int(tf.shape(active)[0]) == 0:
        break
      stop = min(start + _CHUNK, self.config.queries)
      adv, m = self._run(tf.gather_nd(x, active), tf.gather_nd(labels, active),
                         tf.gather_nd(x_best, active), tf.gather_nd(margin, active),
                         tf.constant(derived_seed(seed, start), tf.int64),
                         self._sides(start, stop, h), tf.constant(eps, tf.float32),
                         tf.constant(lo), tf.constant(hi))
      x_best = tf.tensor_scatter_nd_update(x_best, active, adv)
      margin = tf.tensor_scatter_nd_update(margin, active, m)
    return x_best, margin < 0
