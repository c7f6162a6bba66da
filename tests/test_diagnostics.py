"""Diagnostics: Eq. 4 is exact on a linear model; hand-computed gaps; figures are written."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from attacks import Attack
from attacks import fgsm
from data_input import loader
from data_input.specs import get_spec
from diagnostics import figures
from diagnostics.activations import inactive_count
from diagnostics.activations import layer_activity
from diagnostics.landscape import loss_landscapes
from diagnostics.linearized import linearized_quantities
from diagnostics.linearized import predicted_accuracy

SPEC = get_spec('mnist')


def _linear_model(seed=0, classes=2, hidden=False):
  keras.utils.set_random_seed(seed)
  layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
  if hidden:
    layers.append(keras.layers.Dense(16, activation='relu'))
  layers.append(keras.layers.Dense(classes, kernel_initializer=keras.initializers.RandomNormal(stddev=0.05)))
  return keras.Sequential(layers)


def _split(n=200, classes=2, seed=1):
  rng = np.random.default_rng(seed)
  return loader.Split(rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8),
                      rng.integers(0, classes, n), 'synthetic', False, True)


def test_eq4_is_exact_on_a_linear_model():
  model, split = _linear_model(), _split()
  q = linearized_quantities(model, split, SPEC, 200, 50)
  x = loader.to_model_scale(split.images, SPEC)
  unbounded = (-1e6, 1e6)  # no data-range clipping, so the model stays linear in x
  for epsilon in (0.002, 0.01, 0.05):
    attack = Attack(model, fgsm('fgsm_cw', epsilon, 'cw', kappa=0.0), unbounded)
    x_adv, _ = attack(x, split.labels)
    empirical = np.mean(np.argmax(model(x_adv), -1) == split.labels)
    assert predicted_accuracy(q['epsilon_L'], epsilon) == pytest.approx(empirical)


def test_gaps_against_hand_computation():
  model, split = _linear_model(classes=3), _split(classes=3, n=5)
  q = linearized_quantities(model, split, SPEC, 5, 5)
  w, b = [v.numpy() for v in model.layers[-1].weights]
  x = loader.to_model_scale(split.images, SPEC).reshape(5, -1)
  z = x @ w + b
  for i, y in enumerate(split.labels):
    wrong = [j for j in range(3) if j != y]
    ybar = wrong[int(np.argmax(z[i, wrong]))]
    gap = z[i, y] - z[i, ybar]
    grad_gap = np.abs(w[:, y] - w[:, ybar]).sum()
    assert q['logit_gap'][i] == pytest.approx(gap, rel=1e-4, abs=1e-5)
    assert q['gradient_gap'][i] == pytest.approx(grad_gap, rel=1e-4)
    assert q['epsilon_L'][i] == pytest.approx(gap / grad_gap, rel=1e-3, abs=1e-6)
    cosine = w[:, y] @ w[:, ybar] / np.linalg.norm(w[:, y]) / np.linalg.norm(w[:, ybar])
    assert q['cosine'][i] == pytest.approx(cosine, rel=1e-4, abs=1e-6)
    assert q['grad_true_l1'][i] == pytest.approx(np.abs(w[:, y]).sum(), rel=1e-4)


def test_every_figure_is_written(tmp_path):
  model, split = _linear_model(hidden=True, classes=10), _split(classes=10, n=40)
  q = linearized_quantities(model, split, SPEC, 40, 20)
  penultimate, logits = layer_activity(model, split, SPEC, 40, 20)
  assert penultimate.shape == (16,) and np.all(np.diff(penultimate) <= 0)
  # The logit layer's sums by hand: |model(x)| summed over the 40 images, sorted.
  x = loader.to_model_scale(split.images[:40], SPEC)
  np.testing.assert_allclose(logits, np.sort(np.abs(model(x).numpy()).sum(0))[::-1], rtol=1e-5)
  assert inactive_count(np.array([10.0, 0.5, 0.05, 0.0]), 1e-2) == 2  # 0.05 and 0 below 0.1
  assert inactive_count(np.array([10.0, 0.5, 0.05, 0.0]), 1e-6) == 1
  images = loader.to_model_scale(split.images[:3], SPEC)
  surfaces, grid = loss_landscapes(model, images, split.labels[:3], extent=0.4, points=5)
  assert surfaces['random'].shape == (3, 5, 5) and grid[0] == pytest.approx(-0.4)
  # The centre of every surface is the clean loss.
  clean = tf.nn.sparse_softmax_cross_entropy_with_logits(split.labels[:3], model(images)).numpy()
  np.testing.assert_allclose(surfaces['adversarial'][:, 2, 2], clean, rtol=1e-5)
  paths = [str(tmp_path / f'{name}.png') for name in ('h', 'a', 'l', 'z', 't')]
  figures.histograms({'a': q, 'b': q}, paths[0], 0.3)
  figures.activity({'a': penultimate}, paths[1])
  figures.landscape_grid(surfaces['random'], grid, paths[2], 'title')
  figures.logit_activity({'a': logits}, paths[3])
  figures.inactive_by_threshold({'a': penultimate}, (1e-6, 1e-2), paths[4])
  for path in paths:
    assert os.path.getsize(path) > 10000
