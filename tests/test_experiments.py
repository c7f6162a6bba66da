"""experiments/mnist_table.py: the commands it would run, skipping finished work, the table."""

import json
import os
import subprocess
import sys

from conftest import REPO_ROOT

DRIVER = os.path.join(REPO_ROOT, 'experiments', 'mnist_table.py')


def _driver(*args):
  return subprocess.run([sys.executable, DRIVER, *args], capture_output=True, text=True,
                        timeout=120, cwd=REPO_ROOT)


def _write(path, document):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    json.dump(document, f)


def test_dry_run_lists_the_study_and_skips_trained_models(tmp_path):
  runs = str(tmp_path / 'runs')
  _write(os.path.join(runs, 'natural', 'final_metrics.json'), {'global_step': 4000})
  result = _driver(f'--runs_dir={runs}', '--dry_run', '--models=ls0.95_sigma0.3',
                   '--extra_suites=autoattack', '--extra_examples=500', '--mnist_dir=.')
  assert result.returncode == 0, result.stderr
  lines = result.stdout.splitlines()
  assert 'natural: trained, skipping training' in lines
  train_lines = [l for l in lines if l.startswith('python train.py')]
  assert train_lines == [f'python train.py --dataset=mnist --alpha=0.95 --sigma=0.3 '
                         f'--train_steps=6000 --manual_dir=. --model_dir={runs}/ls0.95_sigma0.3']
  evals = [l for l in lines if l.startswith('python eval.py')]
  assert any('--suite=paper_blackbox' in l and f'--blackbox_source={runs}/natural' in l for l in evals)
  assert any('restarts=10' in l for l in evals) and any('--suite=autoattack' in l for l in evals)
  assert lines[-1].startswith('python diagnose.py') and not os.path.exists(os.path.join(runs, 'logs'))


def test_summary_table_puts_measured_beside_the_paper(tmp_path):
  runs = str(tmp_path / 'runs')
  d = os.path.join(runs, 'ls0.95_sigma0.3')
  _write(os.path.join(d, 'final_metrics.json'), {'global_step': 6000, 'train_seconds': 600.4,
                                                 'test_accuracy': 0.9})
  attacks = [{'name': n, 'accuracy': a, 'seconds': 1.0} for n, a in
             (('clean', 0.91), ('pgd40_xent', 0.423), ('pgd40_cw', 0.4))]
  _write(os.path.join(d, 'eval', 'results.json'), {'attacks': attacks})
  _write(os.path.join(d, 'eval_extra', 'results.json'), {'attacks': [
      {'name': 'aa_square', 'accuracy': 0.2, 'seconds': 3.0}]})
  sys.path.insert(0, os.path.dirname(DRIVER))
  import mnist_table  # pylint: disable=g-import-not-at-top
  from absl import flags  # pylint: disable=g-import-not-at-top
  from absl.testing import flagsaver  # pylint: disable=g-import-not-at-top
  mnist_table.define_study_flags()
  with flagsaver.flagsaver():
    flags.FLAGS.unparse_flags()
    flags.FLAGS(['mnist_table.py', f'--runs_dir={runs}', '--extra_examples=500'])
    table = mnist_table.summarize(mnist_table.MODELS)
  row = next(l for l in table.splitlines() if l.startswith('| alpha=0.95, sigma=0.3 '))
  assert '| 6000 | 90.00 (99.38) | 42.3 (60.7) | 40.0 (61.93) |' in row and row.endswith('| 20.0 |')
  assert 'AutoAttack (first 500)' in table
  assert json.load(open(os.path.join(runs, 'study.json')))['ls0.95_sigma0.3']['train_seconds'] == 600


def test_unknown_model_is_one_clear_line(tmp_path):
  result = _driver(f'--runs_dir={tmp_path}', '--models=bogus', '--dry_run')
  assert result.returncode == 2
  assert result.stderr.strip() == 'mnist_table.py: error: unknown --models bogus; choose from ' \
      'natural, noise_sigma0.5, ls0.95_sigma0, ls0.95_sigma0.3, lsq0.5_sigma0, lsq0.5_sigma0.5, madry_adv_pgd40'
