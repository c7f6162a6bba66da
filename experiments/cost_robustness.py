"""What robustness costs: for each trained model of one dataset, its training cost
(forward-backward passes per training image, and the wall time its run recorded) against its
accuracy under the standard AutoAttack and the paper's white-box PGD (PGD-40 on MNIST,
PGD-20 on CIFAR; xent and CW) on the same test images, each with its 95% interval. Reads
what eval.py stored; computes nothing itself, and refuses results measured on other images
than the first model's, or models of another dataset.

  python -m experiments.cost_robustness \
      --models=natural=models/mnist/natural,fast_fgsm_rs=models/mnist/fast_fgsm_rs \
      --results_subdir=eval/first1000 --output=docs/results/mnist_adversarial_training

Each model folder holds final_metrics.json (train.py's, kept by ship_model) and
<results_subdir>/results.json from
  python eval.py --madry_ckpt_dir=<folder> --dataset=mnist --suite=paper_whitebox,autoattack \
      --num_examples=1000 --manual_dir=../shared/data/mnist
Writes cost_robustness.json, cost_robustness.md and cost_robustness.png in --output.
"""

import dataclasses
import os

from absl import flags
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

from data_input.specs import get_spec
from evaluation.intervals import format_interval
from evaluation.intervals import wilson_interval
from evaluation.same_images import check_same_images
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.atomic_io import write_text_atomic
from run_support.errors import UserError
from run_support.read_json import read_json
from training.config import TrainConfig

FLAGS = flags.FLAGS
REPORT_JSON, REPORT_MD, FIGURE_PNG = 'cost_robustness.json', 'cost_robustness.md', 'cost_robustness.png'
FINAL_METRICS, RESULTS_JSON = 'final_metrics.json', 'results.json'


def measures(spec):
  """The accuracies read from results.json: (key in the report, attack name or None for
  AutoAttack's final robust accuracy, label); the PGD is the paper's white-box one."""
  k = spec.paper_attack.steps
  return (('autoattack', None, 'AutoAttack (standard)'),
          (f'pgd{k}_xent', f'pgd{k}_xent', f'PGD-{k} xent'),
          (f'pgd{k}_cw', f'pgd{k}_cw', f'PGD-{k} CW'))


def define_flags():
  flags.DEFINE_list('models', None, 'label=folder of each trained model (final_metrics.json '
                    'and its evaluation inside).')
  flags.DEFINE_string('results_subdir', 'eval/first1000', 'Where in each folder eval.py '
                      'wrote the results to read.')
  flags.DEFINE_string('output', None, 'Folder for the table, JSON and figure.')
  flags.DEFINE_string('title', None, 'The figure\'s title (default: the dataset\'s name); '
                      'say PROXY there for a study at a scale not the paper\'s.')
  flags.mark_flags_as_required(['models', 'output'])


def training_cost(final_metrics):
  """Steps, passes per training image and recorded wall time of a train.py run."""
  fields = {f.name for f in dataclasses.fields(TrainConfig)}
  saved = final_metrics['config']
  config = TrainConfig(**{k: v for k, v in saved.items() if k in fields})
  images = final_metrics['train_examples']
  epochs = final_metrics['global_step'] * config.batch_size / images
  per_step = config.passes_per_example()
  return {'steps': final_metrics['global_step'], 'batch_size': config.batch_size,
          'train_examples': images, 'epochs': epochs, 'passes_per_example_step': per_step,
          'passes_per_training_image': epochs * per_step, 'precision': config.precision,
          'train_seconds': final_metrics['train_seconds']}


def _accuracy(results, attack_name):
  """(correct, n) of one attack, or of AutoAttack's final robust accuracy (None)."""
  n = results['n_examples']
  if attack_name is None:
    if 'autoattack_acc' not in results:
      return None
    return round(results['autoattack_acc'] * n), n
  for entry in results['attacks']:
    if entry['name'] == attack_name:
      return entry['correct'].count('1'), len(entry['correct'])
  return None


def model_row(label, folder, subdir):
  """The report's row of one model: cost, model state and its accuracies with intervals."""
  metrics = read_json(os.path.join(folder, FINAL_METRICS), 'train.py writes it at the end '
                       'of a run')
  results_path = os.path.join(folder, subdir, RESULTS_JSON)
  results = read_json(results_path, 'run eval.py on this model first (see --help)')
  if results['model'].get('global_step') not in (None, metrics['global_step']):
    raise UserError(f'{results_path} measured step {results["model"]["global_step"]}, but '
                    f'{folder} holds step {metrics["global_step"]}')
  dataset = metrics['config']['dataset']
  row = {'label': label, 'folder': folder, 'results': results_path, 'dataset': dataset,
         'model': results['model'], 'examples': results['examples'],
         'cost': training_cost(metrics)}
  correct, n = round(results['clean_acc'] * results['n_examples']), results['n_examples']
  row['clean'] = {'correct': correct, 'n': n}
  for key, attack_name, _ in measures(get_spec(dataset)):
    found = _accuracy(results, attack_name)
    if found is None:
      raise UserError(f'{results_path} has no {key} result: evaluate with '
                      '--suite=paper_whitebox,autoattack')
    row[key] = {'correct': found[0], 'n': found[1]}
  for entry in [row['clean']] + [row[key] for key, _, _ in measures(get_spec(dataset))]:
    entry['accuracy'] = entry['correct'] / entry['n']
    entry['interval95'] = list(wilson_interval(entry['correct'], entry['n']))
  return row


def markdown_table(rows, spec):
  examples = rows[0]['examples']
  _, xent, cw = measures(spec)
  lines = [f'On the {examples["which"]} of {examples["source"]} (SHA-256 '
           f'{examples["sha256"][:12]}...), eps {spec.epsilon_label(spec.paper_attack.epsilon)}; '
           '95% Wilson intervals.', '',
           '| model | steps x batch | passes per training image | recorded training wall time '
           f'| clean | {xent[2]} | {cw[2]} | AutoAttack |', '|---|---|---|---|---|---|---|---|']
  for row in rows:
    cost = row['cost']
    cells = [format_interval(row[k]['correct'], row[k]['n'])
             for k in ('clean', xent[0], cw[0], 'autoattack')]
    lines.append(f'| {row["label"]} | {cost["steps"]:,} x {cost["batch_size"]} | '
                 f'{cost["passes_per_training_image"]:.0f} ({cost["epochs"]:.1f} epochs x '
                 f'{cost["passes_per_example_step"]}) | {cost["train_seconds"] / 3600:.2f} h '
                 f'({cost["precision"]}) | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines) + '\n'


def figure(rows, spec, title, path):
  """Accuracy against passes per training image (log x): AutoAttack filled, the paper's PGD
  (the better of xent and CW for the attacker, i.e. the lower) hollow, with 95% intervals."""
  _, xent, cw = measures(spec)
  fig, ax = plt.subplots(figsize=(7.5, 4.6))
  costs = [round(row['cost']['passes_per_training_image'], 6) for row in rows]
  for i, row in enumerate(rows):
    # Models of equal cost side by side (a few percent apart on the log axis), not on top.
    same = [j for j, c in enumerate(costs) if c == costs[i]]
    x = costs[i] * 1.035 ** (same.index(i) - (len(same) - 1) / 2)
    color = f'C{i % 10}'
    pgd = min((row[xent[0]], row[cw[0]]), key=lambda e: e['accuracy'])
    for entry, marker, face in ((row['autoattack'], 'o', color), (pgd, 's', 'none')):
      low, high = entry['interval95']
      y = 100 * entry['accuracy']
      ax.errorbar([x], [y], yerr=[[max(0.0, y - 100 * low)], [max(0.0, 100 * high - y)]], fmt=marker, color=color,
                  mfc=face, capsize=3, label=row['label'] if marker == 'o' else None)
  ax.set_xscale('log')
  ticks = [t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
           if min(costs) / 2 <= t <= max(costs) * 2]
  ax.set_xticks(ticks, [str(t) for t in ticks])
  ax.minorticks_off()
  ax.set_xlabel('training cost: forward-backward passes per training image (log; equal costs '
                'side by side)')
  ax.set_ylabel(f'robust accuracy at eps {spec.epsilon_label(spec.paper_attack.epsilon)} (%)')
  ax.set_title(f'{title}: robustness against training cost\n(filled: AutoAttack; hollow: '
               f'PGD-{spec.paper_attack.steps}, the lower of xent and CW)', fontsize=10)
  ax.set_ylim(-3, 103)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8, loc='center left', bbox_to_anchor=(1.0, 0.5))
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  rows = []
  for item in FLAGS.models:
    label, sep, folder = item.partition('=')
    if not sep or not label or not folder:
      raise UserError(f'--models: expected label=folder, got {item!r}')
    rows.append(model_row(label, folder, FLAGS.results_subdir))
  check_same_images(rows)
  spec = get_spec(rows[0]['dataset'])
  os.makedirs(FLAGS.output, exist_ok=True)
  write_json_atomic(os.path.join(FLAGS.output, REPORT_JSON),
                    {'results_subdir': FLAGS.results_subdir, 'dataset': spec.name, 'rows': rows})
  write_text_atomic(os.path.join(FLAGS.output, REPORT_MD), markdown_table(rows, spec))
  figure(rows, spec, FLAGS.title or spec.name.upper(), os.path.join(FLAGS.output, FIGURE_PNG))


if __name__ == '__main__':
  define_flags()
  cli.run(main)
