"""PGD (and FGSM as its one-step case) under L-infinity or L2, compiled once per model.

Madry's conventions: random start uniform in the epsilon-ball then clipped to the data
range; each step moves step_size along sign(grad) (L2: grad / ||grad||_2), projects back
into the epsilon-ball and clips to the data range; true labels; the model in inference
mode unless the config asks for training mode.
"""

import tensorflow as tf

from attacks.losses import attack_loss

_TINY = 1e-12
_COMPILED = {}  # (id(model), static options) -> (model, tf.function); the model ref pins the id


def _reduce_axes(x):
  return tf.range(1, tf.rank(x))


def _l2_norm(x):
  return tf.sqrt(tf.reduce_sum(tf.square(x), axis=_reduce_axes(x), keepdims=True))


def _build(model, loss, norm, targeted, model_training, score):
  """A tf.function running restarts x steps of PGD with every budget as a tensor."""
  linf = norm == 'linf'

  def logits_of(x):
    return tf.cast(model(x, training=model_training), tf.float32)

  def run(x, labels, goal, seed, eps, step_size, steps, restarts, start_scale, kappa, lo, hi):
    def project(x_adv, x0):
      if linf:
        x_adv = tf.clip_by_value(x_adv, x0 - eps, x0 + eps)
      else:
        delta = x_adv - x0
        x_adv = x0 + delta * tf.minimum(1.0, eps / tf.maximum(_l2_norm(delta), _TINY))
      return tf.clip_by_value(x_adv, lo, hi)

    def random_start(x0, restart):
      key = tf.stack([seed, tf.cast(restart, tf.int64)])
      if linf:
        radius = tf.minimum(eps, hi - lo)
        delta = radius * tf.random.stateless_uniform(tf.shape(x0), key, -1.0, 1.0)
      else:  # uniform in the L2 ball: Gaussian direction, radius eps * u^(1/d)
        direction = tf.random.stateless_normal(tf.shape(x0), key)
        direction /= tf.maximum(_l2_norm(direction), _TINY)
        dims = tf.cast(tf.reduce_prod(tf.shape(x0)[1:]), tf.float32)
        u = tf.random.stateless_uniform(tf.shape(_l2_norm(x0)), key + 1)
        radius = tf.minimum(eps, (hi - lo) * tf.sqrt(dims))
        delta = direction * radius * u ** (1.0 / dims)
      return project(x0 + start_scale * delta, x0)

    def pgd_step(x_adv, x0, target):
      with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x_adv)
        value = tf.reduce_sum(attack_loss(logits_of(x_adv), target, loss, kappa, targeted))
      grad = tape.gradient(value, x_adv, unconnected_gradients=tf.UnconnectedGradients.ZERO)
      direction = tf.sign(grad) if linf else grad / tf.maximum(_l2_norm(grad), _TINY)
      return project(x_adv + step_size * direction, x0)

    best = x
    fooled = tf.zeros(tf.shape(labels), tf.bool)
    for restart in tf.range(restarts):
      # Each restart attacks only the examples no earlier restart fooled (all of them
      # without scoring), so restarts cost in proportion to the points still robust.
      active = tf.reshape(tf.where(tf.logical_not(fooled)), [-1, 1])
      x0 = tf.gather_nd(x, active)
      target = tf.gather_nd(goal, active)
      x_adv = random_start(x0, restart)
      for _ in tf.range(steps):
        x_adv = pgd_step(x_adv, x0, target)
      if score:
        pred = tf.argmax(logits_of(x_adv), axis=-1, output_type=labels.dtype)
        success = tf.equal(pred, target) if targeted else tf.not_equal(
            pred, tf.gather_nd(labels, active))
        fooled = tf.tensor_scatter_nd_update(fooled, active, success)
      best = tf.tensor_scatter_nd_update(best, active, x_adv)
    return best, fooled

  return tf.function(run, reduce_retracing=True)


class Attack:
  """A configured attack on one model; call it on a batch of images and true labels."""

  def __init__(self, model, config, clip_range, score=True):
    """`clip_range`: the data range, (0, 1) for MNIST or (0, 255) for CIFAR.
    `score=False` skips the final forward pass that decides `fooled` (for training)."""
    self.model = model
    self.config = config
    self.clip_range = (float(clip_range[0]), float(clip_range[1]))
    c = config
    key = (id(model), c.loss, c.norm, c.targeted, c.model_training, score)
    if key not in _COMPILED:
      _COMPILED[key] = (model, _build(model, c.loss, c.norm, c.targeted, c.model_training, score))
    self._run = _COMPILED[key][1]

  def __call__(self, images, labels, seed=0, targets=None):
    """(x_adv, fooled) for a batch. Targeted attacks need `targets`. Callable eagerly or
    inside another tf.function (e.g. a training step), where `seed` may be a tensor."""
    return self._run(*self._arguments(images, labels, seed, targets))

  def concrete_function(self, images, labels):
    """The traced graph for inputs like these (to inspect or time tracing)."""
    return self._run.get_concrete_function(*self._arguments(images, labels, 0, None))

  def _arguments(self, images, labels, seed, targets):
    c = self.config
    if c.targeted and targets is None:
      raise ValueError(f'{c.name} is targeted: pass targets')
    labels = tf.convert_to_tensor(labels, tf.int64)
    goal = labels if targets is None else tf.convert_to_tensor(targets, tf.int64)
    f32 = lambda v: tf.constant(v, tf.float32)
    return (tf.convert_to_tensor(images, tf.float32), labels, goal, tf.cast(seed, tf.int64),
            f32(c.epsilon), f32(c.step_size), tf.constant(c.steps), tf.constant(c.restarts),
            f32(1.0 if c.random_start else 0.0), f32(c.kappa), f32(self.clip_range[0]),
            f32(self.clip_range[1]))
