"""Runs one planned attack over the first N test examples and scores it on the target."""

import dataclasses
import math
import time

from absl import logging
import numpy as np
import tensorflow as tf

from attacks import config_record
from attacks import make_attack
from attacks.registry import get_method
from attacks.seeds import derived_seed
from data_input.pipeline import eval_batches
from evaluation.accuracy import correct_per_example
from run_support.distribution import is_distributed
from run_support.distribution import replicated_attack
from run_support.machine import machine_record


_RESTART_SALT = 7919000  # seed offset of each further random stream (restart)


@dataclasses.dataclass
class AttackResult:
  """Per-example outcome of one attack (or of clean evaluation) and its bookkeeping."""
  name: str
  threat: str            # 'clean', 'white-box', 'black-box' or 'sanity'
  chain: object          # 'autoattack' or None
  description: str
  config: dict           # attacks.config_record(...), plus the black-box source's state
  correct: np.ndarray    # bool per example: the target still classifies it correctly
  seconds: float
  sanity: dict
  machine: dict = None   # run_support.machine.machine_record() where `seconds` was measured
  resumed_batches: int = 0  # batches (and their seconds) taken from a cut-off earlier run
  # Black-box: batches whose crafted examples came from the transfer cache (crafted by an
  # earlier run, for this target or another); their crafting time is not in `seconds`.
  cached_batches: int = 0

  @property
  def accuracy(self):
    return float(np.mean(self.correct)) if len(self.correct) else float('nan')

  @property
  def epsilon(self):
    return self.config.get('epsilon')

  def to_json(self):
    config = {k: ('inf' if isinstance(v, float) and math.isinf(v) else v)
              for k, v in self.config.items()}  # JSON has no infinity
    entry = {'name': self.name, 'threat': self.threat, 'chain': self.chain,
             'description': self.description, 'config': config, 'accuracy': self.accuracy,
             'seconds': round(self.seconds, 3), 'machine': self.machine, 'sanity': self.sanity,
             'correct': ''.join('1' if c else '0' for c in self.correct)}
    # Only when non-zero: results measured in one go keep their old form.
    for field in ('resumed_batches', 'cached_batches'):
      if getattr(self, field):
        entry[field] = getattr(self, field)
    return entry

  @classmethod
  def from_json(cls, entry):
    config = {k: (float('inf') if v == 'inf' else v) for k, v in entry['config'].items()}
    return cls(name=entry['name'], threat=entry['threat'], chain=entry.get('chain'),
               description=entry['description'], config=config,
               correct=np.array([c == '1' for c in entry['correct']], bool),
               seconds=entry['seconds'], sanity=entry['sanity'],
               machine=entry.get('machine'),  # None: measured before machines were recorded
               resumed_batches=entry.get('resumed_batches', 0),
               cached_batches=entry.get('cached_batches', 0))


def clean_result(predict, split, spec, num_examples, batch_size):
  """The clean row of an evaluation (an AttackResult named 'clean'); arguments as
  evaluation.accuracy.correct_per_example."""
  start = time.perf_counter()
  correct = correct_per_example(predict, split, spec, batch_size, num_examples)
  return AttackResult('clean', 'clean', None, 'no attack', {}, correct,
                      time.perf_counter() - start, {'ok': True}, machine_record())


def _attack_seed(seed, batch, stream):
  """The seed of one batch's attack: its own stream for each restart or chain member."""
  return derived_seed(seed, batch) + stream * _RESTART_SALT


def recorded_config(planned, source_state):
  """What results.json records of a planned attack (black-box: with its source model; a
  later random stream, as a restart of the restarts chain, with its number)."""
  record = dict(config_record(planned.config),
                source=source_state if planned.threat == 'black-box' else None)
  return dict(record, stream=planned.stream) if planned.stream else record


class _Sanity:
  """Madry's run_attack.py checks: perturbation within epsilon, data range kept, no NaN."""

  def __init__(self, config, lo, hi):
    self.config, self.lo, self.hi = config, lo, hi
    self.max_linf = self.max_l2 = 0.0
    self.min, self.max, self.nans = math.inf, -math.inf, 0

  def update(self, x, x_adv):
    delta = (x_adv - x).reshape(len(x), -1)
    self.max_linf = max(self.max_linf, float(np.abs(delta).max(initial=0.0)))
    self.max_l2 = max(self.max_l2, float(np.linalg.norm(delta, axis=1).max(initial=0.0)))
    self.min, self.max = min(self.min, float(x_adv.min())), max(self.max, float(x_adv.max()))
    self.nans += int(np.isnan(x_adv).sum())

  def state(self):
    """What absorb() needs to merge this batch's checks into another _Sanity (JSON-ready)."""
    attacked = self.min <= self.max
    return {'max_linf': self.max_linf, 'max_l2': self.max_l2, 'nans': self.nans,
            'min': self.min if attacked else None, 'max': self.max if attacked else None}

  def absorb(self, state):
    """Merges the checks of a batch measured elsewhere (a state() of an earlier run)."""
    self.max_linf = max(self.max_linf, state['max_linf'])
    self.max_l2 = max(self.max_l2, state['max_l2'])
    self.nans += state['nans']
    if state['min'] is not None:
      self.min, self.max = min(self.min, state['min']), max(self.max, state['max'])

  def report(self):
    eps = self.config.epsilon
    size = self.max_linf if self.config.norm == 'linf' else self.max_l2
    tolerance = 1e-4 * max(self.hi - self.lo, 1.0)
    within = math.isinf(eps) or size <= eps + tolerance
    in_range = self.min >= self.lo - tolerance and self.max <= self.hi + tolerance
    attacked = self.min <= self.max  # no pixel range when every example was already broken
    return {'max_linf': self.max_linf, 'max_l2': self.max_l2,
            'min': self.min if attacked else None, 'max': self.max if attacked else None,
            'nans': self.nans, 'within_epsilon': within, 'in_range': in_range,
            'ok': bool(within and in_range and self.nans == 0)}


def attack_result(target_predict, crafting_model, planned, source_state, split, spec,
                  num_examples, batch_size, seed, on_batch=None, only=None, strategy=None,
                  cache=None, progress=None):
  """Crafts a planned attack and scores it on the target.

  Args:
    target_predict: images -> predicted labels of the target (evaluation.accuracy).
    crafting_model: the target for white-box and sanity attacks, else the black-box source.
    planned: an evaluation.plan.PlannedAttack.
    source_state: the black-box source's model state (recorded for black-box attacks).
    split, spec, num_examples, batch_size: the first `num_examples` test images, batched.
    seed: batch i's attack seed is derived_seed(seed, i) (attacks/seeds.py), plus
      7919000 times the planned attack's stream (plus r for restart r of a black-box attack).
    on_batch: progress callback(batch, batches, seconds).
    only: bool per example; attack only those, counting the others as already lost
      (a chain's later members).
    strategy: a tf.distribute strategy; with several replicas each batch is split.
    cache: an evaluation.transfer_cache.TransferCache; black-box examples crafted before
      on the same source, images and settings are reused from it, new ones stored.
    progress: an evaluation.attack_progress.AttackProgress; a white-box attack keeps each
      finished batch there and skips the batches an earlier, cut-off run finished.

  Returns:
    An AttackResult.
  """
  config = planned.config
  lo, hi = 0.0, spec.pixel_max
  black_box = planned.threat == 'black-box'
  # A black-box attack's restarts each craft on every point, without looking at the target,
  # so one crafting serves every target; an example is lost when any restart fools it.
  restarts = config.restarts if black_box else 1
  attack = make_attack(crafting_model,
                       dataclasses.replace(config, restarts=1) if restarts > 1 else config,
                       (lo, hi), float32_predict=target_predict)
  if (strategy is not None and is_distributed(strategy)
      and get_method(config.method).splits_across_replicas(config)):
    attack = replicated_attack(strategy, attack)
  batches = list(eval_batches(split, spec, batch_size, num_examples))
  key = cached = None
  kept = {}
  if cache is not None and black_box:
    key = cache.key(source_state, recorded_config(planned, None), seed, batch_size,
                    split.sha256(num_examples))
    shapes = [(restarts,) + x.shape for x, _ in batches]
    cached = cache.load(key, shapes)
    kept = cache.load_partial(key, shapes) if cached is None else {}
  log = None
  if progress is not None and not black_box:
    log = progress.attempt(config.name, recorded_config(planned, source_state), seed,
                           batch_size, None if only is None else only[:num_examples])
  resumed = {i: b for i, b in (log.kept if log else {}).items()  # of this batching only
             if i < len(batches) and len(b['correct']) == len(batches[i][1])}
  sanity = _Sanity(config, lo, hi)
  correct, crafted = [], []
  start = time.perf_counter()
  offset = 0
  for index, (x, y) in enumerate(batches):
    keep = np.ones(len(y), bool) if only is None else np.asarray(only[offset:offset + len(y)])
    offset += len(y)
    batch_correct = keep.copy()
    if black_box:
      if cached is not None:
        x_advs = cached[index]
      elif index in kept:
        x_advs = kept[index]
      else:
        x_advs = np.stack([attack(x, y, seed=_attack_seed(seed, index, planned.stream + r))[0]
                           .numpy() for r in range(restarts)])
        if key is not None:
          cache.save_batch(key, index, x_advs)
      crafted.append(x_advs)
      for x_adv in x_advs:
        sanity.update(x, x_adv)
        batch_correct &= target_predict(tf.constant(x_adv)).numpy() == y
    elif index in resumed:
      batch_correct = resumed[index]['correct']
      sanity.absorb(resumed[index]['sanity'])
    elif keep.any():
      batch_start, batch_sanity = time.perf_counter(), _Sanity(config, lo, hi)
      x_adv = attack(x[keep], y[keep], seed=_attack_seed(seed, index, planned.stream))[0].numpy()
      batch_sanity.update(x[keep], x_adv)
      batch_correct[keep] = target_predict(tf.constant(x_adv)).numpy() == y[keep]
      sanity.absorb(batch_sanity.state())
      if log:
        log.save(index, batch_correct, batch_sanity.state(), time.perf_counter() - batch_start)
    correct.append(batch_correct)
    if on_batch:
      on_batch(index + 1, len(batches), time.perf_counter() - start)
  if key is not None and cached is None:
    cache.save(key, crafted)
  description = config.describe() + (', every restart on every point, lost if any fools the '
                                     'target' if restarts > 1 else '')
  earlier_seconds = sum(b['seconds'] for b in resumed.values())
  result = AttackResult(config.name, planned.threat, planned.chain, description,
                        recorded_config(planned, source_state), np.concatenate(correct),
                        time.perf_counter() - start + earlier_seconds, sanity.report(),
                        machine_record(), len(resumed),
                        len(batches) if cached is not None else len(kept))
  if not result.sanity['ok']:
    logging.warning('%s failed its sanity check: %s', config.name, result.sanity)
  return result


def zero_gradient_share(model, split, spec, num_examples, batch_size):
  """Share of the first `num_examples` of `split` whose input gradient of the xent loss is
  exactly zero (a sign of masking); model, split, spec and batch_size as elsewhere."""
  @tf.function(reduce_retracing=True)
  def grad_l1(x, y):
    with tf.GradientTape() as tape:
      tape.watch(x)
      loss = tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x, training=False))
    grad = tape.gradient(loss, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return tf.reduce_sum(tf.abs(grad), axis=[1, 2, 3])
  norms = np.concatenate([grad_l1(tf.constant(x), tf.constant(y)).numpy()
                          for x, y in eval_batches(split, spec, batch_size, num_examples)])
  return float(np.mean(norms == 0.0))
