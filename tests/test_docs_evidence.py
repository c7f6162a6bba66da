"""Tables in the docs equal the evidence files they come from: a table cannot drift from its
results.json again. Each percentage is compared as the table rounds it."""

import json
import os
import re

import pytest

from conftest import REPO_ROOT
from data_input.specs import get_spec
from evaluation.intervals import format_interval
from evaluation.paper_results import paper_numbers
from evaluation.paper_results import paper_pgd_names
from evaluation.report import ANY

PAGE = os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_paper_budget.md')
RECORDS = os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_paper_budget')
SHIPPED = os.path.join(REPO_ROOT, 'models', 'mnist')
CHAIN = ('aa_apgd_ce', 'aa_apgd_t', 'aa_fab_t', 'aa_square')
PAPER_WHITEBOX = ('clean', 'pgd40_xent', 'pgd40_cw')
PAPER_COLUMNS = PAPER_WHITEBOX + ('bb_fgsm_cw', 'bb_pgd40_xent', 'bb_pgd40_cw')


def _results(folder, which):
  with open(os.path.join(folder, 'eval', which, 'results.json')) as f:
    return json.load(f)


def _accuracies(document):
  accuracies = {a['name']: a['accuracy'] for a in document['attacks']}
  accuracies.update({c['threat']: c['accuracy'] for c in document['worst_case']})
  return accuracies


def _table(text, header_start):
  """The rows (lists of cells) of the Markdown table whose header starts so."""
  lines = text[text.index(header_start):].splitlines()
  rows = []
  for line in lines[2:]:
    if not line.startswith('|'):
      break
    rows.append([cell.strip() for cell in line.strip('|').split('|')])
  return rows


def _pct(value, digits):
  return f'{100 * value:.{digits}f}'


def _interval(accuracy, n):
  """The page's 'acc% [lo, hi]' cell of an accuracy measured on n images."""
  return format_interval(round(accuracy * n), n)


# The results page's main table: its row labels and the folder each row's evidence is in.
RESULTS_ROWS = [
    ('natural', os.path.join(SHIPPED, 'natural')),
    ('alpha 0.95, sigma 0.3', os.path.join(SHIPPED, 'alpha0.95_sigma0.3')),
    ('alpha 0.95, sigma 0.3, **seed 1**', os.path.join(RECORDS, 'alpha0.95_sigma0.3_seed1')),
    ('alpha 0.95, sigma 0.3, **noisy images clipped', os.path.join(RECORDS, 'alpha0.95_sigma0.3_clip')),
    ('alpha 0.95, sigma 0.3, **mean instead', os.path.join(RECORDS, 'alpha0.95_sigma0.3_mean')),
    ('beta 2, sigma 0.5', os.path.join(SHIPPED, 'beta2_sigma0.5')),
    ('beta 2, sigma 0.5, **noisy images clipped', os.path.join(SHIPPED, 'beta2_sigma0.5_clip')),
    ('beta 0.5, sigma 0.5', os.path.join(SHIPPED, 'beta0.5_sigma0.5')),
    ('beta 0.5, sigma 0.5, **noisy images clipped', os.path.join(SHIPPED, 'beta0.5_sigma0.5_clip')),
    ('sigma 0.5', os.path.join(SHIPPED, 'sigma0.5')),
    ('Madry PGD-40 adversarial training', os.path.join(RECORDS, 'madry_adv_pgd40')),
    ('alpha 0.95, sigma 0.3, noisy images clipped, **400,000 steps**',
     os.path.join(SHIPPED, 'alpha0.95_sigma0.3_clip_400k')),
]
# The paper's row (configs/paper_results/mnist_table6.json) each evidence folder's row of the
# main table is set beside; Madry's and the natural row are left out (printed as the paper does).
PAPER_ROW_OF = {
    'alpha0.95_sigma0.3': 'alpha0.95_sigma0.3', 'alpha0.95_sigma0.3_seed1': 'alpha0.95_sigma0.3',
    'alpha0.95_sigma0.3_clip': 'alpha0.95_sigma0.3', 'alpha0.95_sigma0.3_mean': 'alpha0.95_sigma0.3',
    'beta2_sigma0.5': 'beta2_sigma0.5', 'beta2_sigma0.5_clip': 'beta2_sigma0.5',
    'beta0.5_sigma0.5': 'beta0.5_sigma0.5', 'beta0.5_sigma0.5_clip': 'beta0.5_sigma0.5',
    'sigma0.5': 'sigma0.5', 'alpha0.95_sigma0.3_clip_400k': 'alpha0.95_sigma0.3_k400k'}


def _folder_of(label):
  matches = [folder for start, folder in RESULTS_ROWS
             if label == start or (label.startswith(start) and start.endswith(('**', 'clipped', 'instead', 'training')))]
  assert len(matches) == 1, f'no evidence folder known for the results row {label!r}'
  return matches[0]


def test_results_page_table_equals_each_rows_results_json():
  rows = _table(open(PAGE).read(), '| row (seed 0, 100k steps) |')
  assert len(rows) == len(RESULTS_ROWS)
  for cells in rows:
    ours = re.findall(r'\*\*(\d+\.\d\d)%\*\*', ' '.join(cells[1:5]))
    accuracies = _accuracies(_results(_folder_of(cells[0]), 'all'))
    names = PAPER_COLUMNS[:len(ours)]
    assert len(ours) in (3, 6), cells[0]
    assert ours == [_pct(accuracies[n], 2) for n in names], cells[0]


def test_results_page_table_sets_each_row_beside_the_papers_row_it_names():
  paper = paper_numbers(get_spec('mnist'))['rows']
  rows = _table(open(PAGE).read(), '| row (seed 0, 100k steps) |')
  checked = set()
  for cells in rows:
    folder = os.path.basename(_folder_of(cells[0]))
    if folder not in PAPER_ROW_OF:
      continue
    row, accuracies = paper[PAPER_ROW_OF[folder]], _accuracies(_results(_folder_of(cells[0]), 'all'))
    for cell, column in zip(cells[1:4], PAPER_WHITEBOX):
      difference = float(_pct(accuracies[column], 2)) - row[column]
      assert f'/ {row[column]:.2f}% ({difference:+.2f})' in cell, (cells[0], column)
    assert cells[4].split(' / ')[-1] == f'{row["bb_fgsm_cw"]:.2f}%, {row["bb_pgd40"]:.2f}%', cells[0]
    checked.add(folder)
  assert checked == set(PAPER_ROW_OF)


# The verdict as first recorded, on tfds' first 1,000 (its evaluations in first1000_tfds_order).
VERDICT_TFDS_ORDER = os.path.join(RECORDS, 'verdict_tfds_order')
CIFAR_PAGE = os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset.md')
CIFAR_RECORDS = os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset')
CIFAR_SHIPPED = os.path.join(REPO_ROOT, 'models', 'cifar10_subset')
# Each verdict: its dataset, folder (robustness.json, verdict.md), the shipped models it
# judged and their evaluation folder.
VERDICTS = {
    'mnist, tfds order': ('mnist', VERDICT_TFDS_ORDER, SHIPPED, 'first1000_tfds_order'),
    'mnist': ('mnist', RECORDS, SHIPPED, 'first1000'),
    'cifar10 subset': ('cifar10', CIFAR_RECORDS, CIFAR_SHIPPED, 'first1000'),
}


@pytest.mark.parametrize('which', sorted(VERDICTS))
def test_verdict_table_equals_the_robustness_report_and_its_results_json(which):
  dataset, verdict, shipped, results = VERDICTS[which]
  spec = get_spec(dataset)
  pgd = paper_pgd_names(spec)
  with open(os.path.join(verdict, 'robustness.json')) as f:
    report = json.load(f)
  paper = paper_numbers(spec)['rows']
  rows = _table(open(os.path.join(verdict, 'verdict.md')).read(), '| model |')
  assert sorted(r[0] for r in rows) == sorted(report['models'])
  n = report['num_examples']
  cell = lambda acc: _interval(acc, n)
  for name, clean, paper_cell, ours, chain, transfer, worst in rows:
    document = _results(os.path.join(shipped, name), results)
    assert document['examples']['sha256'] == report['models'][name]['verdict']['examples']['sha256']
    assert document['examples']['count'] == n
    acc = _accuracies(document)
    assert clean == cell(acc['clean'])
    assert ours == ' / '.join(cell(acc[k]) for k in pgd)
    assert chain == ' / '.join(cell(acc[k]) for k in CHAIN)
    assert transfer.split(' (')[0] == cell(acc['black-box'])
    transfer_attacks = [a for a in document['attacks'] if a['threat'] == 'black-box']
    strongest = min(transfer_attacks, key=lambda a: a['accuracy'])['name']
    assert transfer.endswith(f'({strongest})'), name
    assert worst == f'**{cell(acc[ANY])}**'
    expected_paper = (f'{paper[name][pgd[0]]:.1f} / {paper[name][pgd[1]]:.1f}'
                      if name in paper else '-')
    assert paper_cell == expected_paper


@pytest.mark.parametrize('which', sorted(VERDICTS))
def test_every_epsilon_curve_point_equals_its_results_json(which):
  """Each point away from eps 0 and the paper's: the worst case of each curve's group in
  <model>/eval/first<n>_eps<eps>[_suffix]/results.json, on the curve's n images."""
  _, verdict, shipped, results = VERDICTS[which]
  with open(os.path.join(verdict, 'robustness.json')) as f:
    report = json.load(f)
  n, suffix = report['curve_num_examples'], results.partition('_')[2]
  checked = 0
  for name, model in report['models'].items():
    for eps, point in model['curve'].items():
      if float(eps) in (0, report['paper_epsilon']):
        continue
      folder = f'first{n}_eps{float(eps):g}' + (f'_{suffix}' if suffix else '')
      document = _results(os.path.join(shipped, name), folder)
      assert document['examples']['count'] == n
      acc = _accuracies(document)
      assert point == {kind: acc.get(kind) for kind in point}, (name, eps)
      checked += 1
  assert checked


def _markdown_tables(text):
  """Every Markdown table of `text`, as one string each."""
  tables, block = [], []
  for line in text.splitlines() + ['']:
    if line.startswith('|'):
      block.append(line)
    elif block:
      tables.append('\n'.join(block))
      block = []
  return tables


def _verdict_tables(records=RECORDS):
  """The three tables of a verdict's generated verdict.md: verdict, transfer, curves."""
  tables = _markdown_tables(open(os.path.join(records, 'verdict.md')).read())
  assert len(tables) == 3
  return tables


@pytest.mark.parametrize('page,records', [(PAGE, RECORDS), (CIFAR_PAGE, CIFAR_RECORDS)])
def test_every_generated_verdict_table_is_on_its_page_verbatim(page, records):
  """The verdict, transfer and epsilon-curve tables of verdict.md, as generated."""
  text = open(page).read()
  for table in _verdict_tables(records):
    assert table in text, table.splitlines()[0]


@pytest.mark.parametrize('row', ['natural', 'alpha0.95_sigma0.3', 'beta2_sigma0.5',
                                 'beta0.5_sigma0.5', 'sigma0.5', 'fast_fgsm_rs', 'fast_fgsm_rs_cyclic',
                                 'alpha0.95_sigma0.3_clip', 'beta2_sigma0.5_clip',
                                 'beta0.5_sigma0.5_clip', 'madry_adv_pgd40_10k',
                                 'alpha0.95_sigma0.3_clip_400k'])
def test_readme_shipped_models_table_equals_the_results_json(row):
  readme = open(os.path.join(REPO_ROOT, 'README.md')).read()
  line = next(l for l in readme.splitlines() if l.startswith(f'| `{row}` |'))
  numbers = re.findall(r'(\d+\.\d\d)%', line)
  all_images = _accuracies(_results(os.path.join(SHIPPED, row), 'all'))
  assert numbers[:3] == [_pct(all_images[n], 2) for n in PAPER_WHITEBOX]
  if 'AutoAttack' in line:  # the verdict's images, and the line says which
    assert "AutoAttack on the first 1,000 (files' order)" in line
    first = _accuracies(_results(os.path.join(SHIPPED, row), 'first1000'))
    assert numbers[-1] == _pct(first['aa_square'], 2)


@pytest.mark.parametrize('row', ['beta2_sigma0.5_clip', 'beta0.5_sigma0.5_clip'])
def test_clipped_squeezing_rows_transfer_sentences_equal_their_evidence(row):
  """Each clipped squeezing row's transfer sentence: every transfer attack at once, the
  strongest alone, the unclipped row's figure and the worst case, from the results.json
  of both rows on the verdict's images."""
  text = ' '.join(open(PAGE).read().split())
  document = _results(os.path.join(SHIPPED, row), 'first1000')
  accuracies = _accuracies(document)
  transfer = [a for a in document['attacks'] if a['name'].startswith('tr_')]
  assert document['complete'] is True and len(transfer) == 12
  unclipped = _accuracies(_results(os.path.join(SHIPPED, row.removesuffix('_clip')), 'first1000'))
  assert (f'leaves **{_interval(accuracies["black-box"], 1000)}** with an image lost to any of '
          f'its 12 attacks') in text
  strongest = min(a['accuracy'] for a in transfer)
  assert f'{_pct(strongest, 1)}%), against {_pct(unclipped["black-box"], 1)}%' in text
  worst, below = (_interval(accuracies[ANY], 1000),
                  round(1000 * (accuracies['autoattack'] - accuracies[ANY])))
  assert below in (0, 1)  # the page's two wordings
  assert (f"is AutoAttack's, {worst}" if below == 0 else
          f"is {worst}, one image below AutoAttack's") in text
  assert f'{sum(a["seconds"] for a in transfer):,.0f} s' in text


def test_readme_quick_start_figures_equal_their_evidence():
  readme = open(os.path.join(REPO_ROOT, 'README.md')).read()
  section = readme[readme.index('\n## Quick start'):readme.index('\n## Results')]
  rows = _table(section, '| attack | threat | accuracy |')
  evidence = os.path.join(REPO_ROOT, 'docs', 'results', 'quick_start')
  with open(os.path.join(evidence, 'ls', 'eval', 'results.json')) as f:
    accuracies = _accuracies(json.load(f))
  assert [r[2].split('%')[0] for r in rows] == [_pct(accuracies[n], 2) for n in PAPER_COLUMNS]
  for row in ('natural', 'ls'):
    with open(os.path.join(evidence, row, 'final_metrics.json')) as f:
      assert f'{_pct(json.load(f)["test_accuracy"], 2)}%' in section


AT_PAGE = os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_adversarial_training.md')


def test_adversarial_training_page_holds_its_rows_lines_of_every_verdict_table():
  """The verdict, transfer and epsilon-curve lines of the adversarially trained rows, as
  generated in verdict.md."""
  text = open(AT_PAGE).read()
  rows = ('fast_fgsm_rs', 'fast_fgsm_rs_cyclic', 'madry_adv_pgd40_10k')
  for table in _verdict_tables():
    lines = [l for l in table.splitlines() if l.split(' | ')[0].lstrip('| ') in rows]
    assert lines, table.splitlines()[0]
    for line in lines:
      assert line in text, line


def test_adversarial_training_page_equals_its_evidence():
  text = open(AT_PAGE).read()
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_adversarial_training',
                         'learning_curves.json')) as f:
    points = json.load(f)['runs']['fast_fgsm_rs']
  header = text[text.index('| step (thousands) |'):].splitlines()[0]
  steps = [str(int(float(c) * 1000)) for c in header.strip('|').split('|')[1:]]
  for name, metric in (('clean', 'clean'), ('PGD-40 (xent)', 'pgd40_xent'), ('FGSM (xent)', 'fgsm_xent')):
    row = next(r for r in _table(text, '| step (thousands) |') if r[0] == name)
    assert row[1:] == [_pct(points[s][metric], 1) for s in steps], name
  folder = os.path.join(SHIPPED, 'fast_fgsm_rs')
  every = _accuracies(_results(folder, 'all'))
  first = _accuracies(_results(folder, 'first1000'))
  rows = _table(text, '| fast adversarial training, 50k steps |')
  cells = {r[0].split(' (')[0].split(', all')[0]: r[1] for r in rows}
  assert cells['clean'].startswith(f'{_pct(every["clean"], 2)}%')
  assert cells['clean, first 1,000'].startswith(f'{_pct(first["clean"], 2)}%')
  assert cells['white-box PGD-40 xent / CW'].startswith(
      f'**{_pct(every["pgd40_xent"], 2)}% / {_pct(every["pgd40_cw"], 2)}%**')
  black = cells['black-box from the natural model: FGSM-CW / PGD-40 xent / PGD-40 CW']
  assert re.findall(r'(\d+\.\d\d)%', black) == [
      _pct(every[n], 2) for n in ('bb_fgsm_cw', 'bb_pgd40_xent', 'bb_pgd40_cw')]
  chain = ' / '.join(_pct(first[n], 1) for n in CHAIN[:3]) + f' / **{_pct(first["aa_square"], 1)}%**'
  assert cells['AutoAttack'].startswith(chain)


def test_wong_recipe_section_equals_its_evidence():
  text = open(AT_PAGE).read()
  text = text[text.index("## Fast adversarial training with Wong's own recipe"):]
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_adversarial_training',
                         'learning_curves.json')) as f:
    points = json.load(f)['runs']['fast_fgsm_rs_cyclic']
  header = text[text.index('| step |'):].splitlines()[0]
  steps = [c.strip().replace(',', '') for c in header.strip('|').split('|')[1:]]
  assert steps == sorted(points, key=int)
  for name, metric in (('clean', 'clean'), ('PGD-40 (xent)', 'pgd40_xent'), ('FGSM (xent)', 'fgsm_xent')):
    row = next(r for r in _table(text, '| step |') if r[0] == name)
    assert row[1:] == [_pct(points[s][metric], 1) for s in steps], name
  every = _results(os.path.join(SHIPPED, 'fast_fgsm_rs_cyclic'), 'all')
  accuracies = _accuracies(every)
  rows = {r[0]: r[1] for r in _table(text, "| fast adversarial training, Wong's recipe")}
  found = lambda cell: re.findall(r'(\d+\.\d\d)%', cell)
  assert found(rows['clean, all 10,000']) == [_pct(accuracies['clean'], 2)]
  white = rows['white-box PGD-40 xent / CW (random start, step 0.01), all 10,000']
  assert found(white) == [_pct(accuracies[n], 2) for n in ('pgd40_xent', 'pgd40_cw')]
  worst = next(c for c in every['worst_case'] if c['threat'] == 'white-box')
  assert found(rows['worst of the two per example']) == [_pct(worst['accuracy'], 2)]
  black = rows['black-box from the natural model: FGSM-CW / PGD-40 xent / PGD-40 CW, all 10,000']
  assert found(black) == [_pct(accuracies[n], 2) for n in ('bb_fgsm_cw', 'bb_pgd40_xent', 'bb_pgd40_cw')]


def test_cost_robustness_table_on_the_page_is_the_generated_one():
  text = open(AT_PAGE).read()
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_adversarial_training',
                         'cost_robustness.md')) as f:
    generated = [l for l in f.read().splitlines() if l.startswith('|')]
  start = text.index(generated[0])
  assert text[start:].splitlines()[:len(generated)] == generated


# The models of the Tables 9-11 section: the row label after "ours, MNIST " -> folder.
CHECKS_ROWS = {'beta 2, sigma 0.5': 'beta2_sigma0.5',
               'alpha 0.95, sigma 0.3, clipped': 'alpha0.95_sigma0.3_clip'}


def _checks_rows(text, header):
  """{folder: cells} of the section's "ours, MNIST <model>" rows in the table under header."""
  rows = {}
  for r in _table(text, header):
    if r[0].startswith('ours, MNIST '):
      rows[CHECKS_ROWS[r[0][len('ours, MNIST '):]]] = r[1:]
  return rows


def test_tables_9_and_11_on_the_results_page_equal_their_evidence():
  text = open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_paper_budget.md')).read()
  text = text[text.index("## The paper's own checks (Tables 9-11) on MNIST"):]
  steps, unbounded = _checks_rows(text, '| PGD steps |'), _checks_rows(text, '| steps, step, epsilon')
  assert set(steps) == set(unbounded) == set(CHECKS_ROWS.values())
  for folder in CHECKS_ROWS.values():
    accuracies = _accuracies(_results(os.path.join(SHIPPED, folder), 'steps_unbounded_first1000'))
    assert [c.split('%')[0] for c in steps[folder]] == [
        _pct(accuracies[f'pgd{k}_cw'], 1) for k in (20, 40, 100, 400, 1000)]
    names = [n for n in accuracies if n.startswith('unbounded_')]  # the sweep's order
    assert [c.split('%')[0] for c in unbounded[folder]] == [_pct(accuracies[n], 1) for n in names]


PAPER_CHECKS = os.path.join(REPO_ROOT, 'configs', 'paper_results', 'cifar10_tables9_11.json')
# Each check table's header on both pages, and the paper row's label in it.
CHECK_TABLES = {'table11_steps': ('| PGD steps', 'paper, CIFAR-10 beta 10, sigma 30 (Table 11)'),
                'table10_restarts': ('| restarts', 'paper, CIFAR-10 beta 10, sigma 30 (Table 10)'),
                'table9_unbounded': ('| steps, step, epsilon', 'paper, CIFAR-10')}


def _paper_check_cells(paper, table):
  """The paper's cells as it prints them (Table 10's first as 52.3%)."""
  if table == 'table11_steps':
    return [f'{a:.2f}%' for a in paper[table].values()]
  if table == 'table10_restarts':
    return [f'{a:g}%' for a in paper[table]]
  return [f'{r["accuracy"]:.2f}%' for r in paper[table]]


def test_the_papers_tables_9_to_11_on_both_pages_equal_their_one_home():
  from data_input.specs import get_spec  # pylint: disable=import-outside-toplevel
  with open(PAPER_CHECKS) as f:
    paper = json.load(f)
  # The unbounded suite's CIFAR sweep is the paper's Table 9 setting, row for row.
  assert get_spec('cifar10').paper_suites.unbounded_sweep == tuple(
      (r['steps'], r['step_size'], r['epsilon']) for r in paper['table9_unbounded'])
  for page in (PAGE, CIFAR_PAGE):
    text = open(page).read()
    for table, (header, label) in CHECK_TABLES.items():
      row = next(r for r in _table(text, header) if r[0].startswith(label))
      assert row[1:] == _paper_check_cells(paper, table), (page, table)


def test_cifar_subset_checks_equal_their_early_stopped_evidence():
  text = open(CIFAR_PAGE).read()
  document = _results(os.path.join(REPO_ROOT, 'models', 'cifar10_subset', 'beta10_sigma20'),
                      'checks_early_stop_first1000')
  assert document['examples']['count'] == 1000
  by_name = {a['name']: a for a in document['attacks']}
  names = {'table11_steps': [f'pgd{k}_cw' for k in (20, 40, 100, 400, 1000)],
           'table10_restarts': [f'pgd20_xent_restart{r}' for r in range(1, 10)],
           'table9_unbounded': [n for n in by_name if n.startswith('unbounded_')]}
  for table, (header, _) in CHECK_TABLES.items():
    row = next(r for r in _table(text, header) if r[0].startswith('ours, CIFAR subset'))
    assert row[0].endswith('(early stop)')
    assert all(by_name[n]['config']['early_stop'] for n in names[table])
    assert row[1:] == [_interval(by_name[n]['accuracy'], 1000) for n in names[table]]


def test_cifar_subset_diagnostics_table_equals_the_diagnostics():
  import numpy as np  # pylint: disable=import-outside-toplevel
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset', 'diagnostics',
                         'diagnostics.json')) as f:
    document = json.load(f)
  n, g = document['examples']['count'], lambda v: f'{v:.3g}'
  spread = lambda grids: g(float(np.median(np.ptp(np.array(grids), axis=(1, 2)))))
  rows = _table(open(CIFAR_PAGE).read(), '| model | clean | robust by Eq. 4 | median eps_L |')
  assert sorted(r[0] for r in rows) == sorted(document['models'])  # every model, once
  for cells in rows:
    m = document['models'][cells[0]]
    correct = m['summary_correct']
    assert cells[1:] == [
        _interval(m['clean_accuracy'], n), _interval(m['table1']['predicted_accuracy'], n),
        g(correct['epsilon_L']['median']), g(correct['logit_gap']['median']),
        g(correct['gradient_gap']['median']),
        f'{_interval(m["table1"]["fgsm_xent_accuracy"], n)} / '
        f'{_interval(m["table1"]["fgsm_cw_accuracy"], n)}',
        g(m['logit_activity_sorted'][0] / n),
        f'{spread(m["landscape"]["adversarial"])} / {spread(m["landscape"]["random"])}']
    assert set(m['inactive_penultimate_by_threshold'].values()) == {0}  # "0 of the 128"
    assert m['penultimate_neurons'] == 128


def test_mimicry_table_equals_the_diagnostics():
  text = open(AT_PAGE).read()
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_adversarial_training',
                         'diagnostics', 'diagnostics.json')) as f:
    diagnostics = json.load(f)
  models = diagnostics['models']
  labels = ['natural', 'alpha0.95_sigma0.3', 'sigma0.5', 'beta2_sigma0.5', 'beta0.5_sigma0.5',
            'alpha0.95_sigma0.3_clip', 'fast_fgsm_rs', 'fast_fgsm_rs_cyclic', 'madry_adv_pgd40_10k']
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_paper_budget',
                         'robustness.json')) as f:
    verdict = json.load(f)
  n, n_verdict = diagnostics['examples']['count'], verdict['num_examples']
  rows = _table(text, '| model | clean | robust by Eq. 4 |')
  assert len(rows) == len(labels)
  for label, row in zip(labels, rows):
    m = models[label]
    cells = [c.strip('*') for c in row[1:9]]
    assert cells[0] == _interval(m['clean_accuracy'], n)
    assert cells[1] == _interval(m['table1']['predicted_accuracy'], n)
    assert cells[2] == f'{m["summary"]["epsilon_L"]["median"]:.3f}'
    assert cells[3] == f'{m["summary"]["logit_gap"]["median"]:.2f}'
    assert cells[4] == f'{m["summary"]["gradient_gap"]["median"]:.3g}'
    assert cells[5] == (f'{_interval(m["table1"]["fgsm_xent_accuracy"], n)} / '
                        f'{_interval(m["table1"]["fgsm_cw_accuracy"], n)}')
    inactive = m['inactive_penultimate_by_threshold']
    assert cells[6] == f'{inactive["1e-06"]} / {inactive["0.01"]}'
    autoattack = verdict['models'][label]['verdict']['autoattack_after']['aa_square']
    assert cells[7] == _interval(autoattack, n_verdict)


def test_table_10_on_the_results_page_equals_its_evidence():
  text = open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_paper_budget.md')).read()
  rows = _checks_rows(text, '| restarts |')
  assert 'beta2_sigma0.5' in rows
  for folder, cells in rows.items():
    accuracies = _accuracies(_results(os.path.join(SHIPPED, folder), 'restarts_all'))
    assert [c.split('%')[0] for c in cells] == [
        _pct(accuracies[f'pgd40_xent_restart{r}'], 2) for r in range(1, 10)]


TRAIN_ACCURACY_ROWS = {
    'natural': 'natural', 'alpha 0.95, sigma 0.3': 'alpha0.95_sigma0.3',
    'beta 2, sigma 0.5': 'beta2_sigma0.5', 'beta 0.5, sigma 0.5': 'beta0.5_sigma0.5',
    'sigma 0.5': 'sigma0.5', 'natural, seed 1': 'natural_seed1', 'natural, seed 2': 'natural_seed2',
    "fast adversarial training, Madry's optimizer": 'fast_fgsm_rs',
    "fast adversarial training, Wong's recipe": 'fast_fgsm_rs_cyclic',
    'alpha 0.95, sigma 0.3, noise clipped to [0, 1]': 'alpha0.95_sigma0.3_clip',
    'beta 2, sigma 0.5, noise clipped to [0, 1]': 'beta2_sigma0.5_clip',
    'beta 0.5, sigma 0.5, noise clipped to [0, 1]': 'beta0.5_sigma0.5_clip'}


def test_train_accuracy_table_equals_its_evidence_and_the_papers_column():
  with open(os.path.join(REPO_ROOT, 'configs', 'paper_results', 'mnist_table6.json')) as f:
    paper = json.load(f)['rows']
  rows = _table(open(PAGE).read(), '| shipped row | train: ours / paper |')
  assert len(rows) == len(TRAIN_ACCURACY_ROWS)
  for cells in rows:
    row = next(r for label, r in TRAIN_ACCURACY_ROWS.items()
               if cells[0] == label or cells[0].startswith(label + ' ('))
    with open(os.path.join(SHIPPED, row, 'train_accuracy.json')) as f:
      evidence = json.load(f)
    with open(os.path.join(SHIPPED, row, 'model.json')) as f:
      assert evidence['model']['weights_sha256'] == json.load(f)['weights_sha256']
    recipe = row.removesuffix('_clip')  # the paper's row of the same settings
    paper_train = f'{paper[recipe]["train"]:.2f}%' if recipe in paper else '–'
    assert cells[1] == f'**{_pct(evidence["train_accuracy"], 2)}%** / {paper_train}'
    assert cells[2] == f'{_pct(evidence["held_out_accuracy"], 2)}%'
    assert evidence['held_out_accuracy'] < evidence['train_accuracy']
    assert evidence['examples']['count'] == 55000


def test_cifar_subset_page_is_labelled_proxy_and_its_tables_equal_their_evidence():
  text = open(os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset.md')).read()
  assert text.startswith('# CIFAR-10 subset study (issue 31): PROXY SCALE')
  assert 'not comparable with the paper' in text
  with open(os.path.join(REPO_ROOT, 'bench', 'results', 'wrn_budget.json')) as f:
    budget = json.load(f)
  assert budget['benchmark'] is True
  rows = _table(text, '| WRN | forward MFLOP/image |')
  assert len(rows) == len(budget['results'])
  for cells, result in zip(rows, budget['results']):
    size = f'{result["depth"]}-{result["width"]}'
    assert cells[0] == f'WRN-{size}' + (' (chosen)' if size == budget['chosen'] else '')
    rates = result['images_per_sec']
    assert cells[1:] == [f'{result["forward_mflops"]:.0f}', f'{rates["PGD-1"]:.1f}',
                         f'{rates["PGD-7"]:.1f}', f'{rates["natural-cost"]:.1f}',
                         f'{result["study_hours"]:.1f}']
  # The paper's Tables 3 and 4 beside ours: experiments/paper_table.py's tables, verbatim,
  # each of our cells the stored result of the model it names.
  results = os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset')
  generated = _markdown_tables(open(os.path.join(results, 'paper_table.md')).read())
  assert len(generated) == 2 and all(table in text for table in generated)
  with open(os.path.join(results, 'paper_table.json')) as f:
    for model in json.load(f)['models']:
      document = json.load(open(os.path.join(REPO_ROOT, model['results'])))
      assert model['numbers']['clean'] == [round(document['clean_acc'] * 1000), 1000]
      assert document['examples']['partial_split'] is True


def test_the_clipped_rows_two_trainings_equal_their_evidence():
  text = open(PAGE).read()
  line = next(l for l in text.splitlines() if l.startswith('  | noise clipped, **trained again**'))
  cells = [c.strip() for c in line.strip().strip('|').split('|')]
  folder = os.path.join(SHIPPED, 'alpha0.95_sigma0.3_clip')
  every = _results(folder, 'all')
  accuracies = _accuracies(every)
  assert cells[1] == f'{_pct(every["clean_acc"], 2)}%'
  assert cells[2] == ' / '.join(f'{_pct(accuracies[n], 2)}%' for n in ('pgd40_xent', 'pgd40_cw'))
  assert cells[3] == ' / '.join(f'{_pct(accuracies[n], 2)}%'
                                for n in ('bb_fgsm_cw', 'bb_pgd40_xent', 'bb_pgd40_cw'))
  first = _results(folder, 'first1000')
  assert first['examples']['file_order'] is True
  chain = ' / '.join(f'{100 * v:.1f}' for v in first['autoattack']['robust_after'].values())
  assert cells[4] == f"{chain} (files' order)"
  with open(os.path.join(folder, 'model.json')) as f:
    assert every['model']['weights_sha256'] == json.load(f)['weights_sha256']


@pytest.mark.parametrize('page, curves, run', [
    ('mnist_adversarial_training.md', 'mnist_adversarial_training', 'madry_adv_pgd40_10k'),
    ('mnist_paper_budget.md', 'mnist_paper_budget/learning_curve_400k',
     'alpha0.95_sigma0.3_clip_400k')])
def test_a_runs_learning_curve_table_equals_its_evidence(page, curves, run):
  """Every measured point of the run, and only those, on its page with 95% intervals."""
  results = os.path.join(REPO_ROOT, 'docs', 'results')
  with open(os.path.join(results, curves, 'learning_curves.json')) as f:
    points = json.load(f)['runs'][run]
  rows = _table(open(os.path.join(results, page)).read(), '| step | clean | PGD-40 xent | FGSM xent |')
  assert [cells[0].replace(',', '') for cells in rows] == sorted(points, key=int)
  for cells in rows:
    point = points[cells[0].replace(',', '')]
    assert cells[1:] == [_interval(point[m], 1000)
                         for m in ('clean', 'pgd40_xent', 'fgsm_xent')]


def test_the_image_order_paragraph_states_what_its_evidence_shows():
  with open(os.path.join(RECORDS, 'image_set_shift', 'image_set_shift.json')) as f:
    models = json.load(f)['models']
  text = ' '.join(open(PAGE).read().split())
  rows = [(m, a, r) for m, model in models.items() for a, r in model['attacks'].items()]
  moved = lambda r: round(-100 * r['difference'], 1)
  beyond = lambda r: r['difference_interval95'][0] > 0 or r['difference_interval95'][1] < 0
  assert 'clean accuracy moves by at most 0.4 points; no attacked figure rises' in text
  assert all(abs(r['difference']) <= 0.004 + 1e-9 for _, a, r in rows if a == 'clean')
  assert all(r['difference'] <= 0 for _, a, r in rows if a != 'clean')
  pgd = [moved(r) for m, a, r in rows if a.startswith('pgd40') and m != 'natural']
  assert 'PGD-40 falls by 0.7-5.7 points' in text and (min(pgd), max(pgd)) == (0.7, 5.7)
  assert "AutoAttack's final figure by at most 0.8" in text
  assert max(moved(r) for _, a, r in rows if a == 'aa_square') == 0.8
  transfer = [r for _, a, r in rows if a.startswith('tr_')]
  assert 'the transfer attacks by 1.7-9.0 points' in text
  assert (min(map(moved, transfer)), max(map(moved, transfer))) == (1.7, 9.0)
  assert f'in {sum(map(beyond, transfer))} of the {len(transfer)} transfer figures' in text


def test_adversarially_trained_rows_verdict_lines_are_the_generated_ones():
  text = open(AT_PAGE).read()
  section = text[text.index("## The verdict's attacks on the adversarially trained rows"):]
  tables = _markdown_tables(section)[:2]
  generated = open(os.path.join(RECORDS, 'verdict.md')).read().splitlines()
  rows = [line for table in tables for line in table.splitlines()[2:]]
  assert {line.split('|')[1].strip() for line in rows} == {
      'fast_fgsm_rs', 'fast_fgsm_rs_cyclic', 'madry_adv_pgd40_10k'}
  assert len(rows) == 3 + 3 * 3 and all(line in generated for line in rows)


def test_readme_results_table_is_the_generated_cost_table():
  readme = open(os.path.join(REPO_ROOT, 'README.md')).read()
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_adversarial_training',
                         'cost_robustness.md')) as f:
    generated = [l for l in f.read().splitlines() if l.startswith('|')]
  start = readme.index(generated[0])
  assert readme[start:].splitlines()[:len(generated)] == generated


def test_madrys_10k_section_equals_its_evidence():
  text = open(AT_PAGE).read()
  text = text[text.index("## Madry's PGD-40 adversarial training, 10,000 steps"):]
  folder = os.path.join(SHIPPED, 'madry_adv_pgd40_10k')
  every, first = _results(folder, 'all'), _results(folder, 'first1000')
  acc, acc_first = _accuracies(every), _accuracies(first)
  rows = {r[0]: r[1] for r in _table(text, "| Madry's PGD-40 adversarial training, 10k steps")}
  found = lambda cell: re.findall(r'(\d+\.\d\d)%', cell)
  assert found(rows['clean, all 10,000']) == [_pct(acc['clean'], 2)]
  white = rows['white-box PGD-40 xent / CW (random start, step 0.01), all 10,000']
  assert found(white) == [_pct(acc[n], 2) for n in ('pgd40_xent', 'pgd40_cw')]
  assert found(rows['worst of the two per example']) == [_pct(acc['white-box'], 2)]
  black = rows['black-box from the natural model: FGSM-CW / PGD-40 xent / PGD-40 CW, all 10,000']
  assert found(black) == [_pct(acc[n], 2) for n in ('bb_fgsm_cw', 'bb_pgd40_xent', 'bb_pgd40_cw')]
  assert found(rows['clean, first 1,000']) == [_pct(acc_first['clean'], 2)]
  chain = ' / '.join(_pct(acc_first[n], 1) for n in CHAIN[:3]) + f' / **{_pct(acc_first["aa_square"], 1)}%**'
  assert rows['AutoAttack (standard) after APGD-CE / APGD-T / FAB-T / Square, first 1,000'].startswith(chain)
  steps = _accuracies(_results(folder, 'steps_unbounded_first1000'))
  row = next(r for r in _table(text, '| PGD steps |') if r[0].startswith('ours'))
  assert [c.split('%')[0] for c in row[1:]] == [
      _pct(steps[f'pgd{k}_cw'], 1) for k in (20, 40, 100, 400, 1000)]


def _first(document, name, n):
  """Accuracy of one attack on the first n of the images a results.json measured."""
  correct = next(a['correct'] for a in document['attacks'] if a['name'] == name)
  return correct[:n].count('1') / n


def test_chain_and_eq4_bullets_cite_their_own_images():
  """The 'Which part of the chain' bullets: Eq. 4 against attacks on the diagnostics' images
  (tfds' first 500), the chain's steps on the verdict's (the files' first 1,000)."""
  text = open(os.path.join(REPO_ROOT, 'docs', 'results', 'mnist_paper_budget.md')).read()
  tfds = {r: _results(os.path.join(SHIPPED, r), 'first1000_tfds_order')
          for r in ('alpha0.95_sigma0.3', 'beta2_sigma0.5', 'beta0.5_sigma0.5')}
  assert 'first 500 test images (tfds:' in json.load(open(os.path.join(
      RECORDS, 'diagnostics', 'diagnostics.json')))['examples']
  aa = [_pct(_first(tfds[r], 'aa_square', 500), 1) for r in ('alpha0.95_sigma0.3', 'beta2_sigma0.5')]
  assert f'AutoAttack leaves {aa[0]}% and\n  {aa[1]}% of the same 500' in text
  pgd = {r: ' / '.join(_pct(_first(tfds[r], n, 500), 1) for n in PAPER_WHITEBOX[1:])
         for r in ('beta0.5_sigma0.5', 'beta2_sigma0.5')}
  assert f'keeps {pgd["beta0.5_sigma0.5"]}% of them under PGD-40' in text
  assert f'69% by Eq. 4; {pgd["beta2_sigma0.5"]}%' in text
  files = {r: _accuracies(_results(os.path.join(SHIPPED, r), 'first1000'))
           for r in ('alpha0.95_sigma0.3', 'beta2_sigma0.5', 'beta0.5_sigma0.5')}
  ls = files['alpha0.95_sigma0.3']
  assert f'(PGD-40 xent {_pct(ls["pgd40_xent"], 1)}% to {_pct(ls["aa_apgd_ce"], 1)}%)' in text
  squeezed = [files[r] for r in ('beta2_sigma0.5', 'beta0.5_sigma0.5')]
  assert (f'APGD-CE\n  leaves {_pct(squeezed[0]["aa_apgd_ce"], 1)}% and '
          f'{_pct(squeezed[1]["aa_apgd_ce"], 1)}%') in text
  assert (f'takes them to\n  {_pct(squeezed[0]["aa_apgd_t"], 1)}% and '
          f'{_pct(squeezed[1]["aa_apgd_t"], 1)}%') in text
  assert all(f['aa_square'] == f['aa_fab_t'] for f in squeezed)  # 'removes nothing'


def test_cifar_subset_status_figures_equal_their_evidence():
  """The banner's clean and train figures (each row's final_metrics.json) and the
  learning-curve readings of the rows past natural and noise (learning_curves.json)."""
  text = ' '.join(open(os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset.md'))
                  .read().replace('>', ' ').split())
  shipped = os.path.join(REPO_ROOT, 'models', 'cifar10_subset')
  curved = ('alpha0.95_sigma20', 'beta10_sigma20', 'alpha0.95', 'fast_fgsm_rs', 'madry_adv_pgd7')
  metrics = {row: json.load(open(os.path.join(shipped, row, 'final_metrics.json')))
             for row in ('natural', 'sigma20') + curved}
  curves = json.load(open(os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset',
                                       'learning_curves.json')))['runs']
  for row, m in metrics.items():
    n = m['test_examples']
    assert n == 1000 and f'clean {_interval(m["test_accuracy"], n)}' in text, row
  for row in curved:
    m = metrics[row]
    train = _interval(m['train_accuracy'], m['train_examples'])
    assert f'**{train} on its own {m["train_examples"]:,} training images**' in text, row
    curve = curves[row]
    after = [curve[s]['clean'] for s in curve if int(s) > 3200]
    assert f'{_pct(curve["3200"]["clean"], 1)}% at step 3,200' in text, row
    assert f'{_pct(min(after), 1)}-{_pct(max(after), 1)}% after it' in text, row
  pgd = [point['pgd20_xent'] for point in curves['fast_fgsm_rs'].values()]
  assert f'stays within {_pct(min(pgd), 1)}-{_pct(max(pgd), 1)}% at every checkpoint' in text
  pgd = [point['pgd20_xent'] for point in curves['madry_adv_pgd7'].values()]
  assert f'first 500 within {_pct(min(pgd), 1)}-{_pct(max(pgd), 1)}% at every checkpoint' in text
  assert min(int(step) for step in curves['madry_adv_pgd7']) == 2800  # 'from step 2,800'


def test_autoattack_on_all_10000_table_equals_its_evidence():
  """Each row's AutoAttack chain on all 10,000 (eval/autoattack_all) beside its paper-protocol
  PGD-40 (eval/all): the whole test set in both, the same weights in both; and the
  paragraph's figures read from the same chains."""
  page = open(PAGE).read()
  rows = _table(page, '| row (all 10,000, eps 0.3) |')
  def finished(row):
    path = os.path.join(SHIPPED, row, 'eval', 'autoattack_all', 'results.json')
    return os.path.exists(path) and json.load(open(path))['complete'] is True
  measured = {row for row in os.listdir(SHIPPED) if finished(row)}
  assert {cells[0].strip('`') for cells in rows} == measured and len(rows) == len(measured)
  every = lambda a: format_interval(round(a * 10000), 10000, digits=2)
  chains = {}
  for cells in rows:
    row = cells[0].strip('`')
    folder = os.path.join(SHIPPED, row)
    chain, paper = _results(folder, 'autoattack_all'), _results(folder, 'all')
    assert chain['examples']['count'] == 10000 and not chain['examples']['partial_split']
    assert chain['model']['weights_sha256'] == paper['model']['weights_sha256']
    acc = chains[row] = _accuracies(chain)
    pgd = _accuracies(paper)
    expected = ([every(acc['clean'])] + [every(pgd[n]) for n in PAPER_WHITEBOX[1:]]
                + [every(acc[n]) for n in CHAIN[:3]] + [f'**{every(acc["aa_square"])}**'])
    seconds = sum(a['seconds'] for a in chain['attacks'])
    assert cells[1:] == expected + [f'{seconds / 60:.0f}'], row
  text = ' '.join(page.split())
  squeezed = [chains[r] for r in ('beta2_sigma0.5', 'beta0.5_sigma0.5')]
  assert f'{every(squeezed[0]["aa_square"])} and {every(squeezed[1]["aa_square"])} to logit squeezing' in text
  removed = lambda step, before: ' and '.join(f'{100 * (c[before] - c[step]):.2f}' for c in squeezed)
  assert f'FAB-T removes {removed("aa_fab_t", "aa_apgd_t")} points' in text
  assert f'no gradients, {removed("aa_square", "aa_fab_t")} (' in text
  assert f'APGD-CE alone breaks label smoothing (to {_pct(chains["alpha0.95_sigma0.3"]["aa_apgd_ce"], 2)}%' in text


def test_noise_clipping_figures_equal_their_evidence():
  with open(os.path.join(REPO_ROOT, 'docs', 'results', 'noise_clipping', 'noise_clipping.json')) as f:
    fractions = {d: e['fraction_outside'] for d, e in json.load(f).items()}
  text = open(os.path.join(REPO_ROOT, 'docs', 'assumptions.md')).read()
  pct = lambda d, s: f'{_pct(fractions[d][s], 1)}%'
  assert f'{pct("mnist", "0.3")} / {pct("mnist", "0.5")} of the noisy pixel values' in text
  assert f'only {pct("cifar10", "20")} / {pct("cifar10", "30")} of the' in text
  page = open(PAGE).read()
  assert f'clipping touches {pct("cifar10", "20")} of the noisy' in page
  assert f'against {pct("mnist", "0.3")} / {pct("mnist", "0.5")} of MNIST' in page


def test_cifar_subset_autoattack_table_equals_each_rows_results():
  """Each row's clean, PGD-20 and AutoAttack chain cells, and its chain's recorded seconds,
  read from the row's eval/first1000 results.json (all 1,000 images, the shipped weights)."""
  shipped = os.path.join(REPO_ROOT, 'models', 'cifar10_subset')
  rows = _table(open(CIFAR_PAGE).read(), '| row | clean | PGD-20 xent | PGD-20 CW | after APGD-CE |')
  assert rows
  for cells in rows:
    document = _results(os.path.join(shipped, cells[0]), 'first1000')
    assert document['examples']['count'] == 1000
    with open(os.path.join(shipped, cells[0], 'model.json')) as f:
      assert document['model']['weights_sha256'] == json.load(f)['weights_sha256']
    acc = _accuracies(document)
    names = ('clean', 'pgd20_xent', 'pgd20_cw', 'aa_apgd_ce', 'aa_square')
    assert cells[1:6] == [_interval(acc[n], 1000) for n in names], cells[0]
    seconds = sum(a['seconds'] for a in document['attacks'] if a['name'] in CHAIN)
    assert cells[6].split(' ')[0] == f'{seconds:,.0f}', cells[0]


def test_cifar_subset_learning_curve_table_equals_the_curves():
  """Each row's checkpoints and its ranges over them (all, and after the first decay at
  step 3,200) as learning_curves.json holds them."""
  curves = json.load(open(os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset',
                                       'learning_curves.json')))
  assert curves['num_examples'] == 500
  rows = _table(open(CIFAR_PAGE).read(), '| row | checkpoints (steps, count) |')
  assert sorted(r[0] for r in rows) == sorted(curves['runs'])
  spread = lambda values: f'{_pct(min(values), 1)}-{_pct(max(values), 1)}%'
  for cells in rows:
    points = curves['runs'][cells[0]]
    steps = sorted(points, key=int)
    late = [s for s in steps if int(s) > 3200]
    values = lambda metric, which: [points[s][metric] for s in which]
    assert cells[1:] == [f'{int(steps[0]):,}-{int(steps[-1]):,} ({len(steps)})',
                         spread(values('pgd20_xent', steps)), spread(values('clean', late)),
                         spread(values('pgd20_xent', late)), spread(values('fgsm_xent', late))]


def test_cifar_subset_cost_table_is_the_generated_one():
  """experiments/cost_robustness.py's table, verbatim, over every judged row; its PGD-7 row
  counts eight passes per example (seven attack steps and the update)."""
  results = os.path.join(REPO_ROOT, 'docs', 'results', 'cifar10_subset')
  generated = _markdown_tables(open(os.path.join(results, 'cost_robustness.md')).read())
  assert len(generated) == 1 and generated[0] in open(CIFAR_PAGE).read()
  rows = {cells[0]: cells for cells in _table(generated[0], '| model | steps x batch |')}
  assert set(rows) == {'natural', 'sigma20', 'alpha0.95_sigma20', 'beta10_sigma20', 'alpha0.95',
                       'fast_fgsm_rs', 'madry_adv_pgd7'}
  assert rows['madry_adv_pgd7'][2] == '1638 (204.8 epochs x 8)'


REGULARIZED_CIFAR_ROWS = ('sigma20', 'alpha0.95_sigma20', 'beta10_sigma20', 'alpha0.95')


def test_cifar_subset_masking_transfer_figures_equal_their_evidence():
  """The masking section's transfer figures: the regularized rows' range against every
  black-box attack together and under AutoAttack, the natural row's, and the strongest single
  transfer attack on sigma20 and on the natural row, each from its row's results on all 1,000."""
  text = ' '.join(open(CIFAR_PAGE).read().split())
  section = text[text.index('**Transfer beating white-box'):text.index('**Volatility across')]
  documents = {row: _results(os.path.join(CIFAR_SHIPPED, row), 'first1000')
               for row in REGULARIZED_CIFAR_ROWS + ('natural',)}
  acc = {row: _accuracies(document) for row, document in documents.items()}
  spread = lambda key: (f'{_pct(min(acc[r][key] for r in REGULARIZED_CIFAR_ROWS), 1)}-'
                        f'{_pct(max(acc[r][key] for r in REGULARIZED_CIFAR_ROWS), 1)}%')
  assert f'leaves them {spread("black-box")} against every black-box attack together' in section
  assert f'against {spread("aa_square")} under AutoAttack' in section
  assert f'the natural row {_interval(acc["natural"]["black-box"], 1000)} against' in section
  for row in ('sigma20', 'natural'):
    strongest = min((a for a in documents[row]['attacks'] if a['name'].startswith('tr_')),
                    key=lambda a: a['accuracy'])
    assert f'{_interval(strongest["accuracy"], 1000)} on ' in section, row
    assert acc[row]['black-box'] > acc[row][ANY] == acc[row]['aa_square'], row
