"""FAB-T (Croce & Hein 2020, "Minimally distorted adversarial examples with a fast adaptive
boundary attack"), targeted, L-infinity: a minimum-norm attack, as AutoAttack's standard
version runs it (the top wrong classes in turn, one restart; FABTConfig holds the counts).

Each iteration linearizes the margin z_t - z_y of the target t over the true class y at
the iterate, projects both the iterate and the original image onto that hyperplane (the
smallest L-infinity step that reaches it, within the data range), moves to a convex
combination of the two projections (weight of the original's at most alpha_max, both
overshot by eta) and, once the iterate is misclassified, keeps it when it is the closest
adversarial point so far and steps back towards the original by beta. A point counts as
broken when an adversarial point within epsilon was found.
"""

import tensorflow as tf

from attacks.targets import skips_empty_batch
from attacks.targets import top_wrong_classes

_ZERO = tf.UnconnectedGradients.ZERO


def linf_projection(points, w, b, lo, hi):
  """The smallest-L-infinity steps d with w . (p + d) = b and lo <= p + d <= hi, per row.

  Row by row: with c = b - w . p, moving coordinate i by up to t in the direction
  sign(c w_i) (as far as the box lets it: room_i) changes w . p by at most
  sum_i |w_i| min(t, room_i), which grows piecewise linearly in t; the smallest t reaching
  |c| is found between two sorted rooms. When no t reaches it (the box is in the way), the
  step goes as far as the box allows.

  Args:
    points, w: [N, D] points and hyperplane normals.
    b: [N] offsets.
    lo, hi: the data range.

  Returns:
    [N, D] steps d.
  """
  c = b - tf.reduce_sum(w * points, axis=1)
  direction = tf.sign(c)[:, None] * tf.sign(w)
  room = tf.where(direction > 0, hi - points, points - lo)  # how far each coordinate can go
  weight = tf.abs(w) * tf.cast(direction != 0, w.dtype)
  order = tf.argsort(room, axis=1)
  r = tf.gather(room, order, batch_dims=1)
  a = tf.gather(weight, order, batch_dims=1)
  below = tf.cumsum(a * r, axis=1, exclusive=True)   # sum of a r over rooms smaller than r_j
  above = tf.cumsum(a, axis=1, reverse=True)         # sum of a over rooms from r_j on
  reach = below + r * above                          # sum_i |w_i| min(r_j, room_i)
  target = tf.abs(c)[:, None]
  first = tf.argmax(tf.cast(reach >= target, tf.int32), axis=1, output_type=tf.int32)
  feasible = tf.reduce_any(reach >= target, axis=1)
  t = (tf.abs(c) - tf.gather(below, first, batch_dims=1)) / tf.maximum(
      tf.gather(above, first, batch_dims=1), 1e-12)
  t = tf.where(feasible, t, tf.reduce_max(room, axis=1))
  return direction * tf.minimum(t[:, None], room)


def _build(model, model_training):
  def margin_and_grad(x, labels, targets):
    """z_t - z_y per example and its input gradient (one forward, one backward pass)."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
      tape.watch(x)
      logits = tf.cast(model(x, training=model_training), tf.float32)
      margin = (tf.gather(logits, targets, batch_dims=1) -
                tf.gather(logits, labels, batch_dims=1))
      total = tf.reduce_sum(margin)  # inside the tape, or the gradient is disconnected
    return margin, tape.gradient(total, x, unconnected_gradients=_ZERO)

  def run(x, labels, targets, iterations, alpha_max, eta, beta, lo, hi):
    n = tf.shape(x)[0]
    flat = lambda v: tf.reshape(v, [n, -1])
    x0 = flat(x)
    linf = lambda v: tf.reduce_max(tf.abs(v), axis=1)

    def body(i, x1, best, distance):
      margin, grad = margin_and_grad(tf.reshape(x1, tf.shape(x)), labels, targets)
      w = flat(grad)
      b = tf.reduce_sum(w * x1, axis=1) - margin  # the linearized boundary: w . z = b
      d1 = linf_projection(x1, w, b, lo, hi)
      d2 = linf_projection(x0, w, b, lo, hi)
      a1 = tf.maximum(linf(d1), 1e-8)
      a2 = tf.maximum(linf(d2), 1e-8)
      alpha = tf.clip_by_value(a1 / (a1 + a2), 0.0, alpha_max)[:, None]
      x1 = tf.clip_by_value((x1 + eta * d1) * (1 - alpha) + (x0 + eta * d2) * alpha, lo, hi)
      logits = model(tf.reshape(x1, tf.shape(x)), training=model_training)
      fooled = tf.not_equal(tf.argmax(logits, -1, output_type=labels.dtype), labels)
      closer = tf.logical_and(fooled, linf(x1 - x0) < distance)
      best = tf.where(closer[:, None], x1, best)
      distance = tf.where(closer, linf(x1 - x0), distance)
      x1 = tf.where(fooled[:, None], x0 + (x1 - x0) * beta, x1)
      return i + 1, x1, best, distance

    points = tf.TensorShape([None, x0.shape[1]])  # a batch of 1 must not fix the batch size:
    # broadcasting 1 against an unknown size gives an unknown size after one iteration
    _, _, best, distance = tf.while_loop(
        lambda i, *_: i < iterations, body,
        (tf.constant(0), x0, x0, tf.fill([n], tf.constant(float('inf')))),
        shape_invariants=(tf.TensorShape([]), points, points, tf.TensorShape([None])))
    return tf.reshape(best, tf.shape(x)), distance

  return tf.function(run, reduce_retracing=True)


class FABT:
  """FAB-T (attacks.config.FABTConfig); call like attacks.Attack. `fooled[i]` means an
  adversarial point within epsilon was found; `x_adv[i]` is the closest one found, or the
  clean image."""

  def __init__(self, model, config, clip_range):
    self.model, self.config = model, config
    self.clip_range = (float(clip_range[0]), float(clip_range[1]))
    self._run = _build(model, config.model_training)

  def minimal_adversarial(self, x, labels, targets):
    """(closest adversarial point found towards `targets`, its L-infinity distance; inf
    where none was found), over one run per restart."""
    c, (lo, hi) = self.config, self.clip_range
    return self._run(x, labels, targets, tf.constant(c.steps), tf.constant(c.alpha_max),
                     tf.constant(c.eta), tf.constant(c.beta), tf.constant(lo), tf.constant(hi))

  @skips_empty_batch
  def __call__(self, x, labels, seed=0):
    del seed  # the standard version's single restart starts at the image itself
    fooled = tf.zeros(tf.shape(labels), tf.bool)
    x_adv = x
    for targets in top_wrong_classes(self.model, x, self.config.targets):
      active = tf.reshape(tf.where(tf.logical_not(fooled)), [-1, 1])
      if int(tf.shape(active)[0]) == 0:
        break
      found, distance = self.minimal_adversarial(
          tf.gather_nd(x, active), tf.gather_nd(labels, active), tf.gather_nd(targets, active))
      hit = distance <= self.config.epsilon * (1 + 1e-6)
      x_adv = tf.tensor_scatter_nd_update(
          x_adv, active, tf.where(hit[:, None, None, None], found, tf.gather_nd(x, active)))
      fooled = tf.tensor_scatter_nd_update(fooled, active, hit)
    return x_adv, fooled
