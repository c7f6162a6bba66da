"""Bad invocations of train.py, eval.py and diagnose.py, as a new user would make them.

Each must end with one clear line on stderr (`<program>: error: ...`; before it at most
the usual log records of work already started), exit code 2, no traceback, and leave
everything already on disk as it was.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import MNIST_DIR
from conftest import REPO_ROOT
from conftest import needs_mnist
from conftest import run_main
from data_input import loader
import train
from training.loop import TrainData


@pytest.fixture(scope='module')
def world(two_models, tfds_mnist_dir, tmp_path_factory):
  """Everything the bad invocations point at: good runs, broken files, odd folders."""
  from evaluation.model_io import load_model_folder  # pylint: disable=g-import-not-at-top
  from madry_compat.checkpoint import save_madry_checkpoint  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp('world')
  paths = {'natural': two_models['natural'], 'ls': two_models['ls'], 'tfds': tfds_mnist_dir, 'mnist': MNIST_DIR,
           'root': str(root)}
  paths['file'] = str(root / 'notes.txt')
  (root / 'notes.txt').write_text('precious')
  paths['empty'] = str(root / 'empty')
  os.makedirs(paths['empty'])
  paths['flagfile'] = str(root / 'typo.cfg')
  (root / 'typo.cfg').write_text('--dataset=mnist\n--alpah=0.95\n')

  paths['madry_mnist'] = str(root / 'madry_mnist')
  save_madry_checkpoint(load_model_folder(two_models['natural']).model,
                        os.path.join(paths['madry_mnist'], 'checkpoint-100'))

  rng = np.random.default_rng(0)
  cifar = loader.Split(rng.integers(0, 255, (64, 32, 32, 3)).astype(np.uint8),
                       rng.integers(0, 10, 64), 'synthetic', False, True)
  paths['cifar_run'] = str(root / 'cifar_run')
  run_main(train, [f'--model_dir={paths["cifar_run"]}', '--dataset=cifar10', '--depth=10',
                   '--width=1', '--batch_size=16', '--train_steps=2', '--eval_examples=0'],
           data_override=TrainData(train=cifar, test=cifar))

  paths['truncated_run'] = str(root / 'truncated_run')  # the natural run, checkpoint cut short
  shutil.copytree(two_models['natural'], paths['truncated_run'])
  checkpoints = os.path.join(paths['truncated_run'], 'checkpoints')
  data_file = next(os.path.join(checkpoints, f) for f in sorted(os.listdir(checkpoints))
                   if '.data-' in f and 'ckpt-150' in f)
  with open(data_file, 'r+b') as f:
    f.truncate(os.path.getsize(data_file) // 3)
  paths['truncated_model'] = str(root / 'truncated_model')
  os.makedirs(paths['truncated_model'])
  with open(os.path.join(paths['truncated_model'], 'model.keras'), 'wb') as f:
    f.write(b'PK\x03\x04 truncated')
  return paths


# (program, arguments with {placeholders} from `world`, words the error line must hold)
CASES = {
    'train: unknown dataset': ('train.py', ['--dataset=svhn', '--model_dir={root}/new'], 'svhn'),
    'train: alpha above 1': ('train.py', ['--alpha=1.5', '--model_dir={root}/new'], '--alpha must be in [0, 1]'),
    'train: negative beta': ('train.py', ['--beta=-1', '--model_dir={root}/new'], '--beta must be >= 0'),
    'train: negative sigma': ('train.py', ['--sigma=-0.3', '--model_dir={root}/new'], '--sigma must be >= 0'),
    'train: zero steps': ('train.py', ['--train_steps=0', '--model_dir={root}/new'], '--train_steps must be > 0'),
    'train: depth not 6n+4': ('train.py', ['--dataset=cifar10', '--depth=12', '--model_dir={root}/new'], '6n+4'),
    'train: not a number': ('train.py', ['--train_steps=many', '--model_dir={root}/new'], 'train_steps'),
    'train: missing flagfile': ('train.py', ['--flagfile={root}/nonexistent.cfg'], 'nonexistent.cfg'),
    'train: flagfile with unknown flag': ('train.py', ['--flagfile={flagfile}', '--model_dir={root}/new'], 'alpah'),
    'train: bad decay fractions': ('train.py', ['--dataset=cifar10', '--lr_decay_fractions=0.75,0.5', '--model_dir={root}/new'], 'increasing'),
    'train: decays in one cycle': ('train.py', ['--lr_schedule=cyclic', '--lr_decay_fractions=0.5', '--model_dir={root}/new'], 'piecewise only'),
    'train: peak outside the run': ('train.py', ['--lr_schedule=cyclic', '--lr_peak_fraction=1', '--model_dir={root}/new'], 'lr_peak_fraction'),
    'train: model_dir is a file': ('train.py', ['--model_dir={file}'], 'is a file'),
    'train: model_dir cannot be written': ('train.py', ['--model_dir=/proc/run', '--manual_dir={mnist}'], 'cannot write to --model_dir /proc/run'),
    'train: manual_dir missing': ('train.py', ['--manual_dir={root}/nonexistent', '--model_dir={root}/new'], 'is not a folder'),
    'train: raw-data folder missing files': ('train.py', ['--manual_dir={empty}', '--data_dir={root}/tfds_empty', '--nodownload', '--model_dir={root}/new'], 'train-images-idx3-ubyte.gz'),
    'train: truncated checkpoint': ('train.py', ['--flagfile={truncated_run}/flags.cfg', '--model_dir={truncated_run}', '--train_steps=200', '--data_dir={tfds}'], 'cannot restore'),
    'train: other settings in model_dir': ('train.py', ['--model_dir={natural}', '--alpha=0.5', '--data_dir={tfds}'], 'holds a run with other settings'),
    'train: more final examples than the test set': ('train.py', ['--final_eval_examples=20000', '--model_dir={root}/new'], 'exceeds the 10000 test images'),
    'train: XLA with adversarial training': ('train.py', ['--adv_train', '--jit_compile', '--model_dir={root}/new'], 'does not work with --adv_train'),
    'train: unknown beta units': ('train.py', ['--beta_units=per_pixel', '--model_dir={root}/new'], 'beta_units'),
    'train: multi_worker without TF_CONFIG': ('train.py', ['--strategy=multi_worker', '--model_dir={root}/new', '--manual_dir={mnist}'], 'needs TF_CONFIG'),
    'eval: unknown suite': ('eval.py', ['--model_dir={natural}', '--suite=bogus'], 'unknown --suite'),
    'eval: zero examples': ('eval.py', ['--model_dir={natural}', '--num_examples=0'], '--num_examples must be > 0'),
    'eval: negative epsilon': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--attacks=x:eps=-0.1'], 'epsilon must be >= 0'),
    'eval: attack setting not a number': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--attacks=x:steps=ten'], 'invalid literal'),
    'eval: unknown attack precision': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--attacks=x:precision=float16'], 'precision must be one of'),
    'eval: bfloat16 transfer attack': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--blackbox_source={ls}', '--attacks=x:precision=bfloat16,threat=black-box'], 'white-box attacks only'),
    'eval: unknown attack setting': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--attacks=x:speed=3'], 'speed does not apply to method pgd'),
    'eval: the target as its own transfer source': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--suite=transfer', '--transfer_sources=self={natural}'], 'is (or includes) the model under attack'),
    'eval: black-box without a source': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--suite=paper_blackbox'], 'need --blackbox_source'),
    'eval: a source no attack uses': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--suite=paper_whitebox', '--blackbox_source={ls}'], 'no attack is crafted on it'),
    'eval: missing model_dir': ('eval.py', ['--model_dir={root}/nonexistent'], 'is not a folder'),
    'eval: missing checkpoint': ('eval.py', ['--model_dir={empty}', '--dataset=mnist'], 'has no model.keras'),
    'eval: truncated model file': ('eval.py', ['--model_dir={truncated_model}', '--dataset=mnist'], 'cannot load'),
    'eval: Madry checkpoint of the other dataset': ('eval.py', ['--madry_ckpt_dir={madry_mnist}', '--dataset=cifar10'], 'mnist'),
    'eval: black-box source of another dataset': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--suite=paper_blackbox', '--blackbox_source={cifar_run}'], 'was trained on cifar10'),
    'eval: more examples than the test set': ('eval.py', ['--model_dir={natural}', '--data_dir={tfds}', '--num_examples=20000'], 'exceeds the 10000 test'),
    'eval: output_dir is a file': ('eval.py', ['--model_dir={natural}', '--output_dir={file}'], 'is a file'),
    'eval: dataset the model was not trained on': ('eval.py', ['--model_dir={natural}', '--dataset=cifar10'], 'was trained on mnist'),
    'diagnose: missing model folder': ('diagnose.py', ['--model_dirs={root}/nonexistent', '--output_dir={root}/diag'], 'nonexistent is not a folder'),
    'diagnose: no models': ('diagnose.py', ['--output_dir={root}/diag'], 'model_dirs'),
    'diagnose: more examples than the test set': ('diagnose.py', ['--model_dirs={natural}', '--data_dir={tfds}', '--num_examples=20000', '--output_dir={root}/diag'], 'exceeds'),
    'diagnose: output_dir is a file': ('diagnose.py', ['--model_dirs={natural}', '--output_dir={file}'], 'is a file'),
}


LOG_RECORD = re.compile(r'[IW]\d{4} ')  # absl's info and warning records


def _snapshot(root):
  """Every file under root with a hash of its content."""
  state = {}
  for folder, _, files in os.walk(root):
    for name in files:
      path = os.path.join(folder, name)
      with open(path, 'rb') as f:
        state[path] = hashlib.sha256(f.read()).hexdigest()
  return state


@needs_mnist
@pytest.mark.parametrize('program,args,words', CASES.values(), ids=CASES.keys())
def test_bad_invocation_is_one_clear_line_and_harmless(world, program, args, words):
  before = _snapshot(world['root']), _snapshot(world['natural'])
  env = {k: v for k, v in os.environ.items() if k != 'TF_CONFIG'}
  result = subprocess.run([sys.executable, program, *(a.format(**world) for a in args)],
                          capture_output=True, text=True, timeout=300, cwd=REPO_ROOT, env=env)
  lines = result.stderr.strip().splitlines()
  assert result.returncode == 2, result.stderr[-3000:]
  assert 'Traceback' not in result.stderr
  assert lines[-1].startswith(f'{program}: error: '), result.stderr[-3000:]
  assert all(LOG_RECORD.match(line) for line in lines[:-1]), result.stderr[-3000:]
  assert words in lines[-1]
  assert (_snapshot(world['root']), _snapshot(world['natural'])) == before
  assert not os.path.exists(os.path.join(world['root'], 'new'))
