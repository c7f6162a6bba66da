"""Benchmark: three ways to run PGD restarts on the points still robust, on one model and
batch, round-robin in one process.

- in-graph compaction (attacks.Attack, restarts inside the compiled loop, each restart on
  the points no earlier restart fooled; what eval.py runs);
- masking: every restart attacks the whole batch and the per-example worst case is kept
  (restarts x batch forward/backward passes whatever is fooled);
- compaction outside the compiled loop: a Python loop calling a one-restart compiled attack
  on the still-robust points gathered in NumPy between calls.

All three give the same per-example worst case up to the random draws; only the cost
differs. Needs a model that is partly robust at --epsilon.

  python -m bench.restart_strategies --model_dir=models/mnist/natural --epsilon=0.1
"""

import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import numpy as np

from attacks import Attack
from attacks import PGDConfig
from bench.idle import BenchRun
from bench.idle import define_idle_flag
from data_input import loader
from data_input.specs import get_spec
from evaluation.model_io import load_model_folder

flags.DEFINE_string('model_dir', None, 'An MNIST model folder (train.py or Madry checkpoint).')
flags.DEFINE_string('manual_dir', '../shared/data/mnist', 'MNIST raw files.')
flags.DEFINE_float('epsilon', 0.1, 'L-infinity budget (choose one that leaves some robust).')
flags.DEFINE_integer('restarts', 5, 'Restarts.')
flags.DEFINE_integer('steps', 40, 'PGD steps per restart.')
flags.DEFINE_integer('batch_size', 200, 'Images per batch.')
flags.DEFINE_integer('repeats', 3, 'Timed repeats per strategy; medians reported.')
flags.DEFINE_string('output', 'bench/results/restart_strategies.json', 'JSON results.')
define_idle_flag()
FLAGS = flags.FLAGS


def _config(restarts):
  return PGDConfig(name='bench', epsilon=FLAGS.epsilon, step_size=0.01, steps=FLAGS.steps,
                      random_start=True, loss='xent', restarts=restarts)


def _strategies(model):
  compacted = Attack(model, _config(FLAGS.restarts), (0.0, 1.0))
  single = Attack(model, _config(1), (0.0, 1.0))

  def in_graph(x, y):
    return compacted(x, y, seed=1)[1].numpy()

  def masking(x, y):
    fooled = np.zeros(len(y), bool)
    for r in range(FLAGS.restarts):
      fooled |= single(x, y, seed=1000 + r)[1].numpy()
    return fooled

  def outside(x, y):
    fooled = np.zeros(len(y), bool)
    for r in range(FLAGS.restarts):
      active = np.flatnonzero(~fooled)
      if not len(active):
        break
      fooled[active] = single(x[active], y[active], seed=1000 + r)[1].numpy()
    return fooled

  return {'in-graph compaction': in_graph, 'masking': masking,
          'compaction outside the loop': outside}


def main(_):
  run = BenchRun(FLAGS.allow_busy)
  spec = get_spec('mnist')
  model = load_model_folder(FLAGS.model_dir, 'mnist').model
  test = loader.load_split('mnist', 'test', manual_dir=FLAGS.manual_dir)
  x = loader.to_model_scale(test.images[:FLAGS.batch_size], spec)
  y = test.labels[:FLAGS.batch_size].astype(np.int64)
  strategies = _strategies(model)
  times = {name: [] for name in strategies}
  robust = {}
  for name, fn in strategies.items():  # trace and warm up
    robust[name] = float(np.mean(~fn(x, y)))
  for _ in range(FLAGS.repeats):
    for name, fn in strategies.items():
      start = time.perf_counter()
      fn(x, y)
      times[name].append(time.perf_counter() - start)
  medians = {name: statistics.median(t) for name, t in times.items()}
  base = medians['in-graph compaction']
  result = {
      'settings': {k: FLAGS[k].value for k in ('model_dir', 'epsilon', 'restarts', 'steps',
                                               'batch_size', 'repeats')},
      'seconds_median': medians, 'seconds_all': times, 'robust_accuracy': robust,
      'ratio_to_in_graph': {name: m / base for name, m in medians.items()},
  }
  run.save(FLAGS.output, result)
  run.warn_if_busy()
  print(f'| PGD-{FLAGS.steps} x {FLAGS.restarts} restarts, eps {FLAGS.epsilon:g}, '
        f'{FLAGS.batch_size} images | seconds (median of {FLAGS.repeats}) | x in-graph | '
        'robust accuracy | all repeats |')
  print('|---|---|---|---|---|')
  for name, m in medians.items():
    print(f'| {name} | {m:.2f} | {m / base:.2f} | {robust[name]:.1%} | '
          f'{", ".join(f"{t:.2f}" for t in times[name])} |')


if __name__ == '__main__':
  app.run(main)
