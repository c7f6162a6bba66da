"""Benchmark: white-box PGD throughput (gradient passes per second) on one model at several
evaluation batch sizes, each against batch 200 (eval.py's default) in the same run. Tells
whether a long evaluation (the CIFAR verdict's transfer crafting: millions of passes) should
run with a larger --eval_batch_size on this CPU. Round-robin repeats, medians, idle machine.

  python -m bench.eval_batch_size --model_dir=models/cifar10_subset/natural --dataset=cifar10 \
      --manual_dir=../shared/data/cifar10-subset --batch_sizes=100,200,500,1000 --repeats=3

Prints a Markdown table and writes --output JSON.
"""

import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
import tensorflow as tf

from attacks import PGDConfig
from attacks import make_attack
from bench.idle import BenchRun
from bench.idle import define_idle_flag
from data_input import loader
from data_input.specs import get_spec
from evaluation.model_io import load_model_folder
from run_support import cli
from run_support.errors import UserError

FLAGS = flags.FLAGS
PEER = 200  # eval.py's --eval_batch_size default, the ratio's denominator


def define_flags():
  flags.DEFINE_string('model_dir', None, 'The model attacked (Madry TF1 or train.py folder).')
  flags.DEFINE_string('dataset', 'cifar10', 'Its dataset.')
  flags.DEFINE_string('manual_dir', None, 'Raw data folder (as eval.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as eval.py).')
  flags.DEFINE_list('batch_sizes', ['100', '200', '500', '1000'], 'Batch sizes compared '
                    f'(must include {PEER}, the peer).')
  flags.DEFINE_integer('steps', 10, 'PGD steps per timed call (the paper\'s budget otherwise).')
  flags.DEFINE_integer('repeats', 3, 'Timed repeats, round-robin over the batch sizes; medians.')
  flags.DEFINE_string('output', 'bench/results/eval_batch_size.json', 'JSON results.')
  define_idle_flag()
  flags.mark_flags_as_required(['model_dir'])


def batch_sizes(values):
  """--batch_sizes as integers; UserError unless all are positive and the peer is among them."""
  try:
    sizes = [int(b) for b in values]
  except ValueError:
    raise UserError(f'--batch_sizes must be integers, got {values}') from None
  if PEER not in sizes or min(sizes) <= 0:
    raise UserError(f'--batch_sizes must be positive and include {PEER}, got {sizes}')
  return sizes


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  sizes = batch_sizes(FLAGS.batch_sizes)
  run = BenchRun(FLAGS.allow_busy)
  spec = get_spec(FLAGS.dataset)
  model = load_model_folder(FLAGS.model_dir, FLAGS.dataset, '--model_dir')
  test = loader.load_split(FLAGS.dataset, 'test', FLAGS.data_dir, FLAGS.manual_dir)
  if max(sizes) > len(test):
    raise UserError(f'--batch_sizes go up to {max(sizes)}, above the {len(test)} test images')
  budget = spec.paper_attack
  config = PGDConfig(name='bench', epsilon=budget.epsilon, step_size=budget.step_size,
                     steps=FLAGS.steps, random_start=True, loss='xent')
  attack = make_attack(model.model, config, (0.0, spec.pixel_max))
  batches = {b: (tf.constant(loader.to_model_scale(test.images[:b], spec)),
                 tf.constant(test.labels[:b])) for b in sizes}
  for x, y in batches.values():  # trace each shape once, untimed
    attack(x, y, seed=0)
  seconds = {b: [] for b in sizes}
  for _ in range(FLAGS.repeats):
    for b, (x, y) in batches.items():
      start = time.perf_counter()
      attack(x, y, seed=0)[0].numpy()
      seconds[b].append(time.perf_counter() - start)
  rate = {b: b * FLAGS.steps / statistics.median(s) for b, s in seconds.items()}
  run.warn_if_busy()
  print(f'| batch | gradient passes/s (median of {FLAGS.repeats}) | vs batch {PEER} | '
        'all repeats (s) |\n|---|---|---|---|')
  for b in sizes:
    print(f'| {b} | {rate[b]:.1f} | {rate[b] / rate[PEER]:.2f}x | '
          f'{", ".join(f"{s:.2f}" for s in seconds[b])} |')
  run.save(FLAGS.output, {'model': model.state(), 'steps': FLAGS.steps,
                                   'repeats': FLAGS.repeats, 'peer': PEER,
                                   'results': [{'batch_size': b, 'passes_per_second': rate[b],
                                                'vs_peer': rate[b] / rate[PEER],
                                                'all_repeats': seconds[b]} for b in sizes]})


if __name__ == '__main__':
  define_flags()
  cli.run(main)
