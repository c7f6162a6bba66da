"""The CIFAR path past training (issue 31): the learning curves, the robustness report and
its verdict read CIFAR's attack names (PGD-20) and pixel units ([0, 255], eps 8), on tiny
WideResNets trained for a few steps on the CIFAR-10 subset."""

import json
import os
import subprocess
import sys

import pytest

from conftest import CIFAR10_SUBSET_DIR
from conftest import REPO_ROOT
from conftest import needs_cifar_subset
from conftest import run_main

pytestmark = needs_cifar_subset


@pytest.fixture(scope='module')
def cifar_runs(tmp_path_factory):
  """A natural and a label-smoothed + noise WRN-10-1, 20 steps of 16 subset images each."""
  import train  # pylint: disable=g-import-not-at-top
  train.define_train_flags()
  root = tmp_path_factory.mktemp('cifar_runs')
  runs = {}
  for name, extra in (('natural', []), ('alpha0.95_sigma20', ['--alpha=0.95', '--sigma=20'])):
    runs[name] = str(root / name)
    run_main(train, ['--dataset=cifar10', '--depth=10', '--width=1', '--batch_size=16',
                     '--train_steps=20', '--checkpoint_every=10', '--log_every=10',
                     '--eval_examples=0', '--final_eval_examples=16',
                     f'--manual_dir={CIFAR10_SUBSET_DIR}', f'--model_dir={runs[name]}', *extra])
  return runs


def _run(args):
  result = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]


def test_learning_curves_measure_pgd20_on_cifar(cifar_runs, tmp_path):
  out = tmp_path / 'curves'
  _run(['-m', 'experiments.learning_curves', f'--run_dirs={cifar_runs["natural"]}',
        '--every=10', '--num_examples=8', f'--manual_dir={CIFAR10_SUBSET_DIR}',
        f'--output={out}'])
  curves = json.load(open(out / 'learning_curves.json'))
  assert set(curves['runs']['natural']) == {'10', '20'}
  point = curves['runs']['natural']['20']
  assert 0.0 <= point['pgd20_xent'] <= point['clean'] and 'pgd40_xent' not in point
  assert curves['attack'].startswith('PGD-20 xent')
  pgd = next(c for c in curves['attack_configs'] if c['name'] == 'pgd20_xent')
  assert (pgd['epsilon'], pgd['step_size'], pgd['steps']) == (8.0, 2.0, 20)  # [0, 255] units
  assert (out / 'learning_curve_pgd20.png').stat().st_size > 0


def test_robustness_report_judges_a_cifar_model_in_its_units(cifar_runs, tmp_path):
  out = tmp_path / 'report'
  ls = cifar_runs['alpha0.95_sigma20']
  _run(['-m', 'experiments.robustness_report', '--dataset=cifar10',
        f'--models=alpha0.95_sigma20={ls}', f'--transfer_sources=nat={cifar_runs["natural"]}',
        '--num_examples=4', '--curve_num_examples=2', f'--manual_dir={CIFAR10_SUBSET_DIR}',
        f'--output={out}'])
  report = json.load(open(out / 'robustness.json'))
  assert report['paper_epsilon'] == 8.0
  model = report['models']['alpha0.95_sigma20']
  verdict = model['verdict']
  assert {'pgd20_xent', 'pgd20_cw'} <= set(verdict) and 'pgd40_xent' not in verdict
  assert verdict['worst_case'] <= min(verdict['pgd20_xent'], verdict['pgd20_cw'])
  # The curve's epsilons default to the dataset's own, in [0, 255] units.
  assert set(model['curve']) == {'0', '8.0', '2.0', '4.0', '16.0'}
  table = open(out / 'verdict.md').read()
  assert '| paper PGD-20 xent / CW | our PGD-20 xent / CW |' in table
  # The paper's Table 3 numbers for the same setting (a different scale: the page says so).
  assert '| alpha0.95_sigma20 |' in table and '| 43.0 / 41.3 |' in table
  assert os.path.isfile(os.path.join(ls, 'eval', 'first2_eps16', 'results.json'))
