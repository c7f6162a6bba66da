"""Smoke check: every CIFAR flagfile with logit squeezing trains without diverging, on the
CIFAR-10 subset in ../shared/data, with a small WideResNet and a few hundred steps.

CIFAR-100 is not available offline here, so its flagfiles run on the CIFAR-10 subset's
images with their (0-9) labels under the 100-class head: a check of the objective's
numerics at beta 5 with N = 100, not of CIFAR-100 accuracy.

  python -m experiments.cifar_squeeze_smoke --steps=300 --output=/tmp/smoke
"""

import glob
import json
import os
import re
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl.testing import flagsaver

import train  # defines train.py's flags
from data_input import loader
from training.guard import DivergenceError
from training.loop import TrainData

flags.DEFINE_integer('steps', 300, 'Training steps per flagfile.')
flags.DEFINE_integer('smoke_depth', 10, 'WideResNet depth for the smoke runs.')
flags.DEFINE_integer('smoke_width', 1, 'WideResNet width for the smoke runs.')
flags.DEFINE_string('cifar10_dir', '../shared/data/cifar10-subset', 'CIFAR-10 (subset) files.')
flags.DEFINE_string('output', '/tmp/cifar_squeeze_smoke', 'Folder for the runs and summary.json.')
FLAGS = flags.FLAGS

SQUEEZED = re.compile(r'cifar\d+_alpha[\d.]+_beta(?!0_)[\d.]+_')


def _subset(dataset, cifar10_dir):
  if dataset != 'cifar100':
    return None  # train.py loads CIFAR-10 itself from --manual_dir
  # The same images, labels 0-9 under a 100-class head.
  return TrainData(train=loader.load_split('cifar10', 'train', manual_dir=cifar10_dir),
                   test=loader.load_split('cifar10', 'test', manual_dir=cifar10_dir))


def _run(path, smoke):
  """Trains one flagfile at the smoke scale; its outcome."""
  name = os.path.basename(path)[:-len('.cfg')]
  steps = smoke['steps']
  args = ['train.py', f'--flagfile={path}', f'--train_steps={steps}',
          f'--depth={smoke["depth"]}', f'--width={smoke["width"]}',
          f'--manual_dir={smoke["cifar10_dir"]}',
          f'--model_dir={os.path.join(smoke["output"], name)}',
          f'--checkpoint_every={steps}', '--eval_every=100', '--log_every=100']
  start = time.perf_counter()
  with flagsaver.flagsaver():
    FLAGS.unparse_flags()  # train.py's flags only; this driver's were read before
    FLAGS(args)
    try:
      metrics = train.main(['train.py'], data_override=_subset(name.split('_')[0],
                                                               smoke['cifar10_dir']))
      outcome = {'diverged': False, 'test_accuracy': metrics['test_accuracy'],
                 'warnings': metrics['warnings']}
    except DivergenceError as e:
      outcome = {'diverged': True, 'error': str(e)}
  outcome.update(flagfile=path, steps=steps, seconds=round(time.perf_counter() - start, 1))
  return name, outcome


def main(_):
  paths = sorted(p for p in glob.glob('configs/paper/cifar*.cfg') if SQUEEZED.search(p))
  smoke = dict(steps=FLAGS.steps, depth=FLAGS.smoke_depth, width=FLAGS.smoke_width,
               cifar10_dir=FLAGS.cifar10_dir, output=FLAGS.output)
  summary = dict(_run(p, smoke) for p in paths)
  os.makedirs(smoke['output'], exist_ok=True)
  with open(os.path.join(smoke['output'], 'summary.json'), 'w') as f:
    json.dump(summary, f, indent=2)
  print(f'| flagfile ({smoke["steps"]} steps, WRN-{smoke["depth"]}-{smoke["width"]}, '
        'CIFAR-10 subset) | diverged | subset test accuracy | seconds |')
  print('|---|---|---|---|')
  for name, o in summary.items():
    print(f'| {name} | {"yes" if o["diverged"] else "no"} | '
          f'{o.get("test_accuracy", float("nan")):.1%} | {o["seconds"]} |')
  sys.exit(1 if any(o['diverged'] for o in summary.values()) else 0)


if __name__ == '__main__':
  app.run(main)
