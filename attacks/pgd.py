"""PGD (and FGSM as its one-step case) under L-infinity or L2, compiled once per attack.

Madry's conventions: random start uniform in the epsilon-ball then clipped to the data
range; each step moves step_size along sign(grad) (L2: grad / ||grad||_2), projects back
into the epsilon-ball and clips to the data range; true labels; the model in inference
mode unless the config asks for training mode.

Restarts attack only the points no earlier restart fooled, so their cost follows the
points still robust. With `early_stop` a point also leaves its restart as soon as an
iterate fools it (seen in the forward pass its next gradient needs anyway) and that
iterate is kept; without it every point takes every step and the final iterate is scored
(Madry's and the paper's protocol). The model is never called on an empty batch:
TensorFlow 2.21's oneDNN Conv2D returns a tensor of the input's shape for one, which
silently feeds the image into the next layer (docs/assumptions.md).
"""

import tensorflow as tf

from attacks.losses import attack_loss
from madry_compat.precision import model_precision

_TINY = 1e-12


def _reduce_axes(x):
  return tf.range(1, tf.rank(x))


def _l2_norm(x):
  return tf.sqrt(tf.reduce_sum(tf.square(x), axis=_reduce_axes(x), keepdims=True))


def _build(model, loss, norm, targeted, model_training, score, early_stop, confirm):
  """A tf.function running restarts x steps of PGD with every budget as a tensor; returns
  (x_adv, fooled, logits of x_adv as computed inside the loops). `confirm` (images ->
  labels predicted by the float32 model, or None): with early_stop, a point stops only when
  it agrees the iterate fools it."""
  linf = norm == 'linf'
  classes = model.output_shape[-1]

  def logits_of(x):
    return tf.cast(model(x, training=model_training), tf.float32)

  def run(x, labels, goal, seed, eps, step_size, steps, restarts, start_scale, kappa, lo, hi,
          momentum):
    batch_shape = tf.TensorShape([None]).concatenate(x.shape[1:])

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

    def logits_and_grad(x_adv, target):
      with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x_adv)
        logits = logits_of(x_adv)
        value = tf.reduce_sum(attack_loss(logits, target, loss, kappa, targeted))
      grad = tape.gradient(value, x_adv, unconnected_gradients=tf.UnconnectedGradients.ZERO)
      return logits, grad

    def fooled_by(pred, true, target):
      return tf.equal(pred, target) if targeted else tf.not_equal(pred, true)

    def succeeded(logits, true, target):
      return fooled_by(tf.argmax(logits, axis=-1, output_type=true.dtype), true, target)

    def confirmed(hit, x_adv, true, target):
      """The hits the float32 model agrees with (it sees only the hit points)."""
      index = tf.where(hit)[:, 0]

      def agree():
        pred = tf.cast(confirm(tf.gather(x_adv, index)), true.dtype)
        ok = fooled_by(pred, tf.gather(true, index), tf.gather(target, index))
        return tf.tensor_scatter_nd_update(tf.zeros_like(hit), index[:, None], ok)
      return tf.cond(tf.size(index) > 0, agree, lambda: tf.zeros_like(hit))

    def record(state, index, x_adv, logits, hit):
      """Writes these points' iterates, logits and outcomes into the batch-wide state."""
      best, fooled, best_logits = state
      index = index[:, None]
      return (tf.tensor_scatter_nd_update(best, index, x_adv),
              tf.tensor_scatter_nd_update(fooled, index, hit),
              tf.tensor_scatter_nd_update(best_logits, index, logits))

    def step_body(step, index, x_adv, x0, true, target, velocity, best, fooled, best_logits):
      logits, grad = logits_and_grad(x_adv, target)
      if early_stop:  # the iterate that fooled a point is its result; it leaves the batch
        hit = succeeded(logits, true, target)
        if confirm is not None:
          hit = confirmed(hit, x_adv, true, target)
        best, fooled, best_logits = record(
            (best, fooled, best_logits), tf.boolean_mask(index, hit),
            tf.boolean_mask(x_adv, hit), tf.boolean_mask(logits, hit), tf.boolean_mask(hit, hit))
        keep = tf.logical_not(hit)
        index, x_adv, x0, true, target, grad, velocity = (
            tf.boolean_mask(t, keep) for t in (index, x_adv, x0, true, target, grad, velocity))
      # MI-FGSM (Dong et al. 2018): g = momentum g + grad / ||grad||_1; momentum 0 is PGD.
      l1 = tf.reduce_sum(tf.abs(grad), axis=_reduce_axes(grad), keepdims=True)
      velocity = momentum * velocity + grad / tf.maximum(l1, _TINY)
      direction = tf.sign(velocity) if linf else velocity / tf.maximum(_l2_norm(velocity), _TINY)
      x_adv = project(x_adv + step_size * direction, x0)
      return step + 1, index, x_adv, x0, true, target, velocity, best, fooled, best_logits

    def restart_body(restart, best, fooled, best_logits):
      index = tf.where(tf.logical_not(fooled))[:, 0]
      x0, true, target = tf.gather(x, index), tf.gather(labels, index), tf.gather(goal, index)
      x_adv = random_start(x0, restart)
      _, index, x_adv, x0, true, target, _, best, fooled, best_logits = tf.while_loop(
          lambda step, index, *_: tf.logical_and(step < steps, tf.size(index) > 0),
          step_body, (tf.constant(0), index, x_adv, x0, true, target, tf.zeros_like(x0), best,
                      fooled, best_logits),
          shape_invariants=(tf.TensorShape([]), tf.TensorShape([None]), batch_shape,
                            batch_shape, tf.TensorShape([None]), tf.TensorShape([None]),
                            batch_shape, best.shape, fooled.shape, best_logits.shape))
      if score:  # the final iterate of the points still attacked (possibly none)
        logits = tf.cond(tf.size(index) > 0, lambda: logits_of(x_adv),
                         lambda: tf.zeros([0, classes]))
        hit = succeeded(logits, true, target)
      else:
        logits = tf.zeros([tf.size(index), classes])
        hit = tf.zeros(tf.shape(index), tf.bool)
      best, fooled, best_logits = record((best, fooled, best_logits), index, x_adv, logits, hit)
      return restart + 1, best, fooled, best_logits

    n = tf.shape(labels)[0]
    state = (tf.constant(0), x, tf.zeros([n], tf.bool), tf.zeros([n, classes]))
    # Without scoring nothing counts as fooled, so every restart attacks every point.
    _, best, fooled, best_logits = tf.while_loop(
        lambda restart, _, fooled, __: tf.logical_and(
            restart < restarts, tf.reduce_any(tf.logical_not(fooled))),
        restart_body, state)
    return best, fooled, best_logits

  return tf.function(run, reduce_retracing=True)


def target_classes(rule, labels, num_classes, seed):
  """The target class per example: 'next' is (y + 1) mod N, 'random' a wrong class drawn
  uniformly from the stateless seed (seed, 17)."""
  if rule == 'next':
    return (labels + 1) % num_classes
  key = tf.stack([tf.cast(seed, tf.int64), tf.constant(17, tf.int64)])
  offset = tf.random.stateless_uniform(tf.shape(labels), key, 1, num_classes, dtype=tf.int64)
  return (labels + offset) % num_classes


class Attack:
  """A configured attack on one model; call it on a batch of images and true labels."""

  def __init__(self, model, config, clip_range, score=True, confirm_with=None):
    """`clip_range`: the data range, (0, 1) for MNIST or (0, 255) for CIFAR.
    `score=False` skips the final forward pass that decides `fooled` (for training).
    `confirm_with` (images -> labels predicted by the float32 model): needed exactly when
    early_stop meets bfloat16 gradients, whose own verdict the float32 model does not always
    share; a point then stops only when both agree it is fooled."""
    c = config
    if c.early_stop and not score:
      raise ValueError(f'{c.name}: early_stop needs scoring (it is an evaluation protocol)')
    needs_confirm = c.early_stop and c.precision != 'float32'
    if needs_confirm != (confirm_with is not None):
      raise ValueError(f'{c.name}: confirm_with (the float32 model\'s predictions) is for '
                       'early_stop with bfloat16 gradients, and needed there' if needs_confirm
                       else f'{c.name}: confirm_with applies only to early_stop with '
                       'bfloat16 gradients')
    if model_precision(model) != c.precision:
      raise ValueError(f'{c.name}: configured for {c.precision} gradients, but the model '
                       f'computes in {model_precision(model)} (madry_compat.checkpoint.'
                       'precision_twin makes a copy in another precision)')
    self.model = model
    self.config = config
    self.clip_range = (float(clip_range[0]), float(clip_range[1]))
    self.num_classes = model.output_shape[-1]
    self._run = _build(model, c.loss, c.norm, c.targeted, c.model_training, score, c.early_stop,
                       confirm_with)

  def __call__(self, images, labels, seed=0, targets=None):
    """(x_adv, fooled) for a batch. A targeted config draws its targets by its rule unless
    `targets` are given. Callable eagerly or inside another tf.function (e.g. a training
    step), where `seed` may be a tensor."""
    x_adv, fooled, _ = self.outcome(images, labels, seed, targets)
    return x_adv, fooled

  def outcome(self, images, labels, seed=0, targets=None):
    """(x_adv, fooled, logits): `logits` are those of x_adv as the compiled loops computed
    them (zeros without scoring), so tests can check the loops against the model."""
    return self._run(*self._arguments(images, labels, seed, targets))

  def concrete_function(self, images, labels):
    """The traced graph for inputs like these (to inspect or time tracing)."""
    return self._run.get_concrete_function(*self._arguments(images, labels, 0, None))

  def _arguments(self, images, labels, seed, targets):
    c = self.config
    if targets is not None and not c.targeted:
      raise ValueError(f'{c.name} is untargeted: it takes no targets')
    labels = tf.convert_to_tensor(labels, tf.int64)
    if c.targeted and targets is None:
      targets = target_classes(c.target, labels, self.num_classes, seed)
    goal = labels if targets is None else tf.convert_to_tensor(targets, tf.int64)
    f32 = lambda v: tf.constant(v, tf.float32)
    return (tf.convert_to_tensor(images, tf.float32), labels, goal, tf.cast(seed, tf.int64),
            f32(c.epsilon), f32(c.step_size), tf.constant(c.steps), tf.constant(c.restarts),
            f32(1.0 if c.random_start else 0.0), f32(c.kappa), f32(self.clip_range[0]),
            f32(self.clip_range[1]), f32(c.momentum))
