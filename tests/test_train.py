"""train.py end to end: flag validation, the real main on tiny data, kill-and-resume."""

import dataclasses
import glob
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from conftest import CIFAR10_SUBSET_DIR
from conftest import REPO_ROOT
from conftest import needs_cifar_subset
from conftest import run_main
from data_input import loader
from evaluation.model_io import load_model_folder
from run_support.machine import machine_record
import train
from training.guard import DivergenceError
from training import run_folder
from training.loop import TrainData


def _striped_data(n, seed):
  """Learnable CIFAR-shaped data: the class decides which band of rows is bright."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 10, size=n)
  images = rng.integers(0, 60, size=(n, 32, 32, 3)).astype(np.uint8)
  for i, c in enumerate(labels):
    images[i, 3 * c:3 * c + 3] = 250
  return loader.Split(images, labels, 'synthetic', partial=False, file_order=True)


def _main(args, data):
  run_main(train, args, data_override=data)


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
  # One sitting, on this machine, timed as train_seconds is; recorded beside the checkpoints.
  [segment] = metrics['segments']
  assert (segment['from_step'], segment['to_step']) == (0, 40)
  assert segment['machine'] == machine_record()
  assert segment['seconds'] == pytest.approx(metrics['train_seconds'])
  assert json.load(open(os.path.join(model_dir, 'training_segments.json')))['segments'] == [segment]
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
  # Train accuracy: the exported model's clean accuracy on all 256 training images.
  predicted = np.argmax(model(data.train.images.astype(np.float32), training=False), -1)
  assert metrics['train_accuracy'] == pytest.approx(np.mean(predicted == data.train.labels))

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


def test_bfloat16_training_learns_and_exports_a_float32_model(tmp_path):
  import keras  # pylint: disable=g-import-not-at-top
  data = TrainData(train=_striped_data(256, 0), test=_striped_data(100, 1))
  model_dir = tmp_path / 'bf16'
  _main([f'--model_dir={model_dir}', '--dataset=cifar10', '--depth=10', '--width=1',
         '--precision=bfloat16', '--alpha=0.1', '--beta=1', '--sigma=5', '--batch_size=32',
         '--learning_rate=0.05', '--train_steps=40', '--checkpoint_every=20',
         '--eval_examples=0'], data)
  metrics = json.load(open(model_dir / 'final_metrics.json'))
  assert metrics['config']['precision'] == 'bfloat16' and metrics['test_accuracy'] > 0.3
  exported = load_model_folder(str(model_dir)).model
  assert {l.dtype_policy.name for l in exported.layers} == {'float32'}
  assert keras.mixed_precision.global_policy().name == 'float32'  # building restored it
  trained = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(model_dir / 'checkpoints')))
  floats = {n: d for n, d in trained.get_variable_to_dtype_map().items() if 'model/' in n}
  assert floats and set(floats.values()) <= {tf.float32, tf.int64}  # float32 variables


def test_divergence_stops_with_one_message_and_keeps_the_last_good_checkpoint(tmp_path):
  data = TrainData(train=_striped_data(256, 0), test=_striped_data(100, 1))
  model_dir = tmp_path / 'run'
  args = [f'--model_dir={model_dir}', '--dataset=cifar10', '--depth=10', '--width=1',
          '--batch_size=32', '--learning_rate=30', '--train_steps=40', '--checkpoint_every=5',
          '--eval_examples=0', '--log_every=5']
  # The loss turns NaN, or the weights (batch-norm statistics included) turn non-finite first.
  with pytest.raises(DivergenceError,
                     match=r'diverged at step \d+: (the loss is nan|non-finite weights)') as error:
    _main(args, data)
  assert 'ckpt-' in str(error.value) and len(str(error.value).splitlines()) == 1
  latest = tf.train.latest_checkpoint(str(model_dir / 'checkpoints'))
  assert latest and latest.endswith(str(error.value).split('ckpt-')[1].split(' ')[0])
  reader = tf.train.load_checkpoint(latest)
  for name, dtype in reader.get_variable_to_dtype_map().items():
    if dtype.is_floating:
      assert np.isfinite(reader.get_tensor(name)).all(), name
  assert not (model_dir / 'final_metrics.json').exists() and not (model_dir / 'model.keras').exists()


def _cifar_command(model_dir, tmp_path):
  return [sys.executable, os.path.join(REPO_ROOT, 'train.py'), '--dataset=cifar10',
          '--alpha=0.95', '--sigma=20', '--depth=10', '--width=1', '--batch_size=16',
          '--train_steps=120', '--checkpoint_every=10', '--log_every=50', '--deterministic',
          '--eval_examples=0', '--final_eval_examples=100', f'--manual_dir={CIFAR10_SUBSET_DIR}',
          f'--data_dir={tmp_path / "tfds"}', f'--model_dir={model_dir}']


@needs_cifar_subset
def test_sigkilled_deterministic_run_resumes_to_identical_weights(tmp_path):
  """Killed twice at random moments after a checkpoint (possibly mid-write of the next),
  the rerun resumes and ends with exactly the weights of an uninterrupted run."""
  model_dir = tmp_path / 'killed'
  command = _cifar_command(model_dir, tmp_path)
  rng = random.Random(0)
  for kill in range(2):
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    wanted = kill + 1
    while len(glob.glob(str(model_dir / 'checkpoints' / 'ckpt-*.index'))) < wanted:
      assert run.poll() is None and time.monotonic() < deadline, 'no checkpoint was written'
      time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 1.0))
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert not (model_dir / 'final_metrics.json').exists()
  resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  lines = [l for l in resumed.stderr.splitlines() if 'Resumed from' in l]
  assert lines and 'at step 0.' not in lines[0]
  assert 'PARTIAL' in resumed.stderr

  reference_dir = tmp_path / 'uninterrupted'
  reference = subprocess.run(_cifar_command(reference_dir, tmp_path), capture_output=True,
                             text=True, timeout=300)
  assert reference.returncode == 0, reference.stderr[-2000:]
  killed_model = load_model_folder(str(model_dir)).model
  reference_model = load_model_folder(str(reference_dir)).model
  for a, b in zip(killed_model.get_weights(), reference_model.get_weights()):
    np.testing.assert_array_equal(a, b)  # bit for bit, BN statistics included
  metrics = [json.load(open(d / 'final_metrics.json')) for d in (model_dir, reference_dir)]
  assert metrics[0]['global_step'] == metrics[1]['global_step'] == 120
  assert metrics[0]['test_accuracy'] == metrics[1]['test_accuracy']
  # The resumed run's sittings: in order, none overlapping, the last one ending the run.
  segments = metrics[0]['segments']
  assert len(segments) >= 2 and segments[0]['from_step'] == 0 and segments[-1]['to_step'] == 120
  for earlier, later in zip(segments, segments[1:]):
    assert earlier['from_step'] < earlier['to_step'] <= later['from_step']


def test_a_resumed_run_keeps_the_segments_its_checkpoint_covers(tmp_path):
  cfg = train.config_from_flagfile(os.path.join(REPO_ROOT, 'configs', 'paper',
                                                 'mnist_alpha0_beta0_sigma0_k100k.cfg'))
  cfg = dataclasses.replace(cfg, model_dir=str(tmp_path))
  assert run_folder.segments_before(cfg, 80) == []  # nothing recorded: a run from before
  machine = {'cpu': 'x'}
  run_folder.record_segments(cfg, [
      {'from_step': 0, 'to_step': 50, 'seconds': 5.0, 'machine': machine},
      {'from_step': 50, 'to_step': 100, 'seconds': 7.0, 'machine': machine}])
  # Resumed at 80 (the checkpoint at 100 lost): the second sitting counts to 80 only.
  assert [(s['from_step'], s['to_step']) for s in run_folder.segments_before(cfg, 80)] == [
      (0, 50), (50, 80)]
  assert [(s['from_step'], s['to_step']) for s in run_folder.segments_before(cfg, 50)] == [(0, 50)]


PAPER_CONFIGS = sorted(glob.glob(os.path.join(REPO_ROOT, 'configs', 'paper', '*.cfg')))
SHIPPED_CONFIGS = sorted(glob.glob(os.path.join(REPO_ROOT, 'configs', '*', '*.cfg')))


@pytest.fixture
def at_repo_root(monkeypatch):
  monkeypatch.chdir(REPO_ROOT)  # nested flagfiles (configs/cifar10_subset/) are read from it


@pytest.mark.parametrize('path', PAPER_CONFIGS, ids=os.path.basename)
def test_paper_flagfiles_parse_and_validate(path):
  cfg = train.config_from_flagfile(path)
  name = os.path.basename(path)[:-len('.cfg')]
  assert cfg.model_dir == os.path.join('runs', name)  # the flagfile's settings, nothing else
  assert cfg.dataset == name.split('_')[0]
  if cfg.dataset != 'mnist':  # Madry's WRN-34-10 (docs/assumptions.md)
    assert (cfg.depth, cfg.width) == (34, 10)
  # Every noisy row clips its noisy images (issue 30's decision, docs/assumptions.md).
  assert cfg.clip_noise == (cfg.sigma > 0)


def test_every_shipped_flagfile_validates_with_its_own_folder_and_an_unblocking_guard(at_repo_root):
  configs = {path: train.config_from_flagfile(path) for path in SHIPPED_CONFIGS}
  folders = [cfg.model_dir for cfg in configs.values()]
  assert len(set(folders)) == len(folders), sorted(f for f in folders if folders.count(f) > 1)
  for path, cfg in configs.items():
    assert cfg.divergence_guard and not cfg.stop_on_collapse, path  # collapse only warns
  assert any(cfg.adv_train for cfg in configs.values())


def test_runs_recorded_before_beta_units_resume_as_they_were_computed():
  from training.config import legacy_identity  # pylint: disable=g-import-not-at-top
  mnist = {'loss_reduction': 'sum', 'beta': 2.0}
  cifar_squeezed = {'loss_reduction': 'mean', 'beta': 10.0}
  cifar_smoothed = {'loss_reduction': 'mean', 'beta': 0.0}
  assert legacy_identity(mnist)['beta_units'] == 'summed_xent'  # the same objective
  assert legacy_identity(cifar_smoothed)['beta_units'] == 'summed_xent'
  assert legacy_identity(cifar_squeezed)['beta_units'] == 'batch_loss'  # the old B x squeeze
  assert legacy_identity({'beta_units': 'batch_loss', 'loss_reduction': 'sum'})['beta_units'] == 'batch_loss'


def test_there_is_a_flagfile_per_paper_training_row():
  assert len(PAPER_CONFIGS) >= 58
