"""Attack properties (the cleverhans torch test list), hand-computed losses, and a
cross-check against cleverhans' TF2 PGD."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from attacks import Attack
from attacks import PGDConfig
from attacks import cw_margin_loss
from attacks import fgsm
from attacks import xent_loss
from conftest import mnist_arrays


@pytest.fixture(scope='module')
def mnist_slice():
  train_x, train_y = mnist_arrays('train')
  test_x, test_y = mnist_arrays('test')
  scale = lambda x: x.astype(np.float32) / 255.0
  return scale(train_x[:3000]), train_y[:3000], scale(test_x[:200]), test_y[:200]


@pytest.fixture(scope='module')
def tiny_model(mnist_slice):
  """A small MLP trained for a few seconds on 3,000 MNIST images (~90% accurate)."""
  train_x, train_y, _, _ = mnist_slice
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(64, activation='relu'), keras.layers.Dense(10)])
  model.compile(keras.optimizers.Adam(1e-3),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  model.fit(train_x, train_y, batch_size=64, epochs=4, verbose=0)
  return model


def _accuracy(model, x, y):
  return float(np.mean(np.argmax(model(x, training=False), -1) == y))


def _pgd(name='pgd', **kw):
  base = dict(name=name, epsilon=0.3, step_size=0.01, steps=40, random_start=True, loss='xent')
  return PGDConfig(**{**base, **kw})


def test_losses_hand_computed():
  logits = tf.constant([[1.0, 3.0, 2.0], [5.0, 1.0, 1.0]])
  labels = tf.constant([0, 0], tf.int64)
  np.testing.assert_allclose(cw_margin_loss(logits, labels, 50.0), [-(1 - 3 + 50), -(5 - 1 + 50)])
  np.testing.assert_allclose(cw_margin_loss(logits, labels, 0.0), [0.0, -4.0])
  expected = -np.log(np.exp(1) / (np.exp(1) + np.exp(3) + np.exp(2)))
  assert float(xent_loss(logits, labels)[0]) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('norm', ['linf', 'l2'])
def test_zero_epsilon_is_the_identity(tiny_model, mnist_slice, norm):
  _, _, x, y = mnist_slice
  x_adv, fooled = Attack(tiny_model, _pgd(epsilon=0.0, norm=norm, steps=5), (0, 1))(x[:50], y[:50])
  np.testing.assert_array_equal(x_adv, x[:50])
  np.testing.assert_array_equal(fooled, np.argmax(tiny_model(x[:50]), -1) != y[:50])


@pytest.mark.parametrize('norm,eps,step', [('linf', 0.1, 0.02), ('l2', 1.5, 0.3)])
def test_stays_in_the_ball_and_the_data_range(tiny_model, mnist_slice, norm, eps, step):
  _, _, x, y = mnist_slice
  x_adv, _ = Attack(tiny_model, _pgd(norm=norm, epsilon=eps, step_size=step, steps=20), (0, 1))(x, y, seed=4)
  x_adv = x_adv.numpy()
  assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
  delta = (x_adv - x).reshape(len(x), -1)
  size = np.abs(delta).max(1) if norm == 'linf' else np.linalg.norm(delta, axis=1)
  assert size.max() <= eps + 1e-5
  assert size.max() > 0.9 * eps  # and does move


def test_one_step_pgd_without_random_start_is_fgsm(tiny_model, mnist_slice):
  _, _, x, y = mnist_slice
  x, y = x[:64], y[:64]
  with tf.GradientTape() as tape:
    xt = tf.constant(x)
    tape.watch(xt)
    loss = tf.reduce_sum(xent_loss(tiny_model(xt, training=False), tf.constant(y)))
  expected = np.clip(x + 0.3 * np.sign(tape.gradient(loss, xt).numpy()), 0, 1)
  got_fgsm, _ = Attack(tiny_model, fgsm('fgsm', 0.3), (0, 1))(x, y)
  got_pgd1, _ = Attack(tiny_model, _pgd(steps=1, step_size=0.3, random_start=False), (0, 1))(x, y)
  np.testing.assert_allclose(got_fgsm, expected, atol=1e-6)
  np.testing.assert_array_equal(got_fgsm, got_pgd1)


def test_restarts_are_at_least_as_strong_as_one_start(tiny_model, mnist_slice):
  _, _, x, y = mnist_slice
  weak = dict(epsilon=0.08, step_size=0.01, steps=5)
  _, one = Attack(tiny_model, _pgd(**weak), (0, 1))(x, y, seed=1)
  _, many = Attack(tiny_model, _pgd(restarts=8, **weak), (0, 1))(x, y, seed=1)
  one, many = one.numpy(), many.numpy()
  assert np.all(many[one])  # restart 0 is the single start; more can only add
  assert many.sum() > one.sum()


def test_pgd_is_strong_and_the_unbounded_attack_reaches_zero(tiny_model, mnist_slice):
  _, _, x, y = mnist_slice
  assert _accuracy(tiny_model, x, y) > 0.8
  x_adv, fooled = Attack(tiny_model, _pgd(), (0, 1))(x, y)
  assert _accuracy(tiny_model, x_adv, y) < 0.05
  np.testing.assert_array_equal(fooled, np.argmax(tiny_model(x_adv), -1) != y)
  unbounded = _pgd(epsilon=float('inf'), step_size=0.05, steps=50, loss='cw', kappa=0.0)
  x_adv, _ = Attack(tiny_model, unbounded, (0, 1))(x, y)
  assert _accuracy(tiny_model, x_adv, y) == 0.0


def test_targeted_attack_hits_its_targets(tiny_model, mnist_slice):
  _, _, x, y = mnist_slice
  targets = (y + 1) % 10
  for loss in ('xent', 'cw'):  # the 'next' rule draws exactly these targets
    x_adv, hit = Attack(tiny_model, _pgd(loss=loss, target='next'), (0, 1))(x, y)
    assert np.mean(np.argmax(tiny_model(x_adv), -1) == targets) > 0.8
    assert np.mean(hit) > 0.8
  x_adv, hit = Attack(tiny_model, _pgd(target='random'), (0, 1))(x, y, seed=5)
  predicted = np.argmax(tiny_model(x_adv), -1)
  assert np.mean(predicted != y) > 0.8 and np.mean(hit) > 0.8
  with pytest.raises(ValueError, match='untargeted'):
    Attack(tiny_model, _pgd(), (0, 1))(x, y, targets=targets)


def test_matches_cleverhans_pgd(tiny_model, mnist_slice):
  projected_gradient_descent = pytest.importorskip(
      'cleverhans.tf2.attacks.projected_gradient_descent').projected_gradient_descent
  _, _, x, y = mnist_slice
  x, y = x[:100], y[:100]
  theirs = projected_gradient_descent(
      tiny_model, tf.constant(x), eps=0.3, eps_iter=0.01, nb_iter=40, norm=np.inf, clip_min=0.0,
      clip_max=1.0, y=tf.constant(y), rand_init=None, sanity_checks=False).numpy()
  ours, _ = Attack(tiny_model, _pgd(random_start=False), (0, 1))(x, y)
  mismatch = np.abs(ours.numpy() - theirs) > 1e-5
  assert mismatch.mean() < 1e-3  # sign(0) ties aside, identical iterates


def test_one_trace_serves_every_budget(tiny_model, mnist_slice):
  _, _, x, y = mnist_slice
  counts = []
  for steps, restarts in ((10, 1), (1000, 3)):
    config = _pgd(loss='cw', steps=steps, restarts=restarts, epsilon=0.01, step_size=0.01)
    attack = Attack(tiny_model, config, (0, 1))
    attack(x[:8], y[:8])
    counts.append(attack._run.experimental_get_tracing_count())  # pylint: disable=protected-access
  assert counts[1] == counts[0]  # 1,000 steps and 3 restarts reuse the 10-step graph


def test_config_validation():
  with pytest.raises(ValueError, match='norm'):
    _pgd(norm='l1')
  with pytest.raises(ValueError, match='epsilon'):
    _pgd(epsilon=-1.0)
  with pytest.raises(ValueError, match='steps'):
    _pgd(steps=0)


def test_momentum_zero_is_pgd_and_momentum_keeps_the_ball(tiny_model, mnist_slice):
  _, _, x, y = mnist_slice
  plain, _ = Attack(tiny_model, _pgd(random_start=False), (0, 1))(x, y)
  zero, _ = Attack(tiny_model, _pgd(random_start=False, momentum=0.0), (0, 1))(x, y)
  np.testing.assert_array_equal(plain, zero)
  x_adv, fooled = Attack(tiny_model, _pgd(momentum=1.0, steps=20), (0, 1))(x, y, seed=2)
  assert np.abs(x_adv.numpy() - x).max() <= 0.3 + 1e-6
  assert x_adv.numpy().min() >= 0.0 and x_adv.numpy().max() <= 1.0
  assert np.mean(fooled) > 0.9
  with pytest.raises(ValueError, match='momentum'):
    _pgd(momentum=-1.0)
