"""train.py end to end: flag validation, the real main on tiny data, kill-and-resume."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

from absl import flags
from absl.testing import flagsaver
import numpy as np
import pytest
import tensorflow as tf

from conftest import CIFAR10_SUBSET_DIR
from conftest import REPO_ROOT
from conftest import needs_cifar_subset
from data_input import loader
import train
from training.loop import TrainData


def _run_cli(*args, timeout=120):
  return subprocess.run([sys.executable, os.path.join(REPO_ROOT, 'train.py'), *args],
                        capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


@pytest.fixture
def a_file(tmp_path):
  path = tmp_path / 'results.txt'
  path.write_text('precious')
  return str(path)


BAD_INVOCATIONS = {
    'alpha above 1': ['--alpha=1.5'],
    'negative beta': ['--beta=-1'],
    'negative sigma': ['--sigma=-0.3'],
    'zero steps': ['--train_steps=0'],
    'unknown dataset': ['--dataset=svhn'],
    'depth not 6n+4': ['--dataset=cifar10', '--depth=12'],
    'unknown flag': ['--alpah=0.2'],
    'not a number': ['--train_steps=many'],
    'missing flagfile': ['--flagfile=/nonexistent/paper.cfg'],
    'manual_dir missing': ['--manual_dir=/nonexistent/mnist'],
    'bad decay fractions': ['--dataset=cifar10', '--lr_decay_fractions=0.75,0.5'],
}


@pytest.mark.parametrize('args', BAD_INVOCATIONS.values(), ids=BAD_INVOCATIONS.keys())
def test_bad_flags_fail_with_one_line(args, tmp_path):
  result = _run_cli(f'--model_dir={tmp_path / "run"}', *args)
  assert result.returncode == 2
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith('train.py: error: '), result.stderr
  assert not os.path.exists(tmp_path / 'run')  # failed before any work


def test_model_dir_that_is_a_file_is_refused_and_kept(a_file):
  result = _run_cli(f'--model_dir={a_file}')
  assert result.returncode == 2 and 'is a file' in result.stderr
  assert open(a_file).read() == 'precious'


def test_missing_data_fails_fast_with_one_line(tmp_path):
  start = time.monotonic()
  result = _run_cli(f'--model_dir={tmp_path / "run"}', f'--manual_dir={tmp_path}',
                    f'--data_dir={tmp_path / "tfds"}')
  assert time.monotonic() - start < 60
  lines = result.stderr.strip().splitlines()
  assert result.returncode == 2 and len(lines) == 1, result.stderr
  assert 'train-images-idx3-ubyte.gz' in lines[0]


def _striped_data(n, seed):
  """Learnable CIFAR-shaped data: the class decides which band of rows is bright."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 10, size=n)
  images = rng.integers(0, 60, size=(n, 32, 32, 3)).astype(np.uint8)
  for i, c in enumerate(labels):
    images[i, 3 * c:3 * c + 3] = 250
  return loader.Split(images, labels, 'synthetic', partial=False, file_order=True)


def _main(args, data):
  with flagsaver.flagsaver():
    flags.FLAGS.unparse_flags()
    flags.FLAGS(['train.py', *args])
    train.main(['train.py'], data_override=data)


def _scalars(model_dir, tag):
  values = {}
  for path in glob.glob(os.path.join(model_dir, 'summaries', 'events.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        if value.tag == tag:
          values[event.step] = float(tf.make_ndarray(value.tensor))
  return values


def test_main_trains_checkpoints_resumes_and_exports(tmp_path):
  data = TrainData(train=_striped_data(256, 0), test=_striped_data(100, 1))
  model_dir = str(tmp_path / 'run')
  args = [f'--model_dir={model_dir}', '--dataset=cifar10', '--depth=10', '--width=1',
          '--alpha=0.1', '--beta=0.05', '--sigma=5', '--batch_size=32', '--learning_rate=0.05',
          '--train_steps=40', '--checkpoint_every=10', '--log_every=5', '--eval_every=20',
          '--eval_examples=50', '--seed=3']
  _main(args, data)
  metrics = json.load(open(os.path.join(model_dir, 'final_metrics.json')))
  assert metrics['global_step'] == 40 and metrics['test_examples'] == 100
  assert metrics['test_accuracy'] > 0.3  # chance is 0.1
  assert metrics['config']['alpha'] == 0.1 and metrics['train_seconds'] > 0
  xent = _scalars(model_dir, 'train/xent')
  assert sorted(xent) == list(range(5, 45, 5))
  assert np.mean([xent[35], xent[40]]) < np.mean([xent[5], xent[10]])
  assert set(_scalars(model_dir, 'test/accuracy')) == {20, 40}
  assert {'train/logit_norm', 'train/accuracy', 'train/learning_rate'} <= {
      v.tag for p in glob.glob(os.path.join(model_dir, 'summaries', 'events.*'))
      for e in tf.compat.v1.train.summary_iterator(p) for v in e.summary.value}
  ckpts = sorted(os.path.basename(p) for p in glob.glob(os.path.join(model_dir, 'checkpoints', '*.index')))
  assert ckpts == ['ckpt-20.index', 'ckpt-30.index', 'ckpt-40.index']
  flagfile = open(os.path.join(model_dir, 'flags.cfg')).read()
  assert '--alpha=0.1' in flagfile and '--optimizer=momentum' in flagfile
  import keras  # pylint: disable=g-import-not-at-top
  model = keras.models.load_model(os.path.join(model_dir, 'model.keras'))
  assert model(tf.zeros([1, 32, 32, 3])).shape == (1, 10)

  # The same command again: resumes at step 40, so nothing is trained and metrics agree.
  mtime = os.path.getmtime(os.path.join(model_dir, 'checkpoints', 'ckpt-40.index'))
  _main(args, data)
  again = json.load(open(os.path.join(model_dir, 'final_metrics.json')))
  assert again['global_step'] == 40 and again['test_accuracy'] == metrics['test_accuracy']
  assert os.path.getmtime(os.path.join(model_dir, 'checkpoints', 'ckpt-40.index')) == mtime

  # Other settings in the same model_dir are refused, and nothing there is touched.
  with pytest.raises(train.UserError, match='other settings'):
    _main([a if not a.startswith('--alpha') else '--alpha=0.5' for a in args], data)
  assert json.load(open(os.path.join(model_dir, 'run_config.json')))['config']['alpha'] == 0.1

  # A finished run can be extended: more steps continue from the last checkpoint.
  _main([a if not a.startswith('--train_steps') else '--train_steps=50' for a in args], data)
  assert json.load(open(os.path.join(model_dir, 'final_metrics.json')))['global_step'] == 50

  # A damaged run_config.json is reported, not a traceback.
  with open(os.path.join(model_dir, 'run_config.json'), 'w') as f:
    f.write('{"identity": ')
  with pytest.raises(train.UserError, match='unreadable'):
    _main(args, data)


@needs_cifar_subset
def test_killed_run_resumes_from_checkpoint(tmp_path):
  model_dir = tmp_path / 'run'
  command = [sys.executable, os.path.join(REPO_ROOT, 'train.py'), '--dataset=cifar10',
             '--alpha=0.95', '--sigma=20', '--depth=10', '--width=1', '--batch_size=16',
             '--train_steps=300', '--checkpoint_every=10', '--log_every=50',
             '--eval_examples=0', '--final_eval_examples=100', f'--manual_dir={CIFAR10_SUBSET_DIR}',
             f'--data_dir={tmp_path / "tfds"}', f'--model_dir={model_dir}']
  first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + 120
  while not glob.glob(str(model_dir / 'checkpoints' / 'ckpt-*.index')):
    assert first.poll() is None and time.monotonic() < deadline, 'no checkpoint was written'
    time.sleep(0.05)
  first.send_signal(signal.SIGKILL)
  first.wait()
  assert not (model_dir / 'final_metrics.json').exists()
  second = subprocess.run(command, capture_output=True, text=True, timeout=300)
  assert second.returncode == 0, second.stderr[-2000:]
  resumed = [l for l in second.stderr.splitlines() if 'Resumed from' in l]
  assert resumed and 'at step 0.' not in resumed[0]
  assert 'PARTIAL' in second.stderr
  metrics = json.load(open(model_dir / 'final_metrics.json'))
  assert metrics['global_step'] == 300 and metrics['test_split']['partial']


PAPER_CONFIGS = sorted(glob.glob(os.path.join(REPO_ROOT, 'configs', 'paper', '*.cfg')))


@pytest.mark.parametrize('path', PAPER_CONFIGS, ids=os.path.basename)
def test_paper_flagfiles_parse_and_validate(path):
  with flagsaver.flagsaver():
    flags.FLAGS.unparse_flags()
    flags.FLAGS(['train.py', f'--flagfile={path}'])
    cfg = train.config_from_flags()
  name = os.path.basename(path)[:-len('.cfg')]
  assert cfg.model_dir == os.path.join('runs', name)  # the flagfile's settings, nothing else
  assert cfg.dataset == name.split('_')[0]


def test_there_is_a_flagfile_per_paper_training_row():
  assert len(PAPER_CONFIGS) >= 58
