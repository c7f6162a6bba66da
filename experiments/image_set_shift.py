"""How far a model's numbers move between two sets of test images: for each model, every
attack measured in both of two eval.py result folders (e.g. tfds' first 1,000 MNIST test
images and the official files' first 1,000), both accuracies, their difference and a 95%
interval for it. Reads what eval.py stored; computes nothing itself.

  python -m experiments.image_set_shift \
      --models=natural=models/mnist/natural,beta2_sigma0.5=models/mnist/beta2_sigma0.5 \
      --before=eval/first1000_tfds_order --after=eval/first1000 \
      --output=docs/results/mnist_paper_budget/image_set_shift

The difference's interval (Newcombe's, from the two Wilson intervals) treats the two sets
as independent samples of the test set; two sets that share images vary less than that,
so the interval is conservative. A difference inside it is what drawing other images alone
can give. Writes image_set_shift.json and .md in --output.
"""

import os

from absl import flags

from evaluation.intervals import difference_interval
from evaluation.settings import parse_model_folders
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.atomic_io import write_text_atomic
from run_support.errors import UserError
from run_support.read_json import read_json

FLAGS = flags.FLAGS
REPORT_JSON, REPORT_MD, RESULTS_JSON = 'image_set_shift.json', 'image_set_shift.md', 'results.json'


def define_flags():
  flags.DEFINE_list('models', None, 'label=folder of each model (its eval results inside).')
  flags.DEFINE_string('before', None, 'Result folder inside each model folder: the old images.')
  flags.DEFINE_string('after', None, 'Result folder inside each model folder: the new images.')
  flags.DEFINE_string('output', None, 'Folder for image_set_shift.json and .md.')
  flags.mark_flags_as_required(['models', 'before', 'after', 'output'])


def _load(folder, subdir):
  return read_json(os.path.join(folder, subdir, RESULTS_JSON),
                   'no results in that folder: run eval.py there first')


def compare(before, after):
  """{attack: entry} for every attack in both documents, in the newer document's order.
  Refuses documents of different model states or of the same images."""
  if before['model'].get('weights_sha256') != after['model'].get('weights_sha256'):
    raise UserError(f'{before["model"]["path"]}: the two result folders measured other weights')
  if before['examples']['sha256'] == after['examples']['sha256']:
    raise UserError(f'{before["model"]["path"]}: both folders measured the same images')
  old = {a['name']: a for a in before['attacks']}
  rows = {}
  for attack in after['attacks']:
    if attack['name'] not in old:
      continue
    if old[attack['name']]['config'] != attack['config']:
      raise UserError(f'{attack["name"]} was run with other settings in the two folders')
    first, second = old[attack['name']]['correct'], attack['correct']
    c1, n1, c2, n2 = first.count('1'), len(first), second.count('1'), len(second)
    rows[attack['name']] = {'before': c1 / n1, 'n_before': n1, 'after': c2 / n2, 'n_after': n2,
                            'difference': c2 / n2 - c1 / n1,
                            'difference_interval95': list(difference_interval(c1, n1, c2, n2))}
  return rows


def markdown(report):
  lines = [f'Accuracy (%) on `{report["before"]}` -> `{report["after"]}`, the difference and '
           'its 95% interval (Newcombe\'s, for two independent samples; conservative when the '
           'sets share images).', '',
           '| model | attack | before | after | difference [95% interval] | beyond sampling? |',
           '|---|---|---|---|---|---|']
  for name, model in report['models'].items():
    for attack, r in model['attacks'].items():
      low, high = r['difference_interval95']
      beyond = 'yes' if low > 0 or high < 0 else 'no'
      lines.append(f'| {name} | {attack} | {100 * r["before"]:.1f} | {100 * r["after"]:.1f} | '
                   f'{100 * r["difference"]:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}] | '
                   f'{beyond} |')
  return '\n'.join(lines) + '\n'


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  report = {'before': FLAGS.before, 'after': FLAGS.after, 'models': {}}
  models = parse_model_folders(FLAGS.models)
  for name, folder in models.items():
    before, after = _load(folder, FLAGS.before), _load(folder, FLAGS.after)
    report['models'][name] = {
        'folder': folder, 'weights_sha256': after['model'].get('weights_sha256'),
        'images_before': before['examples'], 'images_after': after['examples'],
        'attacks': compare(before, after)}
  os.makedirs(FLAGS.output, exist_ok=True)
  write_json_atomic(os.path.join(FLAGS.output, REPORT_JSON), report)
  write_text_atomic(os.path.join(FLAGS.output, REPORT_MD), markdown(report))


if __name__ == '__main__':
  define_flags()
  cli.run(main)
