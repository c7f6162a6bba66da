"""Learning curves: clean, the paper's white-box PGD (PGD-40 on MNIST, PGD-20 on CIFAR; xent)
and FGSM (xent, no random start) accuracy on the first N test images at every saved
checkpoint of one or more training runs, as JSON and one figure per metric with every run
on it. FGSM rising while PGD collapses is the sign of catastrophic overfitting (Wong et al.
2020). A checkpoint is measured again only when its weights differ from those its stored
point measured. Each point records its seconds and the machine it was measured on.

  python -m experiments.learning_curves --run_dirs=runs/mnist_paper/natural,runs/mnist_paper/sigma0.5 \
      --every=10000 --num_examples=1000 --manual_dir=../shared/data/mnist \
      --output=docs/results/mnist_paper_budget
"""

import json
import os
import re
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
from absl import logging
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import tensorflow as tf

from attacks import PGDConfig
from attacks import config_record
from attacks import fgsm
from data_input import loader
from data_input.specs import get_spec
from evaluation.accuracy import clean_accuracy
from evaluation.accuracy import make_predict_fn
from evaluation.model_io import run_config
from evaluation.model_io import weights_sha256
from evaluation.plan import planned
from evaluation.runner import attack_result
from evaluation.same_images import describe_images
from evaluation.same_images import same_images
from madry_compat import build_model
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.errors import UserError
from run_support.machine import machine_record
from run_support.run_files import CHECKPOINT_SUBDIR

FLAGS = flags.FLAGS

CURVES_JSON = 'learning_curves.json'


def _checkpoints(run_dir, every):
  """{step: checkpoint prefix} of the run's saved checkpoints at multiples of `every`."""
  folder = os.path.join(run_dir, CHECKPOINT_SUBDIR)
  found = {}
  for name in os.listdir(folder) if os.path.isdir(folder) else []:
    match = re.fullmatch(r'ckpt-(\d+)\.index', name)
    if match and int(match.group(1)) % every == 0:
      found[int(match.group(1))] = os.path.join(folder, name[:-len('.index')])
  return dict(sorted(found.items()))


def _paper_pgd(spec):
  """The paper's white-box PGD on xent (random start), at the dataset's budget."""
  budget = spec.paper_attack
  return PGDConfig(name=f'pgd{budget.steps}_xent', epsilon=budget.epsilon,
                   step_size=budget.step_size, steps=budget.steps)


def _attacks(spec):
  """The curves' attacks: the paper's PGD and FGSM, both on xent at its epsilon."""
  return (_paper_pgd(spec), fgsm('fgsm_xent', spec.paper_attack.epsilon))


def _measure(model, test, spec, n):
  """Clean, PGD and FGSM accuracy of the model as restored, and the hash of its weights."""
  predict = make_predict_fn(model)
  point = {'clean': clean_accuracy(predict, test, spec, 200, n)[0]}
  for config in _attacks(spec):
    point[config.name] = attack_result(predict, model, planned(config, 'white-box', spec),
                                       None, test, spec, n, 200, seed=0).accuracy
  point['weights_sha256'] = weights_sha256(model)
  return point


def _check_same_images(document, examples, path):
  """Records which images the curves measure; refuses to add points measured on other
  images (another count, order or data source) to those already in the document."""
  recorded = document.get('examples')
  if any(document['runs'].values()) and not same_images(recorded, examples):
    raise UserError(f'{path} holds points measured on {describe_images(recorded)}, not on the '
                    f'{describe_images(examples)}; give another --output')
  document['examples'] = examples


def _figure(curves, metric, title, path):
  """One line per run over its points that have `metric` (older points have no FGSM)."""
  fig, ax = plt.subplots(figsize=(7, 4.2))
  for label, points in curves.items():
    steps = sorted(int(s) for s in points if metric in points[s])
    if not steps:
      continue
    ax.plot([s / 1000 for s in steps], [100 * points[str(s)][metric] for s in steps],
            marker='o', label=label)
  ax.set_xlabel('training steps (thousands)')
  ax.set_ylabel('accuracy (%)')
  ax.set_title(title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def define_curve_flags():
  flags.DEFINE_list('run_dirs', [], 'train.py folders whose checkpoints to measure.')
  flags.DEFINE_integer('every', 10000, 'Measure checkpoints whose step is a multiple of this.')
  flags.DEFINE_integer('num_examples', 1000, 'First N test images.')
  flags.DEFINE_string('manual_dir', None, 'Raw data folder (as train.py / eval.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as train.py / eval.py).')
  flags.DEFINE_string('output', None, 'Folder for learning_curves.json and the figures.')
  flags.mark_flags_as_required(['output'])


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not FLAGS.run_dirs:
    raise UserError('--run_dirs: give at least one train.py folder')
  os.makedirs(FLAGS.output, exist_ok=True)
  path = os.path.join(FLAGS.output, CURVES_JSON)
  document = json.load(open(path)) if os.path.isfile(path) else {'runs': {}}
  document['num_examples'] = FLAGS.num_examples
  if not isinstance(document.get('every'), dict):  # older documents: one spacing for all
    document['every'] = {label: document.get('every') for label in document['runs']}
  for run_dir in FLAGS.run_dirs:
    config = run_config(run_dir)
    spec = get_spec(config['dataset'])
    label = os.path.basename(os.path.normpath(run_dir))
    checkpoints = _checkpoints(run_dir, FLAGS.every)
    if not checkpoints:  # a run shorter than --every: no curve, rather than an empty one
      logging.warning('%s: no checkpoint at a multiple of %d steps, left out', label,
                      FLAGS.every)
      continue
    points = document['runs'].setdefault(label, {})
    document['every'][label] = FLAGS.every
    # Points that name their weights are checked against the checkpoint (a run restarted
    # elsewhere has other weights at the same step); older points are kept as they are.
    todo = {step: prefix for step, prefix in checkpoints.items()
            if str(step) not in points or 'weights_sha256' in points[str(step)]}
    if not todo:  # every point measured before: no data or model to load
      continue
    test = loader.load_split(spec.name, 'test', FLAGS.data_dir, FLAGS.manual_dir)
    _check_same_images(document, test.describe(FLAGS.num_examples), path)
    document['attack_configs'] = [config_record(c) for c in _attacks(spec)]
    document['attack'] = (f'PGD-{spec.paper_attack.steps} xent, the paper budget, random start, '
                          'seed 0')
    model = build_model(spec.name, config['depth'], config['width'], config['weight_decay'],
                        spec.num_classes)
    for step, prefix in todo.items():
      tf.train.Checkpoint(model=model).restore(prefix).expect_partial()
      if points.get(str(step), {}).get('weights_sha256') == weights_sha256(model):
        continue
      start = time.perf_counter()
      point = _measure(model, test, spec, FLAGS.num_examples)
      seconds = round(time.perf_counter() - start, 1)
      logging.info('%s step %d: %s (%.0f s)', label, step, point, seconds)
      # how long the point took and where, as every results file records its timings
      points[str(step)] = dict(point, seconds=seconds, machine=machine_record())
      write_json_atomic(path, document)
  runs = document['runs']
  if not runs:
    raise UserError(f'no run has a checkpoint at a multiple of --every={FLAGS.every}')
  write_json_atomic(path, document)
  examples = document['examples']
  _figure(runs, 'clean', f'Clean accuracy, {examples["which"]} ({examples["source"]})',
          os.path.join(FLAGS.output, 'learning_curve_clean.png'))
  eps = spec.epsilon_label(spec.paper_attack.epsilon)
  pgd, fgsm_config = _attacks(spec)
  _figure(runs, pgd.name, f'PGD-{pgd.steps} (xent, eps {eps}) accuracy',
          os.path.join(FLAGS.output, f'learning_curve_pgd{pgd.steps}.png'))
  if any(fgsm_config.name in p for points in runs.values() for p in points.values()):
    _figure(runs, fgsm_config.name, f'FGSM (xent, eps {eps}) accuracy: rising while PGD falls '
            'is catastrophic overfitting', os.path.join(FLAGS.output, 'learning_curve_fgsm.png'))


if __name__ == '__main__':
  define_curve_flags()
  cli.run(main)
