"""The paper's regularizers against hand-computed values."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regularizers import add_gaussian_noise
from regularizers import logit_frobenius_norm
from regularizers import logit_squeeze_penalty
from regularizers import smooth_labels
from regularizers import squeeze_weight
from regularizers.registry import build_terms
from training.config import TrainConfig
from training.objective import training_objective


def paper_objective(logits, labels, classes, alpha, beta, reduction, global_batch_size,
                    beta_units='summed_xent'):
  """training_objective with the registry's label smoothing and logit squeezing at these
  settings, as the training step builds them."""
  cfg = TrainConfig(alpha=alpha, beta=beta, beta_units=beta_units)
  spec = type('Spec', (), {'num_classes': classes, 'pixel_max': 1.0})
  return training_objective(logits, labels, classes, reduction, global_batch_size,
                            build_terms(cfg, spec, 'targets'), build_terms(cfg, spec, 'logits'))


def test_label_smoothing_hand_computed():
  # y_warm = y_hot - alpha (y_hot - 1/N): true class 1 - 0.2 + 0.05, others 0.05.
  got = smooth_labels(tf.constant([1, 3]), num_classes=4, alpha=0.2).numpy()
  np.testing.assert_allclose(got, [[0.05, 0.85, 0.05, 0.05], [0.05, 0.05, 0.05, 0.85]], atol=1e-7)


@pytest.mark.parametrize('alpha', [0.0, 0.2, 0.95, 1.0])
def test_label_smoothing_is_a_distribution_and_matches_keras(alpha):
  labels = tf.constant([0, 4, 9])
  got = smooth_labels(labels, 10, alpha)
  np.testing.assert_allclose(tf.reduce_sum(got, -1), 1.0, atol=1e-6)
  # Keras' label_smoothing uses the same formula: y (1 - a) + a / N.
  logits = tf.random.stateless_normal([3, 10], seed=[1, 2])
  ours = tf.nn.softmax_cross_entropy_with_logits(labels=got, logits=logits)
  theirs = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=alpha,
                                                reduction=None)(tf.one_hot(labels, 10), logits)
  np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_label_smoothing_extremes():
  np.testing.assert_allclose(smooth_labels(tf.constant([2]), 5, 0.0), [[0, 0, 1, 0, 0]])
  np.testing.assert_allclose(smooth_labels(tf.constant([2]), 5, 1.0), [[0.2] * 5], atol=1e-7)


def test_logit_squeeze_is_unsquared_frobenius_norm():
  logits = tf.constant([[3.0, 0.0], [0.0, 4.0]])
  assert float(logit_frobenius_norm(logits)) == pytest.approx(5.0)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    penalty, norm = logit_squeeze_penalty(logits, 2.0)
  assert float(norm) == pytest.approx(5.0)
  # d(beta ||Z||_F)/dZ = beta Z / ||Z||_F
  np.testing.assert_allclose(tape.gradient(penalty, logits), 2.0 * logits.numpy() / 5.0, rtol=1e-6)


def test_logit_squeeze_split_over_rows_adds_up_to_the_whole_batch_gradient():
  z = tf.constant([[3.0, 0.0], [0.0, 4.0], [1.0, 2.0]])
  parts = (z[:2], z[2:])
  whole_norm = float(tf.norm(z))
  gradients = []
  for part in parts:  # what each replica computes, with the all-reduce done by hand
    with tf.GradientTape() as tape:
      tape.watch(part)
      penalty, norm = logit_squeeze_penalty(part, 2.0, lambda _: tf.constant(whole_norm ** 2))
    assert float(norm) == pytest.approx(whole_norm)
    gradients.append(tape.gradient(penalty, part).numpy())
  np.testing.assert_allclose(np.concatenate(gradients), 2.0 * z.numpy() / whole_norm, rtol=1e-6)


def test_noise_only_when_training():
  images = tf.fill([4, 8, 8, 1], 0.5)
  same = add_gaussian_noise(images, 0.3, seed=[0, 1], training=False)
  np.testing.assert_array_equal(same, images)
  np.testing.assert_array_equal(add_gaussian_noise(images, 0.0, [0, 1], training=True), images)
  assert not np.allclose(add_gaussian_noise(images, 0.3, [0, 1], training=True), images)


def test_noise_statistics_and_seeding():
  images = tf.zeros([64, 32, 32, 3])
  noisy = add_gaussian_noise(images, 20.0, seed=[3, 7], training=True).numpy()
  assert abs(noisy.mean()) < 0.5
  assert noisy.std() == pytest.approx(20.0, rel=0.02)
  np.testing.assert_array_equal(noisy, add_gaussian_noise(images, 20.0, [3, 7], training=True))
  assert not np.allclose(noisy, add_gaussian_noise(images, 20.0, [3, 8], training=True))


def test_noise_clipping_is_optional():
  images = tf.fill([16, 28, 28, 1], 0.5)
  unclipped = add_gaussian_noise(images, 0.5, [0, 0], training=True).numpy()
  clipped = add_gaussian_noise(images, 0.5, [0, 0], training=True, clip_range=(0.0, 1.0)).numpy()
  assert unclipped.min() < 0 and unclipped.max() > 1
  assert clipped.min() == 0.0 and clipped.max() == 1.0
  np.testing.assert_array_equal(clipped, np.clip(unclipped, 0, 1))


def test_objective_reductions_hand_computed():
  logits = tf.zeros([4, 2])  # uniform prediction: xent = log 2 per example
  labels = tf.constant([0, 1, 0, 1], tf.int64)
  _, summed = paper_objective(logits, labels, 2, alpha=0.5, beta=0.0, reduction='sum',
                              global_batch_size=4)
  _, mean = paper_objective(logits, labels, 2, alpha=0.5, beta=0.0, reduction='mean',
                            global_batch_size=4)
  assert float(summed['xent']) == pytest.approx(4 * np.log(2), rel=1e-6)
  assert float(mean['xent']) == pytest.approx(np.log(2), rel=1e-6)
  logits = tf.constant([[2.0, 0.0], [0.0, 0.0]])
  labels = tf.constant([0, 1], tf.int64)
  xent = (np.log1p(np.exp(-2.0)) + np.log(2)) / 2
  for units, weight in (('summed_xent', 3.0 / 2), ('batch_loss', 3.0)):  # B = 2
    _, out = paper_objective(logits, labels, 2, alpha=0.0, beta=3.0, reduction='mean',
                             global_batch_size=2, beta_units=units)
    assert float(out['xent']) == pytest.approx(xent, rel=1e-6)
    assert float(out['logit_norm']) == pytest.approx(2.0)
    assert float(out['loss']) == pytest.approx(xent + weight * 2.0, rel=1e-6)


def _gradient_of_xent_at_zero(batch, classes, reduction):
  logits = tf.zeros([batch, classes])
  with tf.GradientTape() as tape:
    tape.watch(logits)
    _, terms = paper_objective(logits, tf.range(batch, dtype=tf.int64) % classes, classes,
                               0.0, 0.0, reduction, batch)
  return tape.gradient(terms['xent'], logits)


@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_squeezing_threshold_is_the_papers_summed_units_for_both_reductions(reduction):
  """xent + w ||Z||_F is convex in Z, and Z = 0 is its minimiser when w >= ||d xent/dZ at 0||_F.
  By hand: each row of d(summed xent)/dZ at Z = 0 is 1/N - y_hot, of squared norm
  (1 - 1/N)^2 + (N - 1)/N^2 = 1 - 1/N, so the threshold on beta is sqrt(B (1 - 1/N)):
  6.708 for MNIST (B 50) and 10.733 for CIFAR-10 (B 128), whichever reduction trains."""
  for batch, classes, threshold in ((50, 10, 6.708), (128, 10, 10.733)):
    assert np.sqrt(batch * (1 - 1 / classes)) == pytest.approx(threshold, abs=1e-3)
    grad = _gradient_of_xent_at_zero(batch, classes, reduction)
    weight_at_threshold = squeeze_weight(threshold, reduction, batch)
    assert float(tf.norm(grad)) == pytest.approx(weight_at_threshold, rel=1e-3)
    # Along the steepest descent direction the loss falls from Z = 0 just below the
    # threshold and rises just above it.
    direction = -grad / tf.norm(grad)
    labels = tf.range(batch, dtype=tf.int64) % classes
    loss = lambda beta, t: float(paper_objective(
        t * direction, labels, classes, 0.0, beta, reduction, batch)[1]['loss'])
    assert loss(0.98 * threshold, 1e-3) < loss(0.98 * threshold, 0.0)
    assert loss(1.02 * threshold, 1e-3) > loss(1.02 * threshold, 0.0)


def test_beta_added_to_the_mean_loss_as_is_squeezes_b_times_harder():
  """The old CIFAR objective: beta 10 on the mean loss of 128 is far past the threshold
  sqrt((1 - 1/N) / B) = 0.0839, so no logits at all is optimal (why such runs diverged)."""
  grad = _gradient_of_xent_at_zero(128, 10, 'mean')
  assert float(tf.norm(grad)) == pytest.approx(np.sqrt(0.9 / 128), rel=1e-4)
  assert squeeze_weight(10.0, 'mean', 128, 'batch_loss') == 10.0
  assert squeeze_weight(10.0, 'mean', 128) == pytest.approx(10.0 / 128)
  assert squeeze_weight(10.0, 'sum', 50) == squeeze_weight(10.0, 'sum', 50, 'batch_loss') == 10.0
