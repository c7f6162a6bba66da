"""Results are tied to the images they measured: a stored result is reused only for the
same model state and the same test examples (images, labels and their order)."""

import json
import os

import numpy as np
import pytest

from data_input.loader import Split
from evaluation.runner import AttackResult
from evaluation.store import ResultsStore
from run_support.errors import UserError

STATE = {'dataset': 'mnist', 'global_step': 10, 'weights_sha256': 'a' * 64}
SETUP = {'dataset': 'mnist', 'num_examples': 4, 'seed': 0}


def _split(order=(0, 1, 2, 3, 4, 5), source='raw:here', file_order=True):
  images = np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2, 1)
  labels = np.array([3, 1, 4, 1, 5, 9], np.int64)
  index = np.array(order)
  return Split(images[index], labels[index], source, False, file_order)


def _save(store, examples):
  clean = AttackResult('clean', 'clean', None, 'no attack', {}, np.array([1, 1, 0, 1], bool),
                       0.5, {'ok': True})
  store.save({'setup': SETUP, 'model': STATE, 'examples': examples,
              'attacks': [clean.to_json()]}, '')


def test_examples_record_names_count_order_source_and_hash():
  split = _split()
  described = split.describe(4)
  assert described == {'count': 4, 'which': 'first 4 test images', 'source': 'raw:here',
                       'partial_split': False, 'file_order': True, 'sha256': split.sha256(4)}
  assert split.sha256(4) != split.sha256(5) != split.sha256()
  # The same images in another order, or with another label, are other examples.
  assert _split(order=(1, 0, 2, 3, 4, 5)).sha256(4) != split.sha256(4)
  relabelled = _split()
  relabelled.labels[0] = 7
  assert relabelled.sha256(4) != split.sha256(4)


def test_stored_result_is_reused_for_the_same_images_only(tmp_path):
  out = str(tmp_path)
  measured = _split().describe(4)
  _save(ResultsStore(out, SETUP, STATE, measured), measured)
  assert list(ResultsStore(out, SETUP, STATE, measured).load()) == ['clean']
  assert not [f for f in os.listdir(out) if f.startswith('results.stale-')]

  # The same count of "first N" from another order (tfds' fixed order vs the files').
  other = _split(order=(5, 4, 3, 2, 1, 0), source='tfds:there', file_order=False).describe(4)
  before = json.load(open(tmp_path / 'results.json'))
  assert ResultsStore(out, SETUP, STATE, other).load() == {}
  stale = [f for f in os.listdir(out) if f.startswith('results.stale-')]
  assert len(stale) == 1 and json.load(open(tmp_path / stale[0])) == before  # kept whole
  assert not (tmp_path / 'results.json').exists()


def test_a_result_that_does_not_say_which_images_is_never_reused(tmp_path):
  out = str(tmp_path)
  legacy = {k: v for k, v in _split().describe(4).items() if k != 'sha256'}
  _save(ResultsStore(out, SETUP, STATE, legacy), legacy)
  assert ResultsStore(out, SETUP, STATE, _split().describe(4)).load() == {}
  assert len([f for f in os.listdir(out) if f.startswith('results.stale-')]) == 1


def test_learning_curves_refuse_points_measured_on_other_images(tmp_path):
  from experiments import learning_curves  # pylint: disable=g-import-not-at-top
  first = _split().describe(4)
  document = {'runs': {}}
  learning_curves._check_same_images(document, first, 'curves.json')  # pylint: disable=protected-access
  document['runs']['natural'] = {'100': {'clean': 0.9, 'pgd40_xent': 0.0}}
  learning_curves._check_same_images(document, first, 'curves.json')  # the same images: fine
  other = _split(order=(1, 0, 2, 3, 4, 5)).describe(4)
  with pytest.raises(UserError, match='measured on first 4 test images of raw:here, not on'):
    learning_curves._check_same_images(document, other, 'curves.json')
  document['examples'] = 'first 4 test images (tfds)'  # written before images were recorded
  with pytest.raises(UserError, match='unrecorded images'):
    learning_curves._check_same_images(document, first, 'curves.json')


def test_a_file_from_before_runs_were_recorded_keeps_its_settings_as_an_earlier_run(tmp_path):
  out, examples = str(tmp_path), _split().describe(4)
  _save(ResultsStore(out, SETUP, STATE, examples), examples)
  document = json.load(open(tmp_path / 'results.json'))
  document['settings'] = {'seed': 0, 'blackbox_source': 'models/natural'}
  (tmp_path / 'results.json').write_text(json.dumps(document))
  store = ResultsStore(out, SETUP, STATE, examples)
  store.load()
  assert store.earlier_runs == [{'settings': document['settings'], 'measured': None}]
