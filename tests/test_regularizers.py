"""The paper's regularizers against hand-computed values."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from regularizers import add_gaussian_noise
from regularizers import logit_frobenius_norm
from regularizers import logit_squeeze_penalty
from regularizers import smooth_labels
from training.objective import regularized_xent


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
  assert float(logit_squeeze_penalty(logits, 2.0)) == pytest.approx(10.0)
  with tf.GradientTape() as tape:
    tape.watch(logits)
    penalty = logit_squeeze_penalty(logits, 2.0)
  # d(beta ||Z||_F)/dZ = beta Z / ||Z||_F
  np.testing.assert_allclose(tape.gradient(penalty, logits), 2.0 * logits.numpy() / 5.0, rtol=1e-6)


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
  summed = regularized_xent(logits, labels, 2, alpha=0.5, beta=0.0, reduction='sum')
  mean = regularized_xent(logits, labels, 2, alpha=0.5, beta=0.0, reduction='mean')
  assert float(summed['xent']) == pytest.approx(4 * np.log(2), rel=1e-6)
  assert float(mean['xent']) == pytest.approx(np.log(2), rel=1e-6)
  logits = tf.constant([[2.0, 0.0], [0.0, 0.0]])
  out = regularized_xent(logits, tf.constant([0, 1], tf.int64), 2, alpha=0.0, beta=3.0, reduction='mean')
  xent = (np.log1p(np.exp(-2.0)) + np.log(2)) / 2
  assert float(out['xent']) == pytest.approx(xent, rel=1e-6)
  assert float(out['logit_norm']) == pytest.approx(2.0)
  assert float(out['loss']) == pytest.approx(xent + 3.0 * 2.0, rel=1e-6)
