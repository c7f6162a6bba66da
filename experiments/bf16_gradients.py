"""Do bfloat16 gradients find adversarial examples as well as float32 ones? For each model,
the paper's PGD-40 (xent and CW) on the first N test images with gradients from the float32
model and from its mixed_bfloat16 copy (same weights, same random starts), each under the
paper's final-iterate protocol and with early stopping; every x_adv is scored on the
float32 model. As a yardstick for the differences, float32 once more with other random
starts (--seed=1, final iterate). The evidence `--attack_precision=bfloat16` (eval.py) and
bfloat16 adversarial training (train.py) rest on. Reruns reuse finished evaluations.

  python -m experiments.bf16_gradients \
      --models=natural=models/mnist/natural,alpha0.95_sigma0.3=models/mnist/alpha0.95_sigma0.3 \
      --num_examples=1000 --manual_dir=../shared/data/mnist --output=docs/results/bf16_gradients

Writes bf16_gradients.json and bf16_gradients.md in --output; each evaluation's own
results.json lands in --output/<model>/<precision>_<protocol>/.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
import numpy as np

from evaluation.settings import parse_model_folders
from evaluation.settings import settings_for_folder
from evaluation.settings import validate
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.atomic_io import write_text_atomic
from run_support.errors import UserError
from run_support.precisions import PRECISIONS

FLAGS = flags.FLAGS
REPORT_JSON, REPORT_MD = 'bf16_gradients.json', 'bf16_gradients.md'
PROTOCOLS = {'final': False, 'early_stop': True}  # name: eval.py --early_stop
ATTACKS = ('pgd40_xent', 'pgd40_cw')


def define_flags():
  flags.DEFINE_list('models', None, 'name=folder of each model (Madry TF1 or train.py).')
  flags.DEFINE_string('dataset', 'mnist', 'Dataset of every model.')
  flags.DEFINE_integer('num_examples', 1000, 'The first N test images.')
  flags.DEFINE_string('manual_dir', None, 'Raw data folder (as eval.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as eval.py).')
  flags.DEFINE_string('output', None, 'Folder for the report and the evaluations.')
  flags.mark_flags_as_required(['models', 'output'])


def _robust(folder, out, precision, early_stop, seed=0):
  """{attack: bool array of examples still classified correctly}."""
  from evaluation.evaluate import evaluate  # pylint: disable=g-import-not-at-top  (TensorFlow)
  settings = settings_for_folder(folder, dataset=FLAGS.dataset, num_examples=FLAGS.num_examples,
                                 manual_dir=FLAGS.manual_dir, data_dir=FLAGS.data_dir,
                                 suites=('paper_whitebox',), attack_precision=precision,
                                 early_stop=early_stop, seed=seed, output_dir=out)
  document, _ = evaluate(validate(settings))
  by_name = {a['name']: a for a in document['attacks']}
  return {name: np.array([c == '1' for c in by_name[name]['correct']]) for name in ATTACKS}


def _markdown(report):
  lines = ['| model | attack | protocol | float32 | bfloat16 | bfloat16 - float32 | broken by '
           'float32 only / bfloat16 only | float32, other random starts |',
           '|---|---|---|---|---|---|---|---|']
  for name, rows in report['models'].items():
    for row in rows:
      lines.append(f'| {name} | {row["attack"]} | {row["protocol"]} | '
                   f'{100 * row["float32"]:.1f} | {100 * row["bfloat16"]:.1f} | '
                   f'{100 * (row["bfloat16"] - row["float32"]):+.1f} | '
                   f'{row["broken_by_float32_only"]} / {row["broken_by_bfloat16_only"]} | '
                   + ('-' if row['float32_seed1'] is None else f'{100 * row["float32_seed1"]:.1f}')
                   + ' |')
  return '\n'.join(lines) + '\n'


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  models = parse_model_folders(FLAGS.models)
  report = {'dataset': FLAGS.dataset, 'num_examples': FLAGS.num_examples,
            'scored_on': 'the float32 model', 'models': {}}
  for name, folder in models.items():
    rows = []
    for protocol, early_stop in PROTOCOLS.items():
      robust = {p: _robust(folder, os.path.join(FLAGS.output, name, f'{p}_{protocol}'), p,
                           early_stop) for p in PRECISIONS}
      other_seed = None if early_stop else _robust(
          folder, os.path.join(FLAGS.output, name, f'float32_{protocol}_seed1'), 'float32',
          early_stop, seed=1)
      for attack in ATTACKS:
        fp32, bf16 = robust['float32'][attack], robust['bfloat16'][attack]
        rows.append({'attack': attack, 'protocol': protocol, 'float32': float(fp32.mean()),
                     'bfloat16': float(bf16.mean()),
                     'broken_by_float32_only': int(np.sum(~fp32 & bf16)),
                     'broken_by_bfloat16_only': int(np.sum(fp32 & ~bf16)),
                     'float32_seed1': None if other_seed is None else float(
                         other_seed[attack].mean())})
    report['models'][name] = rows
    write_json_atomic(os.path.join(FLAGS.output, REPORT_JSON), report)
  write_text_atomic(os.path.join(FLAGS.output, REPORT_MD), _markdown(report))


if __name__ == '__main__':
  define_flags()
  cli.run(main)
