"""The study drivers (experiments/*.sh): every row names a flagfile that parses, unknown rows
and commands fail in one line, and their shared functions behave."""

import hashlib
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CIFAR10_SUBSET_DIR
from conftest import REPO_ROOT
from conftest import needs_cifar_subset
import train

DRIVERS = {'experiments/mnist_paper_budget.sh': 'configs/{}.cfg',
           'experiments/cifar10_subset.sh': 'configs/cifar10_subset/{}.cfg'}


def _rows(driver):
  """(name, flagfile, extra flags) of each line of the driver's ROWS."""
  text = open(os.path.join(REPO_ROOT, driver)).read()
  block = re.search(r'^ROWS="(.*?)"$', text, re.S | re.M).group(1)
  return [tuple((line.split(':') + [''])[:3]) for line in block.split('\n')]


def _driver(driver, *args, env=None, cwd=REPO_ROOT):
  return subprocess.run(['bash', driver, *args], cwd=cwd, capture_output=True, text=True,
                        timeout=60, env={**os.environ, **(env or {})})


def _scratch_tree(tmp_path, *model_dirs):
  """The repository with everything linked but models/, which holds copies of `model_dirs`
  only: a driver run in it writes its evaluations there, never into the shipped folders."""
  tree = tmp_path / 'tree'
  tree.mkdir()
  for name in os.listdir(REPO_ROOT):
    if name not in ('models', '.git'):
      (tree / name).symlink_to(os.path.join(REPO_ROOT, name))
  for model_dir in model_dirs:
    shutil.copytree(os.path.join(REPO_ROOT, model_dir), tree / model_dir)
  return tree


def _folder_sha256(folder):
  digest = hashlib.sha256()
  for root, dirs, files in os.walk(folder):
    dirs.sort()
    for name in sorted(files):
      path = os.path.join(root, name)
      digest.update(os.path.relpath(path, folder).encode() + open(path, 'rb').read())
  return digest.hexdigest()


@pytest.mark.parametrize('driver', sorted(DRIVERS))
def test_every_row_names_a_flagfile_that_parses(driver, monkeypatch):
  monkeypatch.chdir(REPO_ROOT)  # nested flagfiles are read from the repository's root
  rows = _rows(driver)
  names = [name for name, _, _ in rows]
  assert len(set(names)) == len(names) and len(rows) >= 7
  for _, flagfile, _ in rows:
    cfg = train.config_from_flagfile(os.path.join(REPO_ROOT, DRIVERS[driver].format(flagfile)))
    assert cfg.train_steps > 0


@pytest.mark.parametrize('driver', sorted(DRIVERS))
def test_each_shipped_row_retrains_as_it_was_trained(driver, monkeypatch):
  """The driver's flagfile and extra flags give the settings the shipped weights were
  trained with (their flags.cfg): a changed flagfile never silently changes a shipped row."""
  monkeypatch.chdir(REPO_ROOT)
  group = 'cifar10_subset' if 'cifar' in driver else 'mnist'
  checked = 0
  for name, flagfile, extra in _rows(driver):
    shipped = os.path.join('models', group, name, 'flags.cfg')
    if not os.path.isfile(shipped):
      continue
    flags = [f for f in extra.split(',') if f]
    ours = train.config_from_flagfile(DRIVERS[driver].format(flagfile), '--seed=0', *flags)
    ours, theirs = ours.identity(), train.config_from_flagfile(shipped).identity()
    if group == 'mnist':  # Madry's CNN has no depth or width (older runs recorded 28)
      for identity in (ours, theirs):
        del identity['depth'], identity['width']
    assert ours == theirs, name
    checked += 1
  assert checked >= 7


def test_cifar_subset_rows_share_one_architecture_and_budget(monkeypatch):
  monkeypatch.chdir(REPO_ROOT)
  configs = {name: train.config_from_flagfile(f'configs/cifar10_subset/{flagfile}.cfg')
             for name, flagfile, _ in _rows('experiments/cifar10_subset.sh')}
  assert {(c.dataset, c.depth, c.width, c.train_steps, c.batch_size, c.lr_decay_fractions)
          for c in configs.values()} == {('cifar10', 10, 2, 6400, 128, (0.5, 0.75))}
  # Madry's PGD-7 and Wong's FGSM from a random start at step 1.25 eps, eps 8 of 255.
  madry, fast = configs['madry_adv_pgd7'], configs['fast_fgsm_rs']
  assert (madry.adv_steps, madry.adv_step_size, madry.adv_epsilon) == (7, 2.0, 8.0)
  assert (fast.adv_steps, fast.adv_step_size, fast.adv_random_start) == (1, 10.0, True)
  assert not configs['alpha0.95'].sigma and configs['alpha0.95_sigma20'].sigma == 20


@pytest.mark.parametrize('driver', sorted(DRIVERS))
def test_unknown_commands_and_rows_fail_in_one_line(driver, tmp_path):
  result = _driver(driver)
  assert result.returncode == 2 and result.stderr.startswith('usage:')
  result = _driver(driver, 'train', 'no_such_row', env={'RUNS': str(tmp_path)})
  assert result.returncode == 2 and result.stderr.strip() == 'no such row: no_such_row'


@needs_cifar_subset
def test_cifar_rows_take_a_row_from_training_to_its_evaluation_in_turn(tmp_path):
  # A copy of the shipped natural row: nothing to train or ship, and its evaluation is
  # stored (the shipped folder itself is never written: a test leaves the tree as it was).
  shipped = os.path.join(REPO_ROOT, 'models', 'cifar10_subset', 'natural')
  before = _folder_sha256(shipped)
  tree = _scratch_tree(tmp_path, 'models/cifar10_subset/natural')
  python_first = f'{os.path.dirname(sys.executable)}:{os.environ["PATH"]}'  # the driver's `python`
  result = _driver('experiments/cifar10_subset.sh', 'rows', 'natural', cwd=tree,
                   env={'RUNS': str(tmp_path / 'runs'), 'PATH': python_first,
                        'CIFAR10_SUBSET': os.path.abspath(CIFAR10_SUBSET_DIR)})
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stdout.splitlines()
  assert lines[:2] == ['shipped: models/cifar10_subset/natural'] * 2
  assert any(l.startswith('+ python eval.py --madry_ckpt_dir=models/cifar10_subset/natural')
             for l in lines[2:])
  assert _folder_sha256(shipped) == before


def test_park_keeps_only_the_newest_checkpoint_and_unpark_restores_it(tmp_path):
  runs, parked = tmp_path / 'runs', tmp_path / 'parked'
  ckpts = runs / 'row' / 'checkpoints'
  ckpts.mkdir(parents=True)
  for name in ('run_config.json', 'flags.cfg', 'training_segments.json'):
    (runs / 'row' / name).write_text(name)
  for step in (10, 20):
    (ckpts / f'ckpt-{step}.index').write_text(str(step))
  (ckpts / 'checkpoint').write_text('model_checkpoint_path: "ckpt-20"\n')
  script = (f'source experiments/driver_lib.sh; RUNS={runs}; PARKED={parked}; park_row row; '
            f'RUNS={tmp_path / "elsewhere"}; unpark_row row')
  result = subprocess.run(['bash', '-c', script], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60)
  assert result.returncode == 0, result.stderr
  assert sorted(os.listdir(parked / 'row' / 'checkpoints')) == ['checkpoint', 'ckpt-20.index']
  assert (tmp_path / 'elsewhere' / 'row' / 'checkpoints' / 'ckpt-20.index').read_text() == '20'
  assert (tmp_path / 'elsewhere' / 'row' / 'training_segments.json').is_file()  # its machines


def test_the_gpu_driver_names_existing_flagfiles_and_refuses_unknown_tables():
  text = open(os.path.join(REPO_ROOT, 'experiments', 'cifar10_paper.sh')).read()
  named = set(re.findall(r'\b((?:paper|madry)/cifar10_[\w.]+?)(?=\s|"|$)', text))
  assert len(named) >= 9
  for row in named:
    assert os.path.isfile(os.path.join(REPO_ROOT, 'configs', f'{row}.cfg')), row
  result = _driver('experiments/cifar10_paper.sh', 'estimate', '5')
  assert result.returncode == 2 and result.stderr.strip() == 'unknown table: 5 (3, 4, 7, 8 or 9-11)'
  assert _driver('experiments/cifar10_paper.sh', 'train').returncode == 2


def test_gpu_estimate_counts_flops_by_hand():
  from experiments.gpu_estimate import flops_per_image_step  # pylint: disable=g-import-not-at-top
  from training.config import TrainConfig  # pylint: disable=g-import-not-at-top
  assert flops_per_image_step(10.0, TrainConfig()) == 30.0  # forward + 2x backward
  assert flops_per_image_step(10.0, TrainConfig(adv_train=True, adv_steps=7)) == 170.0  # + 7 x 2F


def test_autoattack_on_all_images_is_only_for_the_paper_rows(tmp_path):
  # Adversarially trained rows are far too costly for AutoAttack on all 10,000 here.
  result = _driver('experiments/mnist_paper_budget.sh', 'autoattack_all', 'fast_fgsm_rs',
                   env={'RUNS': str(tmp_path)})
  assert result.returncode == 0
  assert result.stdout.strip() == 'adversarially trained, not a paper row: fast_fgsm_rs'
  result = _driver('experiments/mnist_paper_budget.sh', 'autoattack_all', 'natural_seed1',
                   env={'RUNS': str(tmp_path)})
  assert result.stdout.strip() == 'a transfer source only, not evaluated: natural_seed1'


def test_the_no_noise_ablation_is_squeezing_alone_at_100k_and_its_figure_waits_for_it(tmp_path, monkeypatch):
  # Table 2's beta 2 without noise, cut to 100k steps; recorded, not shipped (models/ cap).
  monkeypatch.chdir(REPO_ROOT)
  row = next(r for r in _rows('experiments/mnist_paper_budget.sh') if r[0] == 'beta2_sigma0')
  flags = [f for f in row[2].split(',') if f]
  cfg = train.config_from_flagfile(DRIVERS['experiments/mnist_paper_budget.sh'].format(row[1]), *flags)
  assert (cfg.beta, cfg.sigma, cfg.alpha, cfg.train_steps) == (2.0, 0.0, 0.0, 100000)
  result = _driver('experiments/mnist_paper_budget.sh', 'figure8', env={'RUNS': str(tmp_path)})
  assert result.returncode == 1 and result.stdout.strip() == 'not trained yet: beta2_sigma0'
  result = _driver('experiments/mnist_paper_budget.sh', 'ship', 'beta2_sigma0',
                   env={'RUNS': str(tmp_path)})
  assert result.returncode == 0 and result.stdout.strip() == 'not trained yet: beta2_sigma0'
