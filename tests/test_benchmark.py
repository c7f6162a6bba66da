"""evaluation.benchmark evaluates a Keras classifier the project did not build, on examples
the caller gives (generated here, so no ../shared/data is needed)."""

import json

import keras
import numpy as np
import pytest

from evaluation.benchmark import benchmark
from run_support.errors import UserError


def _toy_data(n=40, seed=0):
  """MNIST-shaped images whose class k lights up rows 2k..2k+1 (uint8), and the labels."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 10, n)
  images = rng.integers(0, 40, (n, 28, 28, 1)).astype(np.uint8)
  for i, k in enumerate(labels):
    images[i, 2 * k:2 * k + 2] = 255
  return images, labels


def _toy_model():
  """A Keras classifier built here, not by madry_compat: flatten, one dense layer."""
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(10)])
  images, labels = _toy_data(400, seed=1)
  model.compile(keras.optimizers.Adam(1e-2),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  model.fit(images / 255.0, labels, epochs=5, batch_size=50, verbose=0)
  return model


def test_benchmark_evaluates_a_foreign_keras_model_and_resumes(tmp_path):
  model = _toy_model()
  images, labels = _toy_data()
  out = tmp_path / 'eval'
  doc = benchmark(model, 'mnist', str(out), suites=('paper_whitebox',),
                  attacks=('fgsm_big:steps=1,step=0.9,eps=0.9,rand=false',),
                  examples=(images, labels), name='toy', batch_size=16)
  expected_clean = np.mean(np.argmax(model(images / 255.0), -1) == labels)
  assert doc['clean_acc'] == pytest.approx(expected_clean) and expected_clean > 0.9
  by_name = {a['name']: a for a in doc['attacks']}
  assert list(by_name) == ['clean', 'pgd40_xent', 'pgd40_cw', 'fgsm_big']
  for entry in doc['attacks'][1:]:
    assert entry['sanity']['ok'] and entry['accuracy'] <= doc['clean_acc']
  assert by_name['fgsm_big']['accuracy'] < doc['clean_acc']  # eps 0.9 breaks a linear model
  assert doc['model']['path'] == 'toy' and doc['model']['global_step'] is None
  assert doc['examples']['source'] == 'given by the caller' and doc['examples']['count'] == 40
  assert json.load(open(out / 'results.json'))['clean_acc'] == doc['clean_acc']
  # A rerun on the same model and images reuses every result.
  again = benchmark(model, 'mnist', str(out), suites=('paper_whitebox',),
                    attacks=('fgsm_big:steps=1,step=0.9,eps=0.9,rand=false',),
                    examples=(images, labels), name='toy', batch_size=16)
  assert [a['seconds'] for a in again['attacks'][1:]] == [a['seconds'] for a in doc['attacks'][1:]]


def test_benchmark_with_no_attack_reports_clean_accuracy(tmp_path):
  model = _toy_model()
  images, labels = _toy_data()
  doc = benchmark(model, 'mnist', str(tmp_path), suites=(), examples=(images, labels))
  assert [a['name'] for a in doc['attacks']] == ['clean'] and doc['complete']
  assert doc['clean_acc'] == pytest.approx(np.mean(np.argmax(model(images / 255.0), -1) == labels))


def test_benchmark_refuses_examples_it_cannot_read(tmp_path):
  images, labels = _toy_data()
  with pytest.raises(UserError, match='images must be uint8'):
    benchmark(_toy_model(), 'mnist', str(tmp_path), examples=(images / 255.0, labels))
  with pytest.raises(UserError, match='labels must be 40 integers'):
    benchmark(_toy_model(), 'mnist', str(tmp_path), examples=(images, labels[:5]))
