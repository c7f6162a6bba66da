"""The transfer suite: named source models, logit ensembles, black-box restarts scored on
the target, and eval.py end to end."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from attacks import PGDConfig
from conftest import needs_mnist
from conftest import run_main
from data_input.loader import Split
from data_input.specs import get_spec
import eval as eval_main
from evaluation import runner
from evaluation.model_io import LoadedModel
from evaluation.model_io import logit_ensemble
from evaluation.plan import planned
from evaluation.settings import parse_transfer_sources
from evaluation.suites import suite_plan
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


def test_transfer_sources_are_validated(tmp_path):
  folder = str(tmp_path)
  assert parse_transfer_sources([f'a={folder}', f'b={folder}+{folder}']) == {
      'a': [folder], 'b': [folder, folder]}
  for bad in ([folder], [f'a={folder}', f'a={folder}'], [f'a={folder}+nowhere'], ['a b=x']):
    with pytest.raises(UserError):
      parse_transfer_sources(bad)


def _index(x):
  return np.rint(np.asarray(x)[:, 0, 0, 0] * 255).astype(int)  # model scale is [0, 1]


def test_black_box_restarts_attack_only_points_still_correct_on_the_target(monkeypatch):
  """Restart r 'fools' the target on examples whose index is r mod 3 (a fake attack and
  target): each restart must see only what earlier ones left correct, and the result is
  the AND over restarts."""
  calls = []

  class FakeAttack:
    def __call__(self, x, y, seed):
      restart = int(seed) // runner._RESTART_SALT  # pylint: disable=protected-access
      calls.append((restart, _index(x).tolist()))
      marked = x.copy()
      marked[:, 0, 1, 0] = restart
      return tf.constant(marked), None

  def target_predict(x_adv):
    x_adv = x_adv.numpy()
    index, restart = _index(x_adv), x_adv[:, 0, 1, 0].astype(int)
    labels = np.zeros(len(index), np.int64)
    return tf.constant(np.where(index % 3 == restart, 1, labels))  # label 1 is wrong

  monkeypatch.setattr(runner, 'make_attack', lambda *args: FakeAttack())
  images = np.zeros((9, 28, 28, 1), np.uint8)
  images[:, 0, 0, 0] = np.arange(9)  # the example's index, read back by _index
  split = Split(images, np.zeros(9, np.int64), 'raw', False, True)
  config = PGDConfig(name='bb', epsilon=0.3, step_size=0.01, steps=2, restarts=3)
  result = runner.attack_result(target_predict, None, planned(config, 'black-box', MNIST), {},
                                split, MNIST, 9, 9, seed=0)
  assert calls == [(0, list(range(9))), (1, [1, 2, 4, 5, 7, 8]), (2, [2, 5, 8])]
  assert not result.correct.any()
  assert 'each restart on the points still correct on the target' in result.description


@needs_mnist
def test_transfer_suite_end_to_end(two_models, tfds_mnist_dir, tmp_path):
  out = str(tmp_path / 'eval')
  natural, ls = two_models['natural'], two_models['ls']
  args = [f'--model_dir={ls}', f'--data_dir={tfds_mnist_dir}', '--num_examples=30',
          '--suite=paper_whitebox,transfer', f'--transfer_sources=nat={natural},ens={natural}+{ls}',
          f'--output_dir={out}', '--early_stop']
  run_main(eval_main, args)
  with open(os.path.join(out, 'results.json')) as f:
    doc = json.load(f)
  by_name = {a['name']: a for a in doc['attacks']}
  assert len([n for n in by_name if n.startswith('tr_')]) == 8
  nat = by_name['tr_nat_pgd100_restarts5_cw']
  assert nat['threat'] == 'black-box' and nat['config']['source']['path'].endswith('natural')
  assert nat['config']['early_stop'] is False  # --early_stop never applies to transfer
  assert by_name['pgd40_cw']['config']['early_stop'] is True
  ens = by_name['tr_ens_mifgsm100_xent']['config']['source']
  assert ens['kind'] == 'ensemble' and [m['path'] for m in ens['members']] == [
      os.path.normpath(natural), os.path.normpath(ls)]
  black = next(c for c in doc['worst_case'] if c['threat'] == 'black-box')
  assert sorted(black['over']) == sorted(n for n in by_name if n.startswith('tr_'))
  # The rerun reuses every transfer result (same sources, same configs).
  seconds = [a['seconds'] for a in doc['attacks']]
  run_main(eval_main, args)
  with open(os.path.join(out, 'results.json')) as f:
    assert [a['seconds'] for a in json.load(f)['attacks']] == seconds
  with pytest.raises(UserError, match='needs --transfer_sources'):
    run_main(eval_main, [f'--model_dir={ls}', '--suite=transfer'])


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
