"""The paper-budget study's tools on tiny runs: learning curves from saved checkpoints, the
bfloat16-gradient comparison, and shipping a run in Madry's format."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import CIFAR10_SUBSET_DIR
from conftest import MNIST_DIR
from conftest import REPO_ROOT
from conftest import needs_cifar_subset
from conftest import needs_mnist
from evaluation.intervals import format_interval
from run_support.run_files import CHECKPOINT_SUBDIR


def _run(args, **kwargs):
  result = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600, **kwargs)
  assert result.returncode == 0, result.stderr[-3000:]
  return result


def test_learning_curves_measure_each_checkpoint_once(two_models, tfds_mnist_dir, tmp_path):
  out = tmp_path / 'curves'
  args = ['-m', 'experiments.learning_curves', f'--run_dirs={two_models["natural"]}',
          '--every=150', '--num_examples=20', f'--data_dir={tfds_mnist_dir}', f'--output={out}']
  _run(args)
  curves = json.load(open(out / 'learning_curves.json'))
  point = curves['runs']['natural']['150']
  assert 0.5 < point['clean'] <= 1.0 and 0.0 <= point['pgd40_xent'] <= point['clean']
  assert (out / 'learning_curve_clean.png').stat().st_size > 0
  assert (out / 'learning_curve_pgd40.png').stat().st_size > 0
  assert 0.0 <= point['fgsm_xent'] <= point['clean'] and len(point['weights_sha256']) == 64
  assert (out / 'learning_curve_fgsm.png').stat().st_size > 0
  assert curves['every'] == {'natural': 150}  # each run's spacing, as they may differ
  _run(args)  # measured points are kept, not recomputed
  assert json.load(open(out / 'learning_curves.json'))['runs']['natural']['150'] == point
  # A point measured on other weights at the same step (the run restarted elsewhere) is
  # measured again.
  curves['runs']['natural']['150'] = dict(point, clean=-1.0, weights_sha256='0' * 64)
  (out / 'learning_curves.json').write_text(json.dumps(curves))
  _run(args)
  again = json.load(open(out / 'learning_curves.json'))['runs']['natural']['150']
  timing = ('seconds', 'machine')
  assert {k: v for k, v in again.items() if k not in timing} == {
      k: v for k, v in point.items() if k not in timing}
  assert again['seconds'] > 0 and again['machine']['cpus'] >= 1


def test_learning_curves_leave_out_a_run_without_a_checkpoint_at_the_interval(two_models,
                                                                            tfds_mnist_dir,
                                                                            tmp_path):
  short = tmp_path / 'short'  # a run with no checkpoint at a multiple of --every
  shutil.copytree(two_models['ls'], short)
  shutil.rmtree(short / CHECKPOINT_SUBDIR)
  out = tmp_path / 'curves'
  common = ['-m', 'experiments.learning_curves', '--every=150', '--num_examples=20',
            f'--data_dir={tfds_mnist_dir}', f'--output={out}']
  result = subprocess.run([sys.executable, *common, f'--run_dirs={short}'], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode != 0 and 'Traceback' not in result.stderr
  assert 'no run has a checkpoint at a multiple of --every=150' in result.stderr
  assert not (out / 'learning_curves.json').exists()
  _run([*common, f'--run_dirs={two_models["natural"]},{short}'])
  assert list(json.load(open(out / 'learning_curves.json'))['runs']) == ['natural']


@needs_mnist
def test_ship_model_writes_a_madry_checkpoint_that_loads_with_its_card(two_models, tmp_path):
  from evaluation.model_io import load_model_folder  # pylint: disable=g-import-not-at-top
  _run(['-m', 'experiments.ship_model', f'--run_dir={two_models["natural"]}', '--row=natural',
        f'--models_dir={tmp_path}', f'--manual_dir={MNIST_DIR}'])
  shipped = tmp_path / 'mnist' / 'natural'
  card = json.load(open(shipped / 'model.json'))
  loaded = load_model_folder(str(shipped), 'mnist')
  original = load_model_folder(two_models['natural'])
  assert loaded.kind == 'madry_tf1' and loaded.global_step == card['global_step'] == 150
  assert loaded.weights_sha256 == original.weights_sha256 == card['weights_sha256']
  assert sorted(os.listdir(shipped))[:2] == ['checkpoint', 'checkpoint-150.data-00000-of-00001']


def test_robustness_report_never_counts_a_model_as_its_own_transfer_source(tmp_path):
  from experiments.robustness_report import transfer_sources_for  # pylint: disable=g-import-not-at-top
  for name in 'abc':
    (tmp_path / name).mkdir()
  entries = [f'nat={tmp_path / "a"}', f'ens={tmp_path / "a"}+{tmp_path / "b"}',
             f'other={tmp_path / "c"}']
  assert transfer_sources_for(f'{tmp_path / "a"}/', entries) == (entries[2],)
  assert transfer_sources_for(str(tmp_path / 'b'), entries) == (entries[0], entries[2])
  assert transfer_sources_for(str(tmp_path / 'd'), entries) == tuple(entries)


@pytest.mark.parametrize('dataset', ['mnist', 'cifar10', 'cifar100'])
def test_the_white_box_curve_label_names_every_attack_it_is_the_worst_of(dataset):
  """The white-box curve is the per-image worst of the paper's white-box suite (CIFAR-10's
  has FGSM too): its label names each attack and loss, and nothing else."""
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  from evaluation.suites import suite_plan  # pylint: disable=g-import-not-at-top
  from experiments.robustness_report import curve_labels  # pylint: disable=g-import-not-at-top
  spec = get_spec(dataset)
  label = curve_labels(spec)['white-box']
  names = [p.config.name for p in suite_plan('paper_whitebox', spec)]
  kinds = {f'PGD-{n.split("_")[0][3:]}' if n.startswith('pgd') else 'FGSM' for n in names}
  losses = {'CW' if n.endswith('_cw') else 'xent' for n in names}
  attacks, _, rest = label.partition(' (')
  assert set(attacks.split(', ')) == kinds
  assert set(rest.rstrip(')').split(' or ')) == losses


@pytest.mark.parametrize('panels,in_spare', [(5, True), (4, False)])
def test_robustness_report_draws_one_legend_off_the_curves(panels, in_spare):
  """Every curve's label once: in the first spare panel when the grid has one, else under it."""
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  from experiments.robustness_report import _legend  # pylint: disable=g-import-not-at-top
  fig, axes = plt.subplots(2 if panels > 4 else 1, 4, squeeze=False)
  used, spare = axes.flat[:panels], axes.flat[panels:]
  for i, ax in enumerate(used):
    ax.plot([0, 1], [1, 0], label='PGD')
    if i:  # the first panel has no transfer curve, the others do
      ax.plot([0, 1], [1, 1], label='transfer')
  _legend(fig, used, spare)
  legends = [ax.get_legend() for ax in used if ax.get_legend()]
  assert not legends
  legend = spare[0].get_legend() if in_spare else fig.legends[0]
  assert [t.get_text() for t in legend.get_texts()] == ['PGD', 'transfer']
  assert bool(fig.legends) != in_spare
  plt.close(fig)


def test_robustness_report_judges_each_model_and_draws_its_curves(two_models, tfds_mnist_dir,
                                                                  tmp_path):
  out = tmp_path / 'report'
  natural, ls = two_models['natural'], two_models['ls']
  args = ['-m', 'experiments.robustness_report', f'--models=ls0.5={ls}',
          f'--transfer_sources=nat={natural},ens={natural}+{natural}', '--num_examples=4',
          '--curve_epsilons=0.1', '--curve_num_examples=2', f'--data_dir={tfds_mnist_dir}',
          f'--output={out}', f'--transfer_cache_dir={tmp_path / "cache"}']
  _run(args)
  report = json.load(open(out / 'robustness.json'))
  verdict = report['models']['ls0.5']['verdict']
  assert list(verdict['autoattack_after']) == ['aa_apgd_ce', 'aa_apgd_t', 'aa_fab_t', 'aa_square']
  assert len(verdict['transfer']) == 8
  assert verdict['best_transfer'] <= min(verdict['transfer'].values())  # per example
  assert verdict['worst_case'] <= min(verdict['pgd40_xent'], verdict['pgd40_cw'],
                                      verdict['best_transfer'],
                                      verdict['autoattack_after']['aa_square'])
  curve = report['models']['ls0.5']['curve']
  assert set(curve) == {'0', '0.3', '0.1'} and set(curve['0.1']) == {'white-box', 'autoattack',
                                                                      'black-box'}
  # The curve's point at eps 0.3 is the verdict's per-example result on the curve's first 2.
  document = json.load(open(os.path.join(ls, 'eval', 'first4', 'results.json')))
  white = next(c for c in document['worst_case'] if c['threat'] == 'white-box')
  assert curve['0.3']['white-box'] == white['correct'][:2].count('1') / 2
  strongest = next(a for a in document['attacks'] if a['name'] == verdict['strongest_transfer'])
  assert curve['0.3']['black-box'] == strongest['correct'][:2].count('1') / 2
  # eval.py's transfer suite, end to end: each attack names its source (an ensemble its
  # members), the black-box worst case is over every transfer attack, and the cache holds
  # one entry per crafting: the verdict's 8 attacks and the curve's strongest one at eps 0.1.
  by_name = {a['name']: a for a in document['attacks']}
  nat = by_name['tr_nat_pgd100_restarts5_cw']
  assert nat['threat'] == 'black-box' and nat['config']['source']['path'].endswith('natural')
  ens = by_name['tr_ens_mifgsm100_xent']['config']['source']
  assert ens['kind'] == 'ensemble' and [m['path'] for m in ens['members']] == [
      os.path.normpath(natural)] * 2
  black = next(c for c in document['worst_case'] if c['threat'] == 'black-box')
  assert sorted(black['over']) == sorted(n for n in by_name if n.startswith('tr_'))
  entries = os.listdir(tmp_path / 'cache')  # finished craftings leave no partial batches
  assert len(entries) == 9 and all(e.endswith('.npz') for e in entries), entries
  table = open(out / 'verdict.md').read()
  assert '| ls0.5 |' in table
  # Every transfer attack per source, and every curve point away from clean, with intervals.
  strongest_cell = format_interval(round(verdict['transfer'][verdict['strongest_transfer']] * 4), 4)
  assert strongest_cell in table and table.count('| ls0.5 | nat |') == 1
  assert table.count('| ls0.5 | ens |') == 1
  assert table.count('| ls0.5 | 0.1 |') == 1 and table.count('| ls0.5 | 0.3 |') == 1
  assert (out / 'robustness_vs_epsilon.png').stat().st_size > 0
  # --rerender rewrites the same table from robustness.json alone.
  os.remove(out / 'verdict.md')
  _run(['-m', 'experiments.robustness_report', '--rerender', f'--output={out}'])
  assert open(out / 'verdict.md').read() == table
  # The eps 0.1 evaluation lives in its own folder beside the model's other results.
  assert os.path.isfile(os.path.join(ls, 'eval', 'first2_eps0.1', 'results.json'))


def test_robustness_report_refuses_a_rerender_without_a_report(tmp_path):
  result = subprocess.run([sys.executable, '-m', 'experiments.robustness_report', '--rerender',
                           f'--output={tmp_path}'], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
  assert result.returncode != 0
  assert 'robustness.json' in result.stderr and 'Traceback' not in result.stderr
  assert not os.listdir(tmp_path)


def test_bf16_gradients_compares_both_precisions_on_the_same_examples(two_models,
                                                                      tfds_mnist_dir, tmp_path):
  out = tmp_path / 'bf16'
  _run(['-m', 'experiments.bf16_gradients', f'--models=ls={two_models["ls"]}', '--num_examples=10',
        f'--data_dir={tfds_mnist_dir}', f'--output={out}'])
  rows = json.load(open(out / 'bf16_gradients.json'))['models']['ls']
  assert [(r['attack'], r['protocol']) for r in rows] == [
      ('pgd40_xent', 'final'), ('pgd40_cw', 'final'), ('pgd40_xent', 'early_stop'),
      ('pgd40_cw', 'early_stop')]
  for r in rows:  # the paired counts explain the difference of the two accuracies
    assert round(10 * (r['bfloat16'] - r['float32'])) == (r['broken_by_float32_only']
                                                          - r['broken_by_bfloat16_only'])
    assert (r['float32_seed1'] is None) == (r['protocol'] == 'early_stop')
  recorded = json.load(open(out / 'ls' / 'bfloat16_final' / 'results.json'))['attacks']
  assert {a['config'].get('precision') for a in recorded if a['name'] != 'clean'} == {'bfloat16'}
  assert '| ls | pgd40_xent | final |' in open(out / 'bf16_gradients.md').read()


def _fake_model(folder, config, step, train_seconds, accuracies, sha='a' * 64, dataset='mnist',
                train_examples=55000):
  """A model folder as ship_model and eval.py leave it: final_metrics.json and
  eval/first1000/results.json, with per-example results of n = 1000 images."""
  (folder / 'eval' / 'first1000').mkdir(parents=True)
  metrics = {'config': dict(dataset=dataset, **config), 'global_step': step,
             'train_examples': train_examples, 'train_seconds': train_seconds}
  (folder / 'final_metrics.json').write_text(json.dumps(metrics))
  ones = lambda k: '1' * k + '0' * (1000 - k)
  results = {'n_examples': 1000, 'clean_acc': accuracies['clean'] / 1000,
             'autoattack_acc': accuracies['aa'] / 1000,
             'model': {'global_step': step, 'weights_sha256': 'b' * 64},
             'examples': {'sha256': sha, 'which': 'first 1000 test images', 'source': 'raw'},
             'attacks': [{'name': name, 'correct': ones(accuracies[name])}
                         for name in accuracies if name.startswith('pgd')]}
  (folder / 'eval' / 'first1000' / 'results.json').write_text(json.dumps(results))


def test_cost_robustness_counts_passes_by_hand_and_refuses_other_images(tmp_path):
  madry = dict(adv_train=True, adv_steps=40, adv_clean_weight=0.0, batch_size=50)
  _fake_model(tmp_path / 'madry', madry, 10000, 12600.0,
              {'clean': 980, 'pgd40_xent': 930, 'pgd40_cw': 925, 'aa': 890})
  _fake_model(tmp_path / 'ls', dict(alpha=0.95, sigma=0.3, batch_size=50), 100000, 3900.0,
              {'clean': 990, 'pgd40_xent': 430, 'pgd40_cw': 410, 'aa': 0})
  out = tmp_path / 'out'
  models = f'--models=madry={tmp_path / "madry"},ls={tmp_path / "ls"}'
  _run(['-m', 'experiments.cost_robustness', models, f'--output={out}'])
  rows = json.load(open(out / 'cost_robustness.json'))['rows']
  # Madry: 10,000 x 50 / 55,000 = 9.09 epochs x 41 passes (40 attack steps + the loss).
  assert abs(rows[0]['cost']['passes_per_training_image'] - 10000 * 50 / 55000 * 41) < 1e-9
  # Label smoothing with noise: 100,000 x 50 / 55,000 = 90.9 epochs x 1 pass.
  assert abs(rows[1]['cost']['passes_per_training_image'] - 100000 * 50 / 55000) < 1e-9
  assert rows[0]['autoattack']['correct'] == 890 and rows[1]['pgd40_cw']['accuracy'] == 0.41
  low, high = rows[0]['autoattack']['interval95']
  assert 0.868 < low < 0.870 and 0.907 < high < 0.909  # Wilson, 890 of 1000 by hand
  table = (out / 'cost_robustness.md').read_text()
  assert '| madry | 10,000 x 50 | 373 (9.1 epochs x 41) | 3.50 h (float32) |' in table
  assert '89.0% [86.9, 90.8]' in table and (out / 'cost_robustness.png').stat().st_size > 0
  # Results measured on other images are refused, in one line.
  _fake_model(tmp_path / 'other', madry, 10000, 1.0,
              {'clean': 1, 'pgd40_xent': 1, 'pgd40_cw': 1, 'aa': 1}, sha='c' * 64)
  result = subprocess.run([sys.executable, '-m', 'experiments.cost_robustness',
                           f'{models},other={tmp_path / "other"}', f'--output={tmp_path / "o2"}'],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 2 and 'Traceback' not in result.stderr
  assert 'not the images of' in result.stderr and not (tmp_path / 'o2').exists()


def test_cost_robustness_reads_cifars_pgd20_in_its_units_and_one_dataset_per_report(tmp_path):
  pgd7 = dict(adv_train=True, adv_steps=7, adv_clean_weight=0.0, batch_size=128)
  _fake_model(tmp_path / 'pgd7', pgd7, 6400, 3600.0,
              {'clean': 700, 'pgd20_xent': 400, 'pgd20_cw': 380, 'aa': 350},
              dataset='cifar10', train_examples=4000)
  out = tmp_path / 'out'
  _run(['-m', 'experiments.cost_robustness', f'--models=pgd7={tmp_path / "pgd7"}',
        f'--output={out}', '--title=CIFAR-10 subset (PROXY)'])
  row = json.load(open(out / 'cost_robustness.json'))['rows'][0]
  # 6,400 x 128 / 4,000 = 204.8 epochs x 8 passes (7 attack steps + the loss).
  assert abs(row['cost']['passes_per_training_image'] - 6400 * 128 / 4000 * 8) < 1e-9
  assert row['pgd20_cw']['accuracy'] == 0.38
  table = (out / 'cost_robustness.md').read_text()
  assert 'eps 8/255' in table and '| PGD-20 xent | PGD-20 CW |' in table
  _fake_model(tmp_path / 'mnist', dict(batch_size=50), 100, 1.0,
              {'clean': 1, 'pgd40_xent': 1, 'pgd40_cw': 1, 'aa': 1})
  result = subprocess.run([sys.executable, '-m', 'experiments.cost_robustness',
                           f'--models=pgd7={tmp_path / "pgd7"},m={tmp_path / "mnist"}',
                           f'--output={tmp_path / "o2"}'],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 2 and 'one dataset per report' in result.stderr


@pytest.mark.slow  # 55,000 forward passes; the committed figures are checked in test_docs_evidence
@needs_mnist
def test_train_accuracy_reads_the_runs_training_images_and_names_them(tmp_path):
  """On a shipped model trained from the raw files: the 55,000 images after Madry's 5,000,
  its committed figure again, and the held-out images below it."""
  folder = tmp_path / 'cyclic'
  shutil.copytree(os.path.join(REPO_ROOT, 'models', 'mnist', 'fast_fgsm_rs_cyclic'), folder,
                  ignore=shutil.ignore_patterns('eval', 'train_accuracy.json'))
  _run(['-m', 'experiments.train_accuracy', f'--models={folder}', f'--manual_dir={MNIST_DIR}'])
  measured = json.load(open(folder / 'train_accuracy.json'))
  committed = json.load(open(os.path.join(REPO_ROOT, 'models', 'mnist', 'fast_fgsm_rs_cyclic',
                                          'train_accuracy.json')))
  assert measured['train_accuracy'] == committed['train_accuracy']
  assert measured['examples']['which'] == 'train images 5001 to 60000 (the first 5000 held out)'
  assert measured['held_out_accuracy'] < measured['train_accuracy']


def _document(weights, images, pgd_correct, steps=40):
  """A minimal results.json: clean and one PGD attack on len(pgd_correct) images."""
  pgd = {'name': 'pgd40_xent', 'config': {'steps': steps}, 'correct': pgd_correct,
         'accuracy': pgd_correct.count('1') / len(pgd_correct)}
  clean = {'name': 'clean', 'config': {}, 'correct': '1' * len(pgd_correct), 'accuracy': 1.0}
  return {'model': {'path': 'm', 'weights_sha256': weights}, 'examples': {'sha256': images},
          'attacks': [clean, pgd]}


def test_image_set_shift_reports_each_shared_attack_and_refuses_mismatched_results(tmp_path):
  from experiments.image_set_shift import compare  # pylint: disable=g-import-not-at-top
  from run_support.errors import UserError  # pylint: disable=g-import-not-at-top
  before, after = _document('w', 'a', '1100'), _document('w', 'b', '1000')
  rows = compare(before, after)
  assert list(rows) == ['clean', 'pgd40_xent']
  assert rows['pgd40_xent']['difference'] == -0.25
  low, high = rows['pgd40_xent']['difference_interval95']
  assert low < -0.25 < high < 0.5  # four images: far inside sampling noise
  for other in (_document('other weights', 'b', '1000'), _document('w', 'a', '1000'),
                _document('w', 'b', '1000', steps=100)):
    with pytest.raises(UserError):
      compare(before, other)
  # The command line: a missing result folder is one line, exit 2.
  result = subprocess.run([sys.executable, '-m', 'experiments.image_set_shift',
                           f'--models=m={tmp_path}', '--before=eval/a', '--after=eval/b',
                           f'--output={tmp_path / "out"}'], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
  assert result.returncode == 2 and 'Traceback' not in result.stderr
  assert 'no results in' in result.stderr and not (tmp_path / 'out').exists()


def test_paper_table_sets_ours_beside_the_papers_row_of_the_same_name(tmp_path):
  # The shipped natural CIFAR subset row, named as the paper's beta 10 row to be set beside it.
  natural = os.path.join('models', 'cifar10_subset', 'natural')
  _run(['-m', 'experiments.paper_table', '--dataset=cifar10',
        f'--models=beta10_sigma20={natural},natural={natural}', f'--output={tmp_path}'])
  text = open(tmp_path / 'paper_table.md').read()
  results = json.load(open(os.path.join(REPO_ROOT, natural, 'eval', 'first1000', 'results.json')))
  pgd = next(a for a in results['attacks'] if a['name'] == 'pgd20_xent')['correct']
  row = next(l for l in text.splitlines() if l.startswith('| beta10_sigma20 |'))
  assert '| 160,000 / 6,400 |' in row and '| 92.68% / 74.3% [71.5, 76.9] |' in row
  assert f'| 52.55% / {format_interval(pgd.count("1"), len(pgd))} |' in row
  assert '| natural | - / 6,400 | - / ' in text  # no paper row: ours alone
  assert 'PROXY' in text and '`table4_blackbox_from_madrys_adv_trained_model`' in text
  report = json.load(open(tmp_path / 'paper_table.json'))
  assert report['models'][0]['numbers']['clean'] == [743, 1000]


def test_paper_table_names_the_source_each_black_box_attack_recorded(tmp_path):
  # sigma20's results.json was last written by an AutoAttack run without --blackbox_source;
  # its Table 4 attacks still record the natural row they were crafted on.
  sigma20 = os.path.join('models', 'cifar10_subset', 'sigma20')
  results = json.load(open(os.path.join(REPO_ROOT, sigma20, 'eval', 'first1000', 'results.json')))
  last_run = results['runs'][-1]['settings'] if 'runs' in results else results['settings']
  assert last_run['blackbox_source'] is None
  _run(['-m', 'experiments.paper_table', '--dataset=cifar10', f'--models=sigma20={sigma20}',
        f'--output={tmp_path}'])
  text = open(tmp_path / 'paper_table.md').read()
  row = text[text.index('| model | source of ours |'):].splitlines()[2]
  assert row.startswith('| sigma20 | models/cifar10_subset/natural | ')


def test_source_label_names_a_model_or_an_ensembles_members():
  from evaluation.report import source_label  # pylint: disable=import-outside-toplevel
  assert source_label({'path': 'models/a', 'kind': 'madry_tf1'}) == 'models/a'
  assert source_label({'path': 'x', 'kind': 'ensemble', 'members': [
      {'path': 'models/a'}, {'path': 'models/b'}]}) == 'models/a+models/b'


def test_paper_table_refuses_a_model_without_results_in_one_line(tmp_path):
  (tmp_path / 'm').mkdir()
  (tmp_path / 'm' / 'final_metrics.json').write_text('{"global_step": 1}')
  result = subprocess.run([sys.executable, '-m', 'experiments.paper_table', '--dataset=cifar10',
                           f'--models=m={tmp_path / "m"}', f'--output={tmp_path / "out"}'],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
  assert result.returncode != 0 and 'Traceback' not in result.stderr
  assert 'results.json is missing: run eval.py' in result.stderr
  assert not (tmp_path / 'out').exists()


def test_noise_clipping_fraction_is_the_gaussian_tails_by_hand():
  from experiments.noise_clipping import clipped_fraction  # pylint: disable=g-import-not-at-top
  black = np.zeros((2, 28, 28, 1), np.uint8)
  # Half of the noise is below 0, and Phi(-2) of it above 1.
  assert clipped_fraction(black, 0.5, 1.0) == pytest.approx(0.5 + 0.0227501, abs=1e-6)
  # MNIST pixel 51 (0.2) at sigma 0.2: Phi(-1) below 0 plus Phi(-4) above 1.
  assert clipped_fraction(np.full((3, 3), 51, np.uint8), 0.2, 1.0) == pytest.approx(
      0.158655 + 3.167e-5, abs=1e-6)
  # Half black, half white CIFAR pixels: half of each tail leaves [0, 255].
  assert clipped_fraction(np.array([0, 255], np.uint8), 20.0, 255.0) == pytest.approx(0.5)


@needs_cifar_subset
def test_noise_clipping_records_the_training_images_per_dataset(tmp_path):
  args = ['-m', 'experiments.noise_clipping', '--dataset=cifar10', '--sigmas=20',
          f'--manual_dir={CIFAR10_SUBSET_DIR}', f'--output={tmp_path}']
  _run(args)
  entry = json.load(open(tmp_path / 'noise_clipping.json'))['cifar10']
  assert entry['examples']['count'] == 4000 and entry['examples']['partial_split']
  assert 0.0 < entry['fraction_outside']['20'] < 0.5
  bad = subprocess.run([sys.executable, *args[:3], '--sigmas=0', f'--output={tmp_path}'],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
  assert bad.returncode != 0 and 'Traceback' not in bad.stderr
  assert '--sigmas' in bad.stderr.strip().splitlines()[-1]
  assert set(json.load(open(tmp_path / 'noise_clipping.json'))) == {'cifar10'}  # kept


def test_assumptions_name_each_datasets_curve_epsilons_and_paper_steps():
  """docs/assumptions.md's epsilon-curve section against the specs, the facts' one home."""
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  text = open(os.path.join(REPO_ROOT, 'docs', 'assumptions.md')).read()
  section = ' '.join(text[text.index('## Robustness against epsilon'):].split())
  mnist, cifar = get_spec('mnist'), get_spec('cifar10')
  assert f'{", ".join(f"{e:g}" for e in mnist.curve_epsilons)} on MNIST' in section
  assert f'{", ".join(f"{e:g}" for e in cifar.curve_epsilons)} on CIFAR' in section
  for spec, name in ((mnist, 'MNIST'), (cifar, 'CIFAR-10')):
    a = spec.paper_attack
    assert f'{name} {a.steps} steps of {a.step_size:g}' in section
