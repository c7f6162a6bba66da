"""Every shipped model loads from its Madry TF1 checkpoint and has the clean accuracy its
model.json records, on the first 500 test images of its dataset in the files' order (for
CIFAR-10, the subset's 1,000 are the official test file's first)."""

import glob
import json
import os

import pytest

from conftest import CIFAR10_SUBSET_DIR
from conftest import MNIST_DIR
from conftest import REPO_ROOT

SHIPPED = sorted(glob.glob(os.path.join(REPO_ROOT, 'models', '*', '*', 'model.json')))
RAW_TEST_FILES = {'mnist': MNIST_DIR, 'cifar10': CIFAR10_SUBSET_DIR}


@pytest.mark.parametrize('card_path', SHIPPED, ids=lambda p: os.path.relpath(os.path.dirname(p), os.path.join(REPO_ROOT, 'models')))
def test_shipped_model_loads_and_matches_its_recorded_accuracy(card_path):
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  from evaluation.model_io import load_model_folder  # pylint: disable=g-import-not-at-top
  from experiments.ship_model import CHECK_EXAMPLES, check_accuracy  # pylint: disable=g-import-not-at-top
  with open(card_path) as f:
    card = json.load(f)
  data = RAW_TEST_FILES[card['dataset']]
  if not os.path.isdir(data):
    pytest.skip(f'no {data}')
  loaded = load_model_folder(os.path.dirname(card_path), card['dataset'])
  assert loaded.kind == 'madry_tf1' and loaded.global_step == card['global_step']
  assert loaded.weights_sha256 == card['weights_sha256']
  recorded = card[f'clean_accuracy_first{CHECK_EXAMPLES}_file_order']
  assert check_accuracy(loaded.model, data, get_spec(card['dataset'])) == pytest.approx(recorded, abs=1e-9)


def test_shipped_models_stay_small():
  total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(REPO_ROOT, 'models', '**', '*'),
                                                    recursive=True) if os.path.isfile(p))
  assert total < 200e6
