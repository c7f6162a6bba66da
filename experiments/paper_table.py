"""The paper's numbers beside ours: for each model, the paper's row of the same name
(configs/paper_results/<the dataset's file>) next to what eval.py stored for the model, each
of ours with its 95% Wilson interval. The main table holds the paper's columns (train
accuracy from the run's final_metrics.json, the rest from results.json by attack name);
each further table of the paper's file (e.g. CIFAR's Table 4, crafted on another source
than ours) follows with the source of ours named, as each attack recorded it. Reads stored
results; computes nothing, and refuses results measured on other images than the first
model's.

  python -m experiments.paper_table --dataset=cifar10 \
      --models=natural=models/cifar10_subset/natural,beta10_sigma20=models/cifar10_subset/beta10_sigma20 \
      --results_subdir=eval/first1000 --output=docs/results/cifar10_subset

Writes paper_table.md and paper_table.json in --output.
"""

import os

from absl import flags

from data_input.specs import get_spec
from evaluation.intervals import format_interval
from evaluation.paper_results import paper_numbers
from evaluation.report import source_label
from evaluation.same_images import check_same_images
from evaluation.settings import parse_model_folders
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.atomic_io import write_text_atomic
from run_support.errors import UserError
from run_support.read_json import read_json

FLAGS = flags.FLAGS
REPORT_JSON, REPORT_MD = 'paper_table.json', 'paper_table.md'
TRAIN = 'train'  # the paper's train-accuracy column, ours from final_metrics.json


def define_flags():
  flags.DEFINE_string('dataset', 'cifar10', 'Dataset of every model (names the paper\'s file).')
  flags.DEFINE_list('models', None, 'name=folder of each model; a name that is a row of the '
                    'paper\'s file is set beside it.')
  flags.DEFINE_string('results_subdir', 'eval/first1000', 'Where in each folder eval.py wrote '
                      'the results to read.')
  flags.DEFINE_string('output', None, 'Folder for paper_table.md and paper_table.json.')
  flags.mark_flags_as_required(['models', 'output'])


def our_numbers(name, folder, subdir):
  """{column: (correct, n)} of one model: clean and every stored attack, and the train
  accuracy its run recorded; plus what identifies them."""
  results_path = os.path.join(folder, subdir, 'results.json')
  results = read_json(results_path, 'run eval.py on this model first')
  metrics = read_json(os.path.join(folder, 'final_metrics.json'),
                       'train.py writes it at the end of a run')
  if results['model'].get('global_step') not in (None, metrics['global_step']):
    raise UserError(f'{results_path} measured step {results["model"]["global_step"]}, but '
                    f'{folder} holds step {metrics["global_step"]}')
  numbers = {a['name']: (a['correct'].count('1'), len(a['correct'])) for a in results['attacks']}
  # Each black-box attack's own record of its source, whichever of the file's runs measured it.
  sources = {a['name']: source_label(a['config']['source']) for a in results['attacks']
             if a['config'].get('source')}
  if 'train_accuracy' in metrics:
    n = metrics['train_examples']
    numbers[TRAIN] = (round(metrics['train_accuracy'] * n), n)
  return {'name': name, 'folder': folder, 'results': results_path,
          'dataset': results['model'].get('dataset'),
          'examples': results['examples'], 'step': metrics['global_step'],
          'sources': sources,
          'numbers': {k: list(v) for k, v in numbers.items()}}


def _ours(model, column):
  found = model['numbers'].get(column)
  return '-' if found is None else format_interval(*found)


def _paper(value):
  return '-' if value is None else f'{value:.2f}%'


def main_table(paper, models):
  columns = paper['columns']
  lines = ['| model | steps: paper / ours | ' + ' | '.join(
               f'{c}: paper / ours' for c in columns) + ' |',
           '|---|---|' + '---|' * len(columns)]
  for model in models:
    row = paper['rows'].get(model['name'], {})
    k = f'{row["k"]:,}' if 'k' in row else '-'
    lines.append(f'| {model["name"]} | {k} / {model["step"]:,} | ' + ' | '.join(
        f'{_paper(row.get(c))} / {_ours(model, c)}' for c in columns) + ' |')
  return '\n'.join(lines) + '\n'


def extra_tables(paper, models):
  """Each further table of the paper's file: (its key, Markdown)."""
  out = []
  for key, table in paper.items():
    if key == 'rows' or not isinstance(table, dict) or 'columns' not in table:
      continue
    columns = table['columns']
    lines = ['| model | source of ours | ' + ' | '.join(
                 f'{c}: paper / ours' for c in columns) + ' |',
             '|---|---|' + '---|' * len(columns)]
    for model in models:
      values = table['rows'].get(model['name'], [None] * len(columns))
      sources = sorted({model['sources'][c] for c in columns if c in model['sources']})
      lines.append(f'| {model["name"]} | {", ".join(sources) or "-"} | ' + ' | '.join(
          f'{_paper(v)} / {_ours(model, c)}' for v, c in zip(values, columns)) + ' |')
    out.append((key, '\n'.join(lines) + '\n'))
  return out


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  spec = get_spec(FLAGS.dataset)
  paper = paper_numbers(spec)
  if not paper['rows']:
    raise UserError(f'the project has no paper table for {spec.name}')
  folders = parse_model_folders(FLAGS.models)
  models = [our_numbers(name, folder, FLAGS.results_subdir) for name, folder in folders.items()]
  for model in models:
    if model['dataset'] != spec.name:
      raise UserError(f'{model["folder"]} is a {model["dataset"]} model, not {spec.name}')
  check_same_images(models)
  examples = models[0]['examples']
  caption = (f'The paper\'s numbers (`configs/paper_results/{spec.paper_suites.results_file}`) '
             f'beside ours on the {examples["which"]} of {examples["source"]} (SHA-256 '
             f'{examples["sha256"][:12]}...); ours with their 95% Wilson intervals; train '
             'accuracy on the images each run trained on.')
  if examples.get('partial_split'):
    caption += (' **PROXY: a partial split, not the paper\'s scale; the two numbers in a '
                'cell are not comparable.**')
  parts = [caption, '', main_table(paper, models)]
  for key, table in extra_tables(paper, models):
    parts += [f'`{key}`:', '', table]
  os.makedirs(FLAGS.output, exist_ok=True)
  write_json_atomic(os.path.join(FLAGS.output, REPORT_JSON),
                    {'dataset': spec.name, 'paper': paper, 'models': models})
  write_text_atomic(os.path.join(FLAGS.output, REPORT_MD), '\n'.join(parts))


if __name__ == '__main__':
  define_flags()
  cli.run(main)
