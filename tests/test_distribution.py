"""tf.distribute: MirroredStrategy over two logical CPUs and MultiWorkerMirroredStrategy
with two local worker processes train like one device on the same global batch (the
regularizers included), write one checkpoint, and split attacks across replicas."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
from conftest import needs_mnist
from evaluation.model_io import load_model_folder

HELPER = os.path.join(REPO_ROOT, 'tests', 'distributed_helper.py')
# alpha, beta and sigma all on, so the global-batch handling of each regularizer is checked
TRAIN_FLAGS = ['--dataset=mnist', '--train_steps=4', '--checkpoint_every=2', '--train_holdout=0',
               '--eval_examples=0', '--log_every=1', '--learning_rate=1e-3', '--alpha=0.5',
               '--beta=0.5', '--sigma=0.3', '--batch_size=50']


def _run(logical_cpus, program, args, env=None):
  # The helper imports the entry points at the repository root (not installed).
  env = dict(env or os.environ)
  env['PYTHONPATH'] = os.pathsep.join(p for p in (REPO_ROOT, env.get('PYTHONPATH')) if p)
  return subprocess.Popen([sys.executable, HELPER, str(logical_cpus), program, *args],
                          cwd=os.path.join(REPO_ROOT, 'tests'), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process):
  out, _ = process.communicate(timeout=600)
  assert process.returncode == 0, out[-3000:]
  return out


def _max_weight_difference(dir_a, dir_b):
  a, b = load_model_folder(dir_a).model, load_model_folder(dir_b).model
  return max(float(np.max(np.abs(x - y))) for x, y in zip(a.get_weights(), b.get_weights()))


def _replicas(model_dir):
  with open(os.path.join(model_dir, 'final_metrics.json')) as f:
    return json.load(f)['replicas']


@pytest.fixture(scope='module')
def single_device_run(tmp_path_factory):
  model_dir = str(tmp_path_factory.mktemp('single') / 'run')
  _finish(_run(1, 'train', [f'--model_dir={model_dir}', *TRAIN_FLAGS]))
  return model_dir


@needs_mnist
@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_mirrored_over_two_cpus_matches_one_device(tmp_path, reduction):
  dirs = {}
  for strategy, cpus in (('default', 1), ('mirrored', 2)):
    dirs[strategy] = str(tmp_path / strategy)
    _finish(_run(cpus, 'train', [f'--model_dir={dirs[strategy]}', f'--strategy={strategy}',
                                 f'--loss_reduction={reduction}', *TRAIN_FLAGS]))
  assert _replicas(dirs['mirrored']) == 2 and _replicas(dirs['default']) == 1
  assert _max_weight_difference(dirs['mirrored'], dirs['default']) < 1e-4


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


@needs_mnist
def test_two_workers_write_one_checkpoint_equal_to_one_device(tmp_path, single_device_run):
  model_dir = str(tmp_path / 'multi')
  workers = [f'127.0.0.1:{p}' for p in _free_ports(2)]
  processes = []
  for index in range(2):
    env = dict(os.environ, TF_CONFIG=json.dumps(
        {'cluster': {'worker': workers}, 'task': {'type': 'worker', 'index': index}}))
    processes.append(_run(1, 'train', [f'--model_dir={model_dir}', '--strategy=multi_worker',
                                       *TRAIN_FLAGS], env=env))
  for p in processes:
    _finish(p)
  checkpoints = sorted(os.listdir(os.path.join(model_dir, 'checkpoints')))
  assert checkpoints == ['checkpoint', 'ckpt-2.data-00000-of-00001', 'ckpt-2.index',
                         'ckpt-4.data-00000-of-00001', 'ckpt-4.index']  # no worker scratch left
  assert _replicas(model_dir) == 2
  assert _max_weight_difference(model_dir, single_device_run) < 1e-4


@needs_mnist
def test_mirrored_eval_splits_attacks_and_agrees_with_one_device(single_device_run, tfds_mnist_dir,
                                                                tmp_path):
  accuracies = {}
  for strategy, cpus in (('default', 1), ('mirrored', 2)):
    out = str(tmp_path / strategy)
    _finish(_run(cpus, 'eval', [f'--model_dir={single_device_run}', f'--data_dir={tfds_mnist_dir}',
                                '--num_examples=45', '--eval_batch_size=15', '--suite=',
                                f'--strategy={strategy}', f'--output_dir={out}',
                                '--attacks=pgd10:steps=10,rand=false,eps=0.1']))
    with open(os.path.join(out, 'results.json')) as f:
      accuracies[strategy] = [a['correct'] for a in json.load(f)['attacks']]
  assert accuracies['mirrored'] == accuracies['default']  # no random start: per example equal


def test_multi_worker_without_tf_config_is_one_clear_line(tmp_path):
  env = {k: v for k, v in os.environ.items() if k != 'TF_CONFIG'}
  result = subprocess.run([sys.executable, 'train.py', '--strategy=multi_worker',
                           f'--model_dir={tmp_path / "run"}', '--manual_dir=.'],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1].startswith('train.py: error: --strategy=multi_worker needs TF_CONFIG')
  assert 'Traceback' not in result.stderr
