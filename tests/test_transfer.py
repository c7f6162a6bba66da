"""The transfer suite: named source models, logit ensembles, black-box restarts scored on
the target, and eval.py end to end."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from attacks import PGDConfig
from conftest import run_main
from data_input.loader import Split
from data_input.specs import get_spec
import eval as eval_main
from evaluation import runner
from evaluation.model_io import LoadedModel
from evaluation.model_io import logit_ensemble
from evaluation.plan import planned
from evaluation.report import markdown_table
from evaluation.settings import parse_transfer_sources
from evaluation.suites import suite_plan
from evaluation.suites import transfer_attack_names
from evaluation.transfer_cache import TransferCache
from run_support.errors import UserError

MNIST = get_spec('mnist')


def _linear(seed):
  tf.keras.utils.set_random_seed(seed)
  inputs = tf.keras.Input((28, 28, 1))
  model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(tf.keras.layers.Flatten()(inputs)))
  return LoadedModel(model, f'm{seed}', 'keras', 'mnist', 0, f'{seed:064d}')


def test_ensemble_logits_are_the_members_mean_and_its_hash_covers_them():
  members = [_linear(1), _linear(2), _linear(3)]
  ensemble = logit_ensemble(members)
  x = np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype(np.float32)
  expected = np.mean([m.model(x).numpy() for m in members], axis=0)
  np.testing.assert_allclose(ensemble.model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
  state = ensemble.state()
  assert state['kind'] == 'ensemble' and len(state['members']) == 3
  assert ensemble.weights_sha256 != logit_ensemble(members[:2]).weights_sha256


def test_transfer_plan_is_black_box_per_source_with_momentum_and_restarts():
  plan = suite_plan('transfer', MNIST, 50.0, ('natural', 'ens'))
  assert len(plan) == 8 and all(p.threat == 'black-box' for p in plan)
  assert {p.source for p in plan} == {'natural', 'ens'}
  by_name = {p.name: p.config for p in plan}
  mi = by_name['tr_natural_mifgsm100_cw']
  assert (mi.momentum, mi.steps, mi.random_start, mi.loss, mi.epsilon) == (1.0, 100, False, 'cw', 0.3)
  restarts = by_name['tr_ens_pgd100_restarts5_xent']
  assert (restarts.restarts, restarts.momentum, restarts.random_start) == (5, 0.0, True)
  with pytest.raises(ValueError, match='source'):
    suite_plan('transfer', MNIST, 50.0, ())


def test_transfer_attack_names_end_each_sources_plan_in_order():
  names = [p.name for p in suite_plan('transfer', MNIST, 50.0, ('src',))]
  assert names == [f'tr_src_{a}' for a in transfer_attack_names()]
  assert transfer_attack_names() == ('mifgsm100_xent', 'pgd100_restarts5_xent',
                                     'mifgsm100_cw', 'pgd100_restarts5_cw')


def test_transfer_sources_are_validated(tmp_path):
  folder = str(tmp_path)
  assert parse_transfer_sources([f'a={folder}', f'b={folder}+{folder}', f'alpha0.95-x={folder}']) == {
      'a': [folder], 'b': [folder, folder], 'alpha0.95-x': [folder]}
  for bad in ([folder], [f'a={folder}', f'a={folder}'], [f'a={folder}+nowhere'], ['a b=x']):
    with pytest.raises(UserError):
      parse_transfer_sources(bad)


def _index(x):
  return np.rint(np.asarray(x)[:, 0, 0, 0] * 255).astype(int)  # model scale is [0, 1]


class _FakeAttack:
  """Marks each image with its restart (read from the seed) and counts its calls."""

  def __init__(self):
    self.calls = []

  def __call__(self, x, y, seed):
    restart = int(seed) // runner._RESTART_SALT  # pylint: disable=protected-access
    self.calls.append((restart, _index(x).tolist()))
    marked = x.copy()
    marked[:, 0, 1, 0] = restart
    return tf.constant(marked), None


def _fooled_by_restart(offset):
  """A fake target fooled on example i by restart (i + offset) mod 3 only."""
  def target_predict(x_adv):
    x_adv = x_adv.numpy()
    index, restart = _index(x_adv), x_adv[:, 0, 1, 0].astype(int)
    return tf.constant(np.where((index + offset) % 3 == restart, 1, 0).astype(np.int64))
  return target_predict


def _nine_examples():
  images = np.zeros((9, 28, 28, 1), np.uint8)
  images[:, 0, 0, 0] = np.arange(9)  # the example's index, read back by _index
  return Split(images, np.zeros(9, np.int64), 'raw', False, True)


def _black_box_result(monkeypatch, fake, target_predict, cache=None, restarts=3,
                      source=('0' * 64)):
  monkeypatch.setattr(runner, 'make_attack', lambda *args, **kwargs: fake)
  config = PGDConfig(name='bb', epsilon=0.3, step_size=0.01, steps=2, restarts=restarts)
  return runner.attack_result(target_predict, None, planned(config, 'black-box', MNIST),
                              {'dataset': 'mnist', 'weights_sha256': source}, _nine_examples(),
                              MNIST, 9, 5, seed=0, cache=cache)


def test_black_box_restarts_each_attack_every_point_and_any_fooling_counts(monkeypatch):
  """Restart r fools the target on examples whose index is r mod 3: every restart crafts
  on every point (independent of the target), and the result is the AND over restarts."""
  fake = _FakeAttack()
  result = _black_box_result(monkeypatch, fake, _fooled_by_restart(0))
  assert fake.calls == [(r, list(range(5))) for r in range(3)] + [
      (r, list(range(5, 9))) for r in range(3)]
  assert not result.correct.any()
  assert 'every restart on every point' in result.description
  two = _black_box_result(monkeypatch, _FakeAttack(), _fooled_by_restart(0), restarts=2)
  assert two.correct.tolist() == [i % 3 == 2 for i in range(9)]


def test_transfer_cache_crafts_once_for_every_target(monkeypatch, tmp_path):
  """A second target reuses the first one's crafted examples (no attack call) and gets the
  same result as crafting afresh; another source or seed is a miss."""
  cache = TransferCache(str(tmp_path / 'cache'))
  first = _FakeAttack()
  _black_box_result(monkeypatch, first, _fooled_by_restart(0), cache=cache)
  assert len(first.calls) == 6 and len(os.listdir(tmp_path / 'cache')) == 1
  reused, fresh = _FakeAttack(), _FakeAttack()
  other_target = _fooled_by_restart(1)
  with_cache = _black_box_result(monkeypatch, reused, other_target, cache=cache, restarts=2)
  assert len(reused.calls) == 2 * 2  # restarts=2 is another attack: crafted anew
  with_cache = _black_box_result(monkeypatch, reused, other_target, cache=cache)
  assert len(reused.calls) == 4  # restarts=3 again: every example comes from the cache
  assert with_cache.cached_batches == 2  # and the result says its crafting was not timed here
  assert with_cache.to_json()['cached_batches'] == 2
  assert 'transfer cache, their crafting time not in seconds: bb (2 batches)' in markdown_table(
      [with_cache], [], [])
  without = _black_box_result(monkeypatch, fresh, other_target)
  assert without.cached_batches == 0 and 'cached_batches' not in without.to_json()
  assert with_cache.correct.tolist() == without.correct.tolist() == [False] * 9
  other_source = _FakeAttack()
  _black_box_result(monkeypatch, other_source, other_target, cache=cache, source='1' * 64)
  assert len(other_source.calls) == 6


class _KilledAfter(_FakeAttack):
  """A crafting that dies (as a killed process would) on its call number `calls + 1`."""

  def __init__(self, calls):
    super().__init__()
    self.limit = calls

  def __call__(self, x, y, seed):
    if len(self.calls) == self.limit:
      raise KeyboardInterrupt
    return super().__call__(x, y, seed)


def test_a_killed_crafting_resumes_at_its_first_missing_batch(monkeypatch, tmp_path):
  """Nine examples in batches of 5 and 4, three restarts: killed during the second batch,
  the rerun crafts only that batch, scores as an uninterrupted run, and leaves one entry."""
  cache = TransferCache(str(tmp_path))
  with pytest.raises(KeyboardInterrupt):
    _black_box_result(monkeypatch, _KilledAfter(4), _fooled_by_restart(0), cache=cache)
  (partial,) = os.listdir(tmp_path)
  assert partial.endswith('.partial') and os.listdir(tmp_path / partial) == ['batch0.npy']
  resumed = _FakeAttack()
  result = _black_box_result(monkeypatch, resumed, _fooled_by_restart(1), cache=cache)
  assert resumed.calls == [(r, list(range(5, 9))) for r in range(3)]
  assert result.cached_batches == 1  # the first batch was crafted by the killed run
  uninterrupted = _black_box_result(monkeypatch, _FakeAttack(), _fooled_by_restart(1))
  assert result.correct.tolist() == uninterrupted.correct.tolist()
  assert [f for f in os.listdir(tmp_path) if not f.startswith('.')] == [partial[:-8] + '.npz']
  # A kept batch of the wrong shape (another batching) is crafted again, never trusted.
  cache.save_batch('k', 0, np.zeros((3, 2, 28, 28, 1)))
  assert cache.load_partial('k', [(3, 5, 28, 28, 1)]) == {}


def test_transfer_cache_recrafts_a_damaged_entry(monkeypatch, tmp_path):
  cache = TransferCache(str(tmp_path))
  _black_box_result(monkeypatch, _FakeAttack(), _fooled_by_restart(0), cache=cache)
  (entry,) = [tmp_path / f for f in os.listdir(tmp_path)]
  entry.write_bytes(b'not an npz')
  again = _FakeAttack()
  result = _black_box_result(monkeypatch, again, _fooled_by_restart(0), cache=cache)
  assert len(again.calls) == 6 and not result.correct.any()


def test_transfer_cache_keys_by_the_attack_code_this_process_loaded(monkeypatch, tmp_path):
  """Editing attacks/ while a long evaluation runs must not move its later keys."""
  from evaluation import transfer_cache
  args = ({'dataset': 'mnist', 'weights_sha256': '0' * 64}, {'name': 'a', 'eps': 0.3}, 0, 10, 'x')
  before = TransferCache(str(tmp_path)).key(*args)
  (tmp_path / 'edited.py').write_text('# new attack code\n')
  monkeypatch.setattr(transfer_cache, '_ATTACKS_DIR', str(tmp_path))
  assert transfer_cache._attack_code_sha256() != transfer_cache.ATTACK_CODE_SHA256
  assert TransferCache(str(tmp_path)).key(*args) == before


def test_early_stop_never_reaches_transfer_and_the_suite_needs_sources(tmp_path):
  """--early_stop applies to the white-box PGD only (stopping once the source is fooled
  only weakens what transfers); eval.py's transfer suite runs end to end, with these
  records, in test_experiment_tools' robustness report."""
  from evaluation.evaluate import _plan  # pylint: disable=g-import-not-at-top
  from evaluation.settings import EvalSettings  # pylint: disable=g-import-not-at-top
  from evaluation.settings import validate  # pylint: disable=g-import-not-at-top
  folder = str(tmp_path)
  settings = validate(EvalSettings(
      model_dir=folder, dataset='mnist', num_examples=8, early_stop=True,
      suites=('paper_whitebox', 'transfer'),
      transfer_sources=(f'nat={folder}', f'ens={folder}+{folder}')))
  by_name = {p.name: p for p in _plan(settings, MNIST, {})}
  transfer = [p for name, p in by_name.items() if name.startswith('tr_')]
  assert len(transfer) == 8 and all(p.threat == 'black-box' for p in transfer)
  assert not any(getattr(p.config, 'early_stop', False) for p in transfer)
  assert by_name['pgd40_cw'].config.early_stop and by_name['pgd40_xent'].config.early_stop
  with pytest.raises(UserError, match='needs --transfer_sources'):
    validate(EvalSettings(model_dir=folder, dataset='mnist', suites=('transfer',)))


def test_epsilon_moves_every_suite_attack_and_has_its_own_folder(tmp_path):
  import dataclasses  # pylint: disable=g-import-not-at-top
  from evaluation.evaluate import _plan  # pylint: disable=g-import-not-at-top
  from evaluation.settings import EvalSettings  # pylint: disable=g-import-not-at-top
  from evaluation.settings import validate  # pylint: disable=g-import-not-at-top
  settings = validate(EvalSettings(
      model_dir=str(tmp_path), dataset='mnist', num_examples=100, epsilon=0.1,
      suites=('paper_whitebox', 'autoattack', 'transfer'),
      transfer_sources=(f'nat={tmp_path}',)))
  plan = _plan(settings, MNIST, {})
  assert len(plan) == 2 + 4 + 4 and all(p.config.epsilon == 0.1 for p in plan)
  assert settings.resolved_output_dir().endswith('first100_eps0.1')
  assert settings.identity()['epsilon'] == 0.1
  assert 'epsilon' not in dataclasses.replace(settings, epsilon=None).identity()
  for bad in (0.0, 1.0):
    with pytest.raises(UserError, match='--epsilon'):
      validate(dataclasses.replace(settings, epsilon=bad))
