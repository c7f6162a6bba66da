"""Is it robust? For each shipped model, on the same first N test images: the paper's
white-box PGD (PGD-40 on MNIST, PGD-20 on CIFAR; xent and CW), the standard AutoAttack with the accuracy after each of its attacks, the transfer suite
(best transfer per example) and the per-example worst case, at the paper's epsilon; then
robust accuracy against epsilon under the paper's white-box attacks (that PGD, and FGSM on
CIFAR-10), AutoAttack and the strongest transfer attack.
Everything runs through eval.py's evaluate(), so results land (and are reused) in each
model's eval/ folder; rerunning resumes.

  python -m experiments.robustness_report --dataset=mnist \
      --models=natural=models/mnist/natural,alpha0.95_sigma0.3=models/mnist/alpha0.95_sigma0.3 \
      --transfer_sources=natural=models/mnist/natural,noise=models/mnist/sigma0.5 \
      --num_examples=1000 --curve_epsilons=0.1,0.2,0.4 --curve_num_examples=500 \
      --manual_dir=../shared/data/mnist --transfer_cache_dir=runs/transfer_cache \
      --output=docs/results/mnist_paper_budget

Writes robustness.json, verdict.md and robustness_vs_epsilon.png in --output.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
from absl import logging
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

from data_input.specs import get_spec
from evaluation.intervals import format_interval
from evaluation.paper_results import paper_numbers
from evaluation.paper_results import paper_pgd_names
from evaluation.plan import AUTOATTACK
from evaluation.report import ANY
from evaluation.report import source_label
from evaluation.settings import settings_for_folder
from evaluation.settings import parse_model_folders
from evaluation.settings import parse_transfer_sources
from evaluation.settings import validate
from evaluation.suites import transfer_attack_names
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.atomic_io import write_text_atomic
from run_support.errors import UserError
from run_support.read_json import read_json

FLAGS = flags.FLAGS
REPORT_JSON, VERDICT_MD, CURVES_PNG = 'robustness.json', 'verdict.md', 'robustness_vs_epsilon.png'
# The worst-case groups of a results document (evaluation/report.py) each curve follows.
CURVE_KINDS = ('white-box', AUTOATTACK, 'black-box')


def curve_labels(spec):
  """{worst-case group: legend label} of the curves; the white-box curve is the per-image
  worst of the paper's white-box attacks (spec.paper_suites), so its label names them all."""
  p = spec.paper_suites
  attacks = [f'PGD-{k}' for k in p.whitebox_steps] + (['FGSM'] if p.whitebox_fgsm else [])
  losses = ' or '.join('CW' if loss == 'cw' else loss for loss in p.whitebox_losses)
  return {'white-box': f'{", ".join(attacks)} ({losses})',
          AUTOATTACK: 'AutoAttack (standard)', 'black-box': 'strongest transfer attack'}


def define_flags():
  flags.DEFINE_string('dataset', 'mnist', 'Dataset of every model.')
  flags.DEFINE_list('models', None, 'name=folder of each model to judge (Madry TF1 or train.py).')
  flags.DEFINE_list('transfer_sources', None, 'As eval.py: name=folder[+folder...].')
  flags.DEFINE_integer('num_examples', 1000, 'The first N test images, for every number.')
  defaults = ', '.join(f'{",".join(f"{e:g}" for e in get_spec(d).curve_epsilons)} on {d}'
                       for d in ('mnist', 'cifar10'))
  flags.DEFINE_list('curve_epsilons', None, 'Epsilons besides the paper\'s for the '
                    'robustness-vs-epsilon curves, in the dataset\'s pixel units (default: '
                    f'the dataset\'s, data_input/specs.py: {defaults}).')
  flags.DEFINE_integer('curve_num_examples', None, 'The first N test images for the curves '
                       '(default --num_examples; AutoAttack at small epsilons is slow on '
                       'robust models). Their point at the paper\'s epsilon is read from the '
                       'verdict\'s per-example results on the same first N.')
  flags.DEFINE_string('manual_dir', None, 'Raw data folder (as eval.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as eval.py).')
  flags.DEFINE_string('transfer_cache_dir', None, 'As eval.py: crafted transfer examples, '
                      'reused for every model judged (and by later runs).')
  flags.DEFINE_string('output', None, 'Folder for robustness.json, verdict.md and the figure.')
  flags.DEFINE_bool('rerender', False, 'Evaluate nothing: rewrite verdict.md and the figure '
                    'from the robustness.json already in --output (with --dataset).')
  flags.mark_flags_as_required(['output'])


def _evaluate(settings):
  from evaluation.evaluate import evaluate  # pylint: disable=g-import-not-at-top  (TensorFlow)
  document, _ = evaluate(validate(settings))
  return document


def _settings(folder, num_examples=None, **kwargs):
  return settings_for_folder(folder, dataset=FLAGS.dataset,
                             num_examples=num_examples or FLAGS.num_examples,
                             manual_dir=FLAGS.manual_dir, data_dir=FLAGS.data_dir,
                             transfer_cache_dir=FLAGS.transfer_cache_dir, **kwargs)


def _worst(document, threat, first=None):
  """The per-example worst case of one threat group, on all examples or the `first` N."""
  group = next((c for c in document['worst_case'] if c['threat'] == threat), None)
  if group is None:
    return None
  return group['accuracy'] if first is None else group['correct'][:first].count('1') / first


def _curve_examples():
  return FLAGS.curve_num_examples or FLAGS.num_examples


def _attack_text(entry):
  """An eval.py --attacks entry repeating a recorded PGD attack (at the run's epsilon)."""
  c = entry['config']
  return (f"{entry['name']}:steps={c['steps']},step={c['step_size']},loss={c['loss']},"
          f"rand={c['random_start']},restarts={c['restarts']},kappa={c['kappa']},"
          f"momentum={c['momentum']},threat=black-box")


def transfer_sources_for(folder, entries):
  """The --transfer_sources entries that transfer to the model in `folder`: a source that is
  (or whose ensemble includes) the model itself would attack it white-box."""
  own = os.path.realpath(folder)
  return tuple(entry for entry, folders in zip(entries, parse_transfer_sources(entries).values())
               if own not in {os.path.realpath(f) for f in folders})


def _judge(name, folder, spec):
  """The verdict row of one model (at the paper's epsilon) and its curve point there."""
  sources = transfer_sources_for(folder, FLAGS.transfer_sources)
  suites = ('paper_whitebox', 'autoattack') + (('transfer',) if sources else ())
  document = _evaluate(_settings(folder, suites=suites, transfer_sources=sources))
  by_name = {a['name']: a for a in document['attacks']}
  transfer = [a for a in document['attacks'] if a['threat'] == 'black-box']
  row = {'clean': document['clean_acc'],
         **{pgd: by_name[pgd]['accuracy'] for pgd in paper_pgd_names(spec)},
         'autoattack_after': document['autoattack']['robust_after'],
         'transfer_sources': list(sources), 'best_transfer': _worst(document, 'black-box'),
         'strongest_transfer': None, 'strongest_transfer_attack': None,
         'strongest_transfer_source': None,
         'transfer': {a['name']: a['accuracy'] for a in transfer},
         'worst_case': _worst(document, ANY),
         'warnings': document['warnings'], 'model': document['model'],
         'examples': document['examples']}
  if transfer:
    strongest = min(transfer, key=lambda a: a['accuracy'])
    row.update(strongest_transfer=strongest['name'],
               strongest_transfer_attack=_attack_text(strongest),
               strongest_transfer_source=source_label(strongest['config']['source']))
  logging.info('%s: %s', name, row)
  n = _curve_examples()
  first = lambda entry: entry['correct'][:n].count('1') / n
  at_paper_eps = {kind: _worst(document, kind, n) for kind in CURVE_KINDS}
  # The transfer curve follows the one strongest attack at every epsilon (re-crafted there).
  at_paper_eps['black-box'] = first(by_name[row['strongest_transfer']]) if transfer else None
  curve = {'0': {kind: first(document['attacks'][0]) for kind in CURVE_KINDS},  # clean
           str(spec.paper_attack.epsilon): at_paper_eps}
  return row, curve


def _curve_point(folder, verdict, eps):
  """The paper's white-box attacks, AutoAttack and the model's strongest transfer attack
  (re-crafted) at eps."""
  transfer = {}
  if verdict['strongest_transfer']:
    transfer = dict(blackbox_source=verdict['strongest_transfer_source'],
                    attacks=(verdict['strongest_transfer_attack'],))
  doc = _evaluate(_settings(folder, _curve_examples(), suites=('paper_whitebox', 'autoattack'),
                            epsilon=eps, **transfer))
  return {kind: _worst(doc, kind) for kind in CURVE_KINDS}


FIGURE_COLUMNS = 4  # panels per row: nine models stay readable on a page


def _figure(report, spec, path):
  names = list(report['models'])
  cols = min(FIGURE_COLUMNS, len(names))
  rows = -(-len(names) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols + 1, 3.1 * rows + 0.3), sharex=True,
                           sharey=True, squeeze=False)
  for ax in axes.flat[len(names):]:
    ax.set_visible(False)
  for ax, name in zip(axes.flat, names):
    model = report['models'][name]
    points = sorted((float(e), v) for e, v in model['curve'].items())
    for kind, label in curve_labels(spec).items():
      xs = [e for e, v in points if v[kind] is not None]
      ys = [100 * v[kind] for _, v in points if v[kind] is not None]
      if len(xs) > 1:  # a model with no transfer source has no transfer curve
        ax.plot(xs, ys, marker='o', label=label)
    ax.axvline(spec.paper_attack.epsilon, color='grey', lw=0.8, ls=':')
    ax.set_title(name, fontsize=9)
    ax.set_xlabel(f'epsilon (L-infinity, {"[0, 255]" if spec.pixel_max == 255 else "[0, 1]"} pixels)')
    ax.xaxis.set_tick_params(labelbottom=True)
    ax.grid(alpha=0.3)
  for row in axes:
    row[0].set_ylabel(f'robust accuracy (%),\nfirst {report["curve_num_examples"]} test images')
  _legend(fig, axes.flat[:len(names)], axes.flat[len(names):])
  fig.savefig(path, dpi=110)
  plt.close(fig)


def _legend(fig, used, spare):
  """One legend for every panel, off the curves: in the first spare panel, or under the grid."""
  entries = {}
  for ax in used:
    for handle, label in zip(*ax.get_legend_handles_labels()):
      entries.setdefault(label, handle)
  if len(spare):
    spare[0].set_visible(True)
    spare[0].axis('off')
    spare[0].legend(entries.values(), entries.keys(), loc='center', fontsize=9)
    fig.tight_layout()
  else:
    fig.legend(entries.values(), entries.keys(), loc='lower center', ncol=len(entries), fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 1))


def _verdict_markdown(report, paper, spec):
  """verdict.md: the verdict table, every transfer attack, and the curves' points."""
  return '\n'.join([_verdict_table(report, paper, spec), _transfer_table(report),
                    _curve_table(report, spec)])


def _verdict_table(report, paper, spec):
  n = report['num_examples']
  pct = lambda v: '-' if v is None else format_interval(round(v * n), n)
  xent, cw = paper_pgd_names(spec)
  pgd = f'PGD-{spec.paper_attack.steps}'
  lines = [f'On the first {n} test images, eps {spec.paper_attack.epsilon:g}; every accuracy '
           'with its 95% Wilson interval for its n; the paper\'s column as it reports it. '
           'Transfer counts an image only if it survives every black-box attack (the paper\'s '
           'black-box table and the transfer suite); in brackets the one attack that leaves '
           'the least alone.',
           '',
           f'| model | clean | paper {pgd} xent / CW | our {pgd} xent / CW | AutoAttack: after '
           'APGD-CE / APGD-T / FAB-T / Square | transfer, every attack per image (strongest '
           'alone) | worst case |',
           '|---|---|---|---|---|---|---|']
  for name, model in report['models'].items():
    v = model['verdict']
    p = paper['rows'].get(name)
    paper_cell = f'{p[xent]:.1f} / {p[cw]:.1f}' if p else '-'
    chain = ' / '.join(pct(x) for x in v['autoattack_after'].values())
    transfer = (f'{pct(v["best_transfer"])} ({v["strongest_transfer"]})'
                if v['strongest_transfer'] else '- (no source other than itself)')
    lines.append(f'| {name} | {pct(v["clean"])} | {paper_cell} | {pct(v[xent])} / '
                 f'{pct(v[cw])} | {chain} | {transfer} | **{pct(v["worst_case"])}** |')
  return '\n'.join(lines) + '\n'


def _transfer_table(report):
  """Every transfer attack on every model, one row per (model, source); the columns are the
  transfer suite's attacks (evaluation/suites.py, their one home)."""
  n = report['num_examples']
  attacks = transfer_attack_names()
  lines = [f'Every transfer attack, robust accuracy on the same {n} images (crafted on the '
           'source, scored on the model):', '',
           '| model | source | ' + ' | '.join(attacks) + ' |',
           '|---|---|' + '---|' * len(attacks)]
  for name, model in report['models'].items():
    scores = model['verdict']['transfer']
    for entry in model['verdict']['transfer_sources']:
      source = entry.partition('=')[0]
      cells = [scores.get(f'tr_{source}_{a}') for a in attacks]
      lines.append(f'| {name} | {source} | ' + ' | '.join(
          '-' if c is None else format_interval(round(c * n), n) for c in cells) + ' |')
  return '\n'.join(lines) + '\n'


def _curve_table(report, spec):
  """The curves' points away from eps 0 (clean), one row per (model, epsilon)."""
  n = report['curve_num_examples']
  labels = curve_labels(spec)
  lines = [f'Robust accuracy against epsilon, first {n} test images (the points of '
           f'{CURVES_PNG}; the eps {spec.paper_attack.epsilon:g} points are the verdict\'s '
           'per-example results on these images):', '',
           '| model | epsilon | ' + ' | '.join(labels.values()) + ' |',
           '|---|---|' + '---|' * len(labels)]
  for name, model in report['models'].items():
    for eps, point in sorted(((float(e), v) for e, v in model['curve'].items() if float(e) > 0)):
      cells = ['-' if point[k] is None else format_interval(round(point[k] * n), n)
               for k in labels]
      lines.append(f'| {name} | {eps:g} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines) + '\n'


def _write_outputs(report, spec):
  # Models in name order, as robustness.json stores them: a run and its --rerender agree.
  report = dict(report, models=dict(sorted(report['models'].items())))
  write_text_atomic(os.path.join(FLAGS.output, VERDICT_MD),
                    _verdict_markdown(report, paper_numbers(spec), spec))
  _figure(report, spec, os.path.join(FLAGS.output, CURVES_PNG))


def _rerender(spec):
  path = os.path.join(FLAGS.output, REPORT_JSON)
  report = read_json(path, '--rerender rewrites what a run of this script wrote there')
  if report.get('dataset') != spec.name:
    raise UserError(f'{path} is a {report.get("dataset")} report; pass --dataset='
                    f'{report.get("dataset")}')
  _write_outputs(report, spec)


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  spec = get_spec(FLAGS.dataset)
  if FLAGS.rerender:
    return _rerender(spec)
  if not FLAGS.models or not FLAGS.transfer_sources:
    raise UserError('--models and --transfer_sources are required (unless --rerender)')
  models = parse_model_folders(FLAGS.models)
  parse_transfer_sources(FLAGS.transfer_sources)
  try:
    epsilons = ([float(e) for e in FLAGS.curve_epsilons] if FLAGS.curve_epsilons is not None
                else list(spec.curve_epsilons))
  except ValueError:
    raise UserError(f'--curve_epsilons must be numbers, got {FLAGS.curve_epsilons}') from None
  if any(not 0 < e < spec.pixel_max for e in epsilons):
    raise UserError(f'--curve_epsilons must lie in (0, {spec.pixel_max:g})')
  os.makedirs(FLAGS.output, exist_ok=True)
  if not 0 < _curve_examples() <= FLAGS.num_examples:
    raise UserError(f'--curve_num_examples must lie in (0, --num_examples={FLAGS.num_examples}]')
  report = {'dataset': spec.name, 'num_examples': FLAGS.num_examples,
            'curve_num_examples': _curve_examples(),
            'paper_epsilon': spec.paper_attack.epsilon,
            'transfer_sources': FLAGS.transfer_sources, 'models': {}}
  report_path = os.path.join(FLAGS.output, REPORT_JSON)
  # Every model's verdict first (the table), then the costlier curves at the other epsilons.
  for name, folder in models.items():
    verdict, curve = _judge(name, folder, spec)
    report['models'][name] = {'folder': folder, 'verdict': verdict, 'curve': curve}
    write_json_atomic(report_path, report)
  _write_outputs(report, spec)  # rewritten after every curve point: a cut-off run shows its part
  for eps in epsilons:
    for name, folder in models.items():
      model = report['models'][name]
      model['curve'][str(eps)] = _curve_point(folder, model['verdict'], eps)
      write_json_atomic(report_path, report)
      _write_outputs(report, spec)


if __name__ == '__main__':
  define_flags()
  cli.run(main)
