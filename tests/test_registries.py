"""Extending is one module plus one registry entry: a toy attack, a toy dataset (with its
own file format and architecture) registered here work through the parser, the suites,
training and evaluation without touching any other code."""

import dataclasses
import os
import re
from typing import ClassVar

import keras
import numpy as np
import pytest
import tensorflow as tf

from attacks import registry
from attacks.config import PGDConfig
from conftest import run_main
from data_input import loader
from data_input import raw_readers
from data_input import specs
from evaluation.attack_spec import parse_attack
from madry_compat import models
from run_support.errors import UserError


# --- a toy attack: its config type and attack class (what its module would hold) --------

@dataclasses.dataclass(frozen=True)
class ShiftConfig:
  """Adds `sign` * epsilon to every pixel."""
  method: ClassVar[str] = 'toy_shift'
  norm: ClassVar[str] = 'linf'
  restarts: ClassVar[int] = 1
  loss_optimized: ClassVar[str] = 'none (a fixed shift)'
  name: str
  epsilon: float
  sign: float = 1.0

  def describe(self):
    return f'shift every pixel by {self.sign * self.epsilon:g}'


class Shift:
  def __init__(self, model, config, clip_range):
    self.model, self.config, self.clip_range = model, config, clip_range

  def __call__(self, images, labels, seed=0):
    del seed
    x_adv = tf.clip_by_value(tf.convert_to_tensor(images) + self.config.sign * self.config.epsilon,
                             *self.clip_range)
    fooled = tf.argmax(self.model(x_adv), -1) != tf.convert_to_tensor(labels)
    return x_adv, fooled


@pytest.fixture
def toy_attack():
  method = registry.register(registry.Method(
      'toy_shift', ShiftConfig, 'test_registries:Shift', {'eps': 'epsilon', 'sign': 'sign'},
      ('epsilon',), 'a toy shift'))
  yield method
  del registry.METHODS['toy_shift']


def test_a_registered_attack_is_parsed_built_and_evaluated(toy_attack, tmp_path):
  from evaluation.benchmark import benchmark  # pylint: disable=g-import-not-at-top
  mnist = specs.get_spec('mnist')
  planned = parse_attack('down:method=toy_shift,sign=-1', mnist)
  assert planned.config == ShiftConfig(name='down', epsilon=0.3, sign=-1.0)  # eps: the budget
  with pytest.raises(UserError, match='steps does not apply to method toy_shift'):
    parse_attack('x:method=toy_shift,steps=3', mnist)
  assert 'toy_shift: eps=budget sign=1.0 (a toy shift)' in registry.help_text()
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
  rng = np.random.default_rng(0)
  images, labels = rng.integers(0, 255, (20, 28, 28, 1)).astype(np.uint8), rng.integers(0, 10, 20)
  doc = benchmark(model, 'mnist', str(tmp_path), suites=(), attacks=('down:method=toy_shift,sign=-1',),
                  examples=(images, labels))
  entry = doc['attacks'][1]
  assert entry['name'] == 'down' and entry['config']['method'] == 'toy_shift'
  assert entry['sanity']['ok'] and entry['sanity']['max_linf'] == pytest.approx(0.3, abs=1e-6)
  expected = np.argmax(model(np.clip(images / 255.0 - 0.3, 0, 1)), -1) == labels
  assert entry['accuracy'] == pytest.approx(np.mean(expected))


def test_registering_a_taken_name_is_refused():
  with pytest.raises(ValueError, match='registered already'):
    registry.register(registry.Method('pgd', PGDConfig, 'attacks.pgd:Attack', {}, (), 'again'))


# --- a toy dataset: its recipe, its raw reader and its architecture ----------------------

def _read_npz(folder, dataset, split):
  with np.load(os.path.join(folder, f'{dataset}_{split}.npz')) as f:
    return f['images'], f['labels'].astype(np.int64)


@pytest.fixture
def toy_dataset(tmp_path):
  raw_readers.READERS['toy_npz'] = raw_readers.RawReader(
      found=lambda folder, dataset, split: os.path.isfile(os.path.join(folder, f'{dataset}_{split}.npz')),
      read=_read_npz)
  models.ARCHITECTURES['toy_dense'] = lambda depth, width, classes, weight_decay: keras.Sequential(
      [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(classes, dtype='float32')],
      name='toy_dense')
  mnist = specs.get_spec('mnist')
  spec = specs.register(dataclasses.replace(
      mnist, name='toy_bars', image_shape=(8, 8, 1), num_classes=3,
      split_sizes={'train': 300, 'test': 60}, tfds_name='none', tfds_manual_files=('toy_bars_test.npz',),
      raw_format='toy_npz', architecture='toy_dense',
      recipe=dataclasses.replace(mnist.recipe, train_steps=30, batch_size=20, train_holdout=0,
                                 learning_rate=0.05)))
  rng = np.random.default_rng(0)
  for split, n in spec.split_sizes.items():
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 30, (n, 8, 8, 1)).astype(np.uint8)
    for i, k in enumerate(labels):
      images[i, 2 * k:2 * k + 2] = 255  # class k: a bright bar in rows 2k, 2k+1
    np.savez(tmp_path / f'toy_bars_{split}.npz', images=images, labels=labels)
  yield spec, str(tmp_path)
  del specs.SPECS['toy_bars'], raw_readers.READERS['toy_npz'], models.ARCHITECTURES['toy_dense']


def test_a_registered_dataset_is_read_trained_and_evaluated(toy_dataset, tmp_path):
  import eval as eval_main  # pylint: disable=g-import-not-at-top
  import train  # pylint: disable=g-import-not-at-top
  spec, folder = toy_dataset
  split = loader.load_split('toy_bars', 'test', manual_dir=folder)
  assert split.file_order and split.source == f'raw:{folder}' and len(split) == 60
  run_dir = str(tmp_path / 'run')
  metrics = run_main(train, ['--dataset=toy_bars', f'--manual_dir={folder}', f'--model_dir={run_dir}',
                             '--eval_examples=0', '--log_every=10'])
  assert metrics['global_step'] == 30 and metrics['test_accuracy'] > 0.9  # the recipe's 30 steps
  out = str(tmp_path / 'eval')
  run_main(eval_main, [f'--model_dir={run_dir}', f'--manual_dir={folder}', '--suite=paper_whitebox',
                       f'--output_dir={out}'])
  import json  # pylint: disable=g-import-not-at-top
  doc = json.load(open(os.path.join(out, 'results.json')))
  assert [a['name'] for a in doc['attacks']] == ['clean', 'pgd40_xent', 'pgd40_cw']
  assert doc['examples']['count'] == 60 and doc['setup']['dataset'] == 'toy_bars'


def test_usage_docs_list_every_attack_method_with_its_keys():
  from conftest import REPO_ROOT  # pylint: disable=g-import-not-at-top
  text = open(os.path.join(REPO_ROOT, 'docs', 'usage.md')).read()
  table = text[text.index('| method | keys |'):].split('\n\n')[0].splitlines()[2:]
  documented = {}
  for row in table:
    method, keys = (cell.strip() for cell in row.strip('|').split('|'))
    documented[method.split('`')[1]] = re.findall(r'`(\w+)`', keys)
  assert documented == {name: list(m.keys) for name, m in registry.METHODS.items()}


# --- a toy regularizer: its module (a penalty on the logits) -----------------------------

TOY_REGULARIZER_MODULE = '''
import tensorflow as tf


def build(cfg, spec):
  """gamma * sum |Z|, or None at gamma 0."""
  del spec
  if cfg.toy_gamma == 0:
    return None

  def penalty(logits, context):
    share = cfg.toy_gamma * tf.reduce_sum(tf.abs(logits))
    whole = share if context.sum_over_replicas is None else context.sum_over_replicas(share)
    return share, whole, {'toy_l1': whole}
  return penalty
'''

# Registered before training/config.py is imported (TrainConfig reads the table then), so
# in its own process: the flag, the validation, the run identity and the step's loss.
TOY_REGULARIZER_CHECK = '''
import numpy as np
import tensorflow as tf
from regularizers import registry
registry.register(registry.Regularizer(
    'toy_l1', 'logits', (registry.Setting('toy_gamma', 0.0, 'L1 of the logits.', minimum=0.0),),
    'toy_l1:build', 'gamma sum |Z|'))
import train
from data_input.specs import get_spec
from madry_compat import build_model
from run_support.errors import UserError
from training.config import TrainConfig, validate
from training.optimization import build_optimizer
from training.step import make_train_step
train.define_train_flags()
assert 'L1 of the logits.' in train.FLAGS['toy_gamma'].help
try:
  validate(TrainConfig(toy_gamma=-1.0).resolved())
  raise SystemExit('a negative toy_gamma was accepted')
except UserError as error:
  assert str(error) == '--toy_gamma must be >= 0, got -1.0', error
cfg = TrainConfig(toy_gamma=0.5, learning_rate=1e-9).resolved()
assert cfg.identity()['toy_gamma'] == 0.5 and '--toy_gamma=0.5' in cfg.as_flags()
spec = get_spec('mnist')
model = build_model('mnist')
optimizer = build_optimizer(cfg)
optimizer.build(model.trainable_variables)
rng = np.random.default_rng(0)
images = tf.constant(rng.random((cfg.batch_size, 28, 28, 1), np.float32))
labels = tf.constant(rng.integers(0, 10, cfg.batch_size), tf.int64)
logits = model(images).numpy().astype(np.float64)
shifted = logits - logits.max(1, keepdims=True)
xent = -(shifted[np.arange(len(labels)), labels.numpy()] - np.log(np.exp(shifted).sum(1))).sum()
out = make_train_step(model, optimizer, spec, cfg)(images, labels)
expected = xent + 0.5 * np.abs(logits).sum()
assert abs(float(out['loss']) - expected) < 1e-4 * expected, (float(out['loss']), expected)
assert abs(float(out['toy_l1']) - 0.5 * np.abs(logits).sum()) < 1e-3
print('toy regularizer ok')
'''


def test_a_registered_regularizer_gets_its_flag_validation_identity_and_place_in_the_loss(tmp_path):
  """Summed xent (Madry's MNIST loss) plus gamma sum |Z|, by hand from the logits the step
  sees, for a regularizer that is one module and one register call."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  from conftest import REPO_ROOT  # pylint: disable=g-import-not-at-top
  (tmp_path / 'toy_l1.py').write_text(TOY_REGULARIZER_MODULE)
  env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(tmp_path), REPO_ROOT])}
  result = subprocess.run([sys.executable, '-c', TOY_REGULARIZER_CHECK], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'toy regularizer ok' in result.stdout


def test_registering_a_taken_regularizer_setting_is_refused():
  from regularizers import registry as regularizers  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match="setting 'alpha' is taken"):
    regularizers.register(regularizers.Regularizer(
        'other_smoothing', 'targets', (regularizers.Setting('alpha', 0.0, 'again'),),
        'x:build', 'again'))
  with pytest.raises(ValueError, match='place must be one of'):
    regularizers.Regularizer('nowhere', 'gradients', (), 'x:build', 'nowhere')
  assert list(regularizers.REGULARIZERS) == ['gaussian_noise', 'label_smoothing', 'logit_squeezing']
