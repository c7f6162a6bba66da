"""APGD (Croce & Hein 2020): PGD with momentum and a step size that halves at checkpoints
where the loss stopped rising, restarting from the best point found. L-infinity.
APGD (untargeted, cross-entropy or DLR) and APGD-T (targeted DLR) each have their own
config type (attacks/config.py).

Per example: step size 2*epsilon, momentum 0.75 (none on the first step), checkpoints
after 22% of the iterations and then at shrinking intervals (by 3% down to 6%); at a
checkpoint the step halves (and the iterate returns to the highest-loss point) when the
loss rose in at most 75% of the steps since the last checkpoint, or when the step was not
halved last time and the best loss has not improved since. The returned example is a
misclassified iterate when one was met, else the highest-loss iterate.

APGD-T over k targets: for each of the k highest-ranked wrong classes of the clean
prediction in turn, targeted DLR on the examples still classified correctly.
"""

import numpy as np
import tensorflow as tf

from attacks.losses import dlr_loss
from attacks.targets import skips_empty_batch
from attacks.targets import top_wrong_classes
from attacks.losses import xent_loss

_ZERO = tf.UnconnectedGradients.ZERO  # a model that cuts the input gradient gets zeros


def checkpoint_schedule(iterations):
  """(is_checkpoint, interval) per iteration, as in Croce & Hein's reference code."""
  first = max(int(0.22 * iterations), 1)
  decrease, minimum = max(int(0.03 * iterations), 1), max(int(0.06 * iterations), 1)
  is_checkpoint = np.zeros(iterations, bool)
  interval = np.zeros(iterations, np.float32)
  k, since = first, 0
  for i in range(iterations):
    since += 1
    if since == k:
      is_checkpoint[i], interval[i] = True, k
      k, since = max(k - decrease, minimum), 0
  return is_checkpoint, interval


def _build(model, loss, model_training):
  def per_example_loss(x, labels, targets):
    logits = tf.cast(model(x, training=model_training), tf.float32)
    if loss == 'xent':
      return xent_loss(logits, labels), logits
    if loss == 'dlr':
      return dlr_loss(logits, labels, targets), logits
    raise ValueError(f'APGD optimizes xent or dlr, not {loss!r}')

  def loss_and_grad(x, labels, targets, targeted):
    with tf.GradientTape(watch_accessed_variables=False) as tape:
      tape.watch(x)
      value, logits = per_example_loss(x, labels, targets if targeted else None)
      total = tf.reduce_sum(value)
    return value, logits, tape.gradient(total, x, unconnected_gradients=_ZERO)

  def run(x, labels, targets, seed, eps, is_checkpoint, interval, lo, hi, targeted):
    expand = lambda v: tf.reshape(v, [-1] + [1] * (len(x.shape) - 1))

    def project(v):
      return tf.clip_by_value(tf.clip_by_value(v, x - eps, x + eps), lo, hi)

    def misclassified(logits):
      return tf.not_equal(tf.argmax(logits, -1, output_type=labels.dtype), labels)

    x_adv = project(x + eps * tf.random.stateless_uniform(tf.shape(x), seed, -1.0, 1.0))
    value, logits, grad = loss_and_grad(x_adv, labels, targets, targeted)
    fooled = misclassified(logits)
    x_found = x_adv                      # misclassified iterate, once met
    x_best, loss_best, grad_best = x_adv, value, grad
    x_prev = x_adv
    prev_loss = value
    step = 2.0 * eps * tf.ones_like(value)
    increases = tf.zeros_like(value)
    loss_best_at_check = loss_best
    halved_at_check = tf.ones(tf.shape(value), tf.bool)
    iterations = tf.shape(is_checkpoint)[0]
    for i in tf.range(iterations):
      momentum = tf.where(i > 0, 0.75, 1.0)
      z = project(x_adv + expand(step) * tf.sign(grad))
      x_new = project(x_adv + momentum * (z - x_adv) + (1.0 - momentum) * (x_adv - x_prev))
      x_prev, x_adv = x_adv, x_new
      value, logits, grad = loss_and_grad(x_adv, labels, targets, targeted)
      now_fooled = misclassified(logits)
      x_found = tf.where(expand(now_fooled), x_adv, x_found)
      fooled = tf.logical_or(fooled, now_fooled)
      increases += tf.cast(value > prev_loss, tf.float32)
      prev_loss = value
      better = value > loss_best
      x_best = tf.where(expand(better), x_adv, x_best)
      grad_best = tf.where(expand(better), grad, grad_best)
      loss_best = tf.where(better, value, loss_best)
      if is_checkpoint[i]:
        oscillating = increases <= 0.75 * interval[i]
        stalled = tf.logical_and(tf.logical_not(halved_at_check), loss_best_at_check >= loss_best)
        halve = tf.logical_or(oscillating, stalled)
        halved_at_check = halve
        loss_best_at_check = loss_best
        step = tf.where(halve, step / 2.0, step)
        x_adv = tf.where(expand(halve), x_best, x_adv)
        grad = tf.where(expand(halve), grad_best, grad)
        increases = tf.zeros_like(increases)
    return tf.where(expand(fooled), x_found, x_best), fooled

  return tf.function(run, reduce_retracing=True)


class _APGDRuns:
  """Compiled APGD runs and restarts on the points still robust (shared by APGD, APGD-T)."""

  def __init__(self, model, config, clip_range, loss):
    self.model, self.config = model, config
    self.clip_range = (float(clip_range[0]), float(clip_range[1]))
    self._run = _build(model, loss, config.model_training)
    is_checkpoint, interval = checkpoint_schedule(config.steps)
    self._schedule = (tf.constant(is_checkpoint), tf.constant(interval))

  def _once(self, x, labels, targets, seed, salt):
    lo, hi = self.clip_range
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(7 + salt, tf.int64)])
    return self._run(x, labels, labels if targets is None else targets, seed,
                     tf.constant(self.config.epsilon, tf.float32), *self._schedule,
                     tf.constant(lo), tf.constant(hi), targets is not None)

  def _on_robust(self, x, labels, targets, seed, salt, x_adv, fooled):
    """`restarts` runs, each on the points no earlier run fooled; updated (x_adv, fooled)."""
    for restart in range(self.config.restarts):
      active = tf.reshape(tf.where(tf.logical_not(fooled)), [-1, 1])
      if int(tf.shape(active)[0]) == 0:  # never call the model on an empty batch
        break
      adv, hit = self._once(tf.gather_nd(x, active), tf.gather_nd(labels, active),
                            None if targets is None else tf.gather_nd(targets, active),
                            seed, salt + restart)
      x_adv = tf.tensor_scatter_nd_update(x_adv, active, adv)
      fooled = tf.tensor_scatter_nd_update(fooled, active, hit)
    return x_adv, fooled


class APGD(_APGDRuns):
  """APGD-CE / APGD-DLR (attacks.config.APGDConfig); call like attacks.Attack."""

  def __init__(self, model, config, clip_range):
    super().__init__(model, config, clip_range, config.loss)

  @skips_empty_batch
  def __call__(self, x, labels, seed=0):
    if self.config.restarts == 1:  # one compiled call (also inside a replica's graph)
      return self._once(x, labels, None, seed, 0)
    return self._on_robust(x, labels, None, seed, 0, x, tf.zeros(tf.shape(labels), tf.bool))


class APGDT(_APGDRuns):
  """APGD-T (attacks.config.APGDTConfig): targeted DLR against each of the top-k wrong
  classes of the clean prediction in turn, on the points still robust."""

  def __init__(self, model, config, clip_range):
    super().__init__(model, config, clip_range, 'dlr')

  @skips_empty_batch
  def __call__(self, x, labels, seed=0):
    fooled = tf.zeros(tf.shape(labels), tf.bool)
    x_adv = x
    for rank, targets in enumerate(top_wrong_classes(self.model, x, self.config.targets), 1):
      x_adv, fooled = self._on_robust(x, labels, targets, seed, 100 * rank, x_adv, fooled)
    return x_adv, fooled
