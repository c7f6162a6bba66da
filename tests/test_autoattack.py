"""APGD-CE, APGD-T (DLR), Square and eval.py --suite=autoattack: loss properties, the
step-size schedule, strength against PGD, and detection of a model with masked gradients."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from attacks import APGDConfig
from attacks import APGDTConfig
from attacks import PGDConfig
from attacks import SquareConfig
from attacks import config_record
from attacks import dlr_loss
from attacks import make_attack
from attacks.apgd import checkpoint_schedule
from attacks.square import window_fraction
from conftest import mnist_arrays
from conftest import run_main
from data_input import loader
from data_input.specs import get_spec
import eval as eval_main
from evaluation.masking import masking_warnings
from evaluation.model_io import load_model_folder
from evaluation.runner import AttackResult
from evaluation.runner import zero_gradient_share
from evaluation.suites import suite_plan


def test_dlr_hand_computed_and_invariant_to_shift_and_positive_scale():
  logits = tf.constant([[4.0, 1.0, 3.0, 0.0, -2.0]])
  labels = tf.constant([0], tf.int64)
  # sorted 4, 3, 1, 0: untargeted -(4 - 3) / (4 - 1); targeted at class 3: -(4 - 0) / (4 - 0.5)
  assert float(dlr_loss(logits, labels)[0]) == pytest.approx(-1 / 3)
  assert float(dlr_loss(logits, labels, tf.constant([3], tf.int64))[0]) == pytest.approx(-4 / 3.5)
  rng = np.random.default_rng(0)
  z = tf.constant(rng.normal(size=(64, 10)), tf.float32)
  y = tf.constant(rng.integers(0, 10, 64), tf.int64)
  t = tf.constant((y.numpy() + rng.integers(1, 10, 64)) % 10, tf.int64)
  for targets in (None, t):
    base = dlr_loss(z, y, targets).numpy()
    for shift, scale in ((5.0, 1.0), (-3.0, 7.5), (0.0, 0.01)):
      moved = dlr_loss(scale * z + shift, y, targets).numpy()
      np.testing.assert_allclose(moved, base, rtol=1e-3, atol=1e-4)


def test_apgd_checkpoints_and_square_schedule_follow_the_papers():
  is_checkpoint, interval = checkpoint_schedule(100)
  assert list(np.flatnonzero(is_checkpoint)) == [21, 40, 56, 69, 79, 86, 92, 98]
  assert list(interval[is_checkpoint]) == [22, 19, 16, 13, 10, 7, 6, 6]
  # The standard version's schedule as written: halvings after 10, 50, 200, 500, 1000, 2000
  # and 4000 queries; at 5,000 queries the last ones (6000, 8000) never come.
  assert window_fraction(0, 5000) == 0.8 and window_fraction(11, 5000) == 0.4
  assert window_fraction(3000, 5000) == pytest.approx(0.8 / 64)
  assert window_fraction(4999, 5000) == pytest.approx(0.8 / 128)
  # Rescaled, the 10,000-query schedule is stretched to the budget.
  assert window_fraction(6, 5000, rescale_schedule=True) == 0.4
  assert window_fraction(4999, 5000, rescale_schedule=True) == pytest.approx(0.8 / 512)


@pytest.fixture(scope='module')
def mnist_slice():
  images, labels = mnist_arrays('test')
  return images[:100].astype(np.float32) / 255.0, labels[:100].astype(np.int64)


def _accuracy(model, x, y):
  return float(np.mean(np.argmax(model(x, training=False), -1) == y))


@pytest.mark.parametrize('config', [APGDConfig(name='a', epsilon=0.1, steps=20),
                                    APGDConfig(name='a', epsilon=0.1, steps=20, restarts=2),
                                    APGDTConfig(name='a', epsilon=0.1, steps=20, targets=9),
                                    SquareConfig(name='a', epsilon=0.1, queries=200)],
                         ids=['apgd_ce', 'apgd_ce_restarts', 'apgd_t', 'square'])
def test_attacks_stay_in_the_ball_and_the_data_range(two_models, mnist_slice, config):
  model = load_model_folder(two_models['ls']).model
  x, y = mnist_slice
  x_adv, fooled = make_attack(model, config, (0.0, 1.0))(x, y, seed=3)
  x_adv = x_adv.numpy()
  assert np.abs(x_adv - x).max() <= 0.1 + 1e-6
  assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
  predicted_wrong = np.argmax(model(x_adv, training=False), -1) != y
  np.testing.assert_array_equal(fooled.numpy(), predicted_wrong)


def test_apgd_at_least_as_strong_as_pgd_of_the_same_budget(two_models, mnist_slice):
  model = load_model_folder(two_models['ls']).model
  x, y = mnist_slice
  pgd = make_attack(model, PGDConfig(name='pgd', epsilon=0.05, step_size=0.005, steps=20),
                    (0.0, 1.0))
  apgd = make_attack(model, APGDConfig(name='apgd', epsilon=0.05, steps=20), (0.0, 1.0))
  pgd_acc = _accuracy(model, pgd(x, y, seed=1)[0], y)
  apgd_acc = _accuracy(model, apgd(x, y, seed=1)[0], y)
  assert pgd_acc > 0.05  # a budget that leaves something to win
  assert apgd_acc <= pgd_acc


@keras.saving.register_keras_serializable(package='tests')
class StopInputGradient(keras.layers.Layer):
  """A broken 'defence': the model sees the input, its gradient never reaches it."""

  def call(self, x):
    return tf.stop_gradient(x)


def test_masked_gradients_stop_pgd_but_not_square_and_the_alarm_fires(two_models, mnist_slice):
  inner = load_model_folder(two_models['natural']).model
  inputs = keras.Input((28, 28, 1))
  masked = keras.Model(inputs, inner(StopInputGradient()(inputs)))
  x, y = mnist_slice
  clean = _accuracy(masked, x, y)
  results = []
  for config in (PGDConfig(name='pgd40_xent', epsilon=0.3, step_size=0.01, steps=40),
                 SquareConfig(name='aa_square', epsilon=0.3, queries=300)):
    x_adv, _ = make_attack(masked, config, (0.0, 1.0))(x, y, seed=0)
    correct = np.argmax(masked(x_adv, training=False), -1) == y
    results.append(AttackResult(config.name, 'white-box', None, '', config_record(config),
                                correct, 0.0, {'ok': True}))
  pgd_acc, square_acc = results[0].accuracy, results[1].accuracy
  assert pgd_acc > clean - 0.25          # PGD barely moves: only its random start acts
  assert square_acc < 0.3 < pgd_acc      # the score-based attack does not care
  split = loader.Split((x * 255).round().astype(np.uint8), y, 'raw', False, True)
  share = zero_gradient_share(masked, split, get_spec('mnist'), 100, 50)
  assert share == 1.0
  warnings = masking_warnings(results, share, data_range=1.0)
  assert any('score-based aa_square' in w for w in warnings)
  assert any('exactly zero input gradient' in w for w in warnings)


def test_eval_autoattack_suite_is_the_standard_chain_on_still_robust_points(
    two_models, tfds_mnist_dir, tmp_path, monkeypatch):
  from evaluation import runner  # pylint: disable=g-import-not-at-top
  attacked = {}
  real_make_attack = runner.make_attack

  def recording_make_attack(model, config, clip_range, **kwargs):
    attack = real_make_attack(model, config, clip_range, **kwargs)

    def run(x, y, seed=0):
      attacked[config.name] = attacked.get(config.name, 0) + len(y)
      return attack(x, y, seed=seed)
    return run

  monkeypatch.setattr(runner, 'make_attack', recording_make_attack)
  out = str(tmp_path / 'aa')
  run_main(eval_main, [f'--model_dir={two_models["ls"]}', f'--data_dir={tfds_mnist_dir}',
                       '--num_examples=60', '--eval_batch_size=30', '--suite=autoattack',
                       '--attacks=aa_probe:eps=0.05,steps=5', f'--output_dir={out}'])
  with open(os.path.join(out, 'results.json')) as f:
    doc = json.load(f)
  chain = ['aa_apgd_ce', 'aa_apgd_t', 'aa_fab_t', 'aa_square']
  assert [a['name'] for a in doc['attacks']] == ['clean', *chain, 'aa_probe']
  assert doc['eps'] == '0.3' and doc['n_examples'] == 60 and doc['clean_acc'] > 0.5
  assert doc['autoattack']['version'] == 'standard: ' + ', then '.join(chain)
  by_name = {a['name']: a for a in doc['attacks']}
  bits = lambda name: np.array([c == '1' for c in by_name[name]['correct']])
  robust = bits('clean')
  for name in chain:  # each member sees exactly the points everything before left correct
    assert attacked.get(name, 0) == robust.sum(), name
    assert not np.any(bits(name) & ~robust)
    robust = robust & bits(name)
  assert doc['autoattack_acc'] == pytest.approx(robust.mean())  # the per-example AND
  case = next(c for c in doc['worst_case'] if c['threat'] == 'autoattack')
  assert case['accuracy'] == pytest.approx(robust.mean())
  assert by_name['aa_probe']['chain'] is None  # a name alone does not make a chain member
  assert suite_plan('autoattack', get_spec('cifar10'))[0].config.epsilon == 8.0
