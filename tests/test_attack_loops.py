"""The compiled attack loops compute the model's own function, whatever the active set does.

TensorFlow 2.21's oneDNN Conv2D returns a tensor of the input's shape on an empty batch, so
a loop that calls the model on an empty active set feeds the image into the next layer;
when the shapes happen to agree that would be a silently wrong function, not a crash.
These tests compare logits computed inside the loops with the model's direct logits.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from attacks import Attack
from attacks import APGDConfig
from attacks import APGDTConfig
from attacks import FABTConfig
from attacks import PGDConfig
from attacks import SquareConfig
from attacks import make_attack
from conftest import mnist_arrays
from evaluation.accuracy import make_predict_fn
from evaluation.model_io import load_model_folder
from madry_compat import build_model
from madry_compat.checkpoint import precision_twin


@pytest.fixture(scope='module')
def mnist_batch():
  x, y = mnist_arrays('test')
  return (x[:60].astype(np.float32) / 255.0).reshape(-1, 28, 28, 1), y[:60].astype(np.int64)


def _models(two_models):
  """(name, model, x, y, pixel_max): a fresh and a trained-and-reloaded MNIST CNN, and a
  fresh WideResNet on CIFAR-range inputs."""
  tf.random.set_seed(0)
  cifar_x = np.random.default_rng(0).uniform(0, 255, (40, 32, 32, 3)).astype(np.float32)
  cifar_y = np.arange(40, dtype=np.int64) % 10
  return [('fresh_cnn', build_model('mnist'), 1.0),
          ('loaded_cnn', load_model_folder(two_models['natural']).model, 1.0),
          ('fresh_wrn', build_model('cifar10', depth=10, width=1), 255.0)], (cifar_x, cifar_y)


@pytest.mark.parametrize('early_stop', [False, True])
@pytest.mark.parametrize('restarts', [1, 3])
def test_logits_inside_the_loops_equal_the_models_logits(two_models, mnist_batch, restarts,
                                                         early_stop):
  models, cifar = _models(two_models)
  for name, model, pixel_max in models:
    x, y = mnist_batch if pixel_max == 1.0 else cifar
    config = PGDConfig(name='pgd', epsilon=0.3 * pixel_max, step_size=0.05 * pixel_max,
                       steps=10, restarts=restarts, early_stop=early_stop)
    x_adv, fooled, logits = Attack(model, config, (0.0, pixel_max)).outcome(x, y, seed=1)
    direct = model(x_adv, training=False).numpy()
    scale = float(np.abs(direct).max())
    np.testing.assert_allclose(logits.numpy(), direct, rtol=1e-4, atol=1e-4 * scale,
                               err_msg=f'{name}, restarts {restarts}, early_stop {early_stop}')
    np.testing.assert_array_equal(fooled.numpy(), np.argmax(direct, -1) != y, err_msg=name)
    assert np.abs(x_adv.numpy() - x).max() <= 0.3 * pixel_max * (1 + 1e-6)
    if name == 'loaded_cnn':  # the case that crashed: every point fooled by the first restart
      assert fooled.numpy().all()


def test_early_stop_is_at_least_as_strong_as_the_final_iterate(two_models, mnist_batch):
  model = load_model_folder(two_models['natural']).model
  x, y = mnist_batch
  outcomes = {}
  for early_stop in (False, True):
    config = PGDConfig(name='pgd', epsilon=0.05, step_size=0.01, steps=20, restarts=2,
                       early_stop=early_stop)
    outcomes[early_stop] = Attack(model, config, (0.0, 1.0))(x, y, seed=3)[1].numpy()
  assert 0 < outcomes[False].sum() < len(y)  # partly robust at this budget: a real comparison
  assert np.all(outcomes[True][outcomes[False]])  # same trajectories, stopped at the first hit


EVERY_ATTACK = [
    PGDConfig(name='pgd', epsilon=0.3, step_size=0.01, steps=5, restarts=3),
    PGDConfig(name='pgd_early_stop', epsilon=0.3, step_size=0.01, steps=5, early_stop=True),
    APGDConfig(name='apgd', epsilon=0.3, steps=5, loss='dlr', restarts=2),
    APGDTConfig(name='apgd_t', epsilon=0.3, steps=5, targets=3),
    FABTConfig(name='fab_t', epsilon=0.3, steps=5, targets=3),
    SquareConfig(name='square', epsilon=0.3, queries=10)]


@pytest.mark.parametrize('config', EVERY_ATTACK, ids=lambda c: c.name)
def test_every_attack_returns_empty_results_for_an_empty_batch(config):
  model = build_model('mnist')
  x_adv, fooled = make_attack(model, config, (0.0, 1.0))(
      np.zeros((0, 28, 28, 1), np.float32), np.zeros((0,), np.int64))
  assert tuple(x_adv.shape) == (0, 28, 28, 1) and tuple(fooled.shape) == (0,)


@pytest.mark.parametrize('config', EVERY_ATTACK, ids=lambda c: c.name)
def test_every_attack_takes_one_image_as_its_first_batch(config):
  """A chain's last survivors are often a single image; FAB-T's loop once failed on it
  (a static batch of 1 turned unknown after one iteration)."""
  model = build_model('mnist')
  image = np.random.default_rng(0).random((1, 28, 28, 1), np.float32)
  x_adv, fooled = make_attack(model, config, (0.0, 1.0))(image, np.array([3], np.int64))
  assert tuple(x_adv.shape) == (1, 28, 28, 1) and tuple(fooled.shape) == (1,)
  assert np.abs(x_adv.numpy() - image).max() <= 0.3 + 1e-6


def test_an_attack_refuses_a_model_of_another_precision():
  model = build_model('mnist')
  bf16 = PGDConfig(name='pgd_bf16', epsilon=0.3, step_size=0.01, steps=2, precision='bfloat16')
  with pytest.raises(ValueError, match='bfloat16 gradients, but the model computes in float32'):
    Attack(model, bf16, (0.0, 1.0))
  with pytest.raises(ValueError, match='precision must be one of'):
    PGDConfig(name='p', epsilon=0.3, step_size=0.01, steps=2, precision='float16')
  x = np.random.default_rng(0).random((6, 28, 28, 1), np.float32)
  x_adv, _ = Attack(precision_twin(model, 'mnist', 'bfloat16'), bf16, (0.0, 1.0))(x, np.arange(6))
  assert x_adv.dtype == tf.float32 and np.abs(x_adv.numpy() - x).max() <= 0.3 + 1e-6


def test_bfloat16_early_stop_waits_for_the_float32_model(two_models, mnist_batch):
  model = load_model_folder(two_models['natural']).model
  twin = precision_twin(model, 'mnist', 'bfloat16')
  predict = make_predict_fn(model)
  x, y = mnist_batch
  broken = {}
  for early_stop in (False, True):
    config = PGDConfig(name='pgd', epsilon=0.05, step_size=0.01, steps=20, early_stop=early_stop,
                       precision='bfloat16')
    x_adv, _ = make_attack(twin, config, (0.0, 1.0), float32_predict=predict)(x, y, seed=3)
    broken[early_stop] = predict(x_adv).numpy() != y  # scored on the float32 model
  assert 0 < broken[False].sum() < len(y)  # partly robust at this budget: a real comparison
  assert np.all(broken[True][broken[False]])  # same trajectories, stopped at a confirmed hit
  with pytest.raises(ValueError, match='needed there'):
    Attack(twin, dataclasses.replace(config, early_stop=True), (0.0, 1.0))
