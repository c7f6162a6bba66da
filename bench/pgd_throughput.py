"""Benchmark: PGD-40 throughput on Madry's MNIST CNN, ours against cleverhans' TF2 PGD in
tf.function on the same model, batch and machine, in one process; and trace time of
1,000-step against 10-step PGD (tracing only, on a fresh model: the graph is built but
not run) with the size of each graph.

  python -m bench.pgd_throughput --repeats=5 --batches=3

Prints a Markdown table (paste into docs/benchmarks.md) and writes --output JSON.
"""

import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import numpy as np
import tensorflow as tf

from attacks import Attack
from attacks import PGDConfig
from bench.idle import BenchRun
from bench.idle import define_idle_flag
from madry_compat import build_model

flags.DEFINE_integer('batch_size', 200, 'Images per batch (Madry: 200).')
flags.DEFINE_integer('batches', 3, 'Batches per timed repeat.')
flags.DEFINE_integer('repeats', 5, 'Timed repeats; medians are reported.')
flags.DEFINE_integer('steps', 40, 'PGD steps of the throughput comparison.')
flags.DEFINE_string('output', 'bench/results/pgd_throughput.json', 'JSON results.')
define_idle_flag()
FLAGS = flags.FLAGS


def _inputs(batch_size):
  rng = np.random.default_rng(0)
  x = tf.constant(rng.random((batch_size, 28, 28, 1), dtype=np.float32))
  y = tf.constant(rng.integers(0, 10, batch_size), tf.int64)
  return x, y


def _ours(model, steps):
  attack = Attack(model, PGDConfig(name='bench', epsilon=0.3, step_size=0.01, steps=steps,
                                      random_start=False, loss='xent'), (0.0, 1.0))
  run = lambda x, y: attack(x, y)[0]
  run.concrete_function = attack.concrete_function
  return run


def _cleverhans(model, steps):
  from cleverhans.tf2.attacks.projected_gradient_descent import projected_gradient_descent  # pylint: disable=g-import-not-at-top

  @tf.function
  def run(x, y):
    return projected_gradient_descent(model, x, 0.3, 0.01, steps, np.inf, clip_min=0.0,
                                      clip_max=1.0, y=y, rand_init=None, sanity_checks=False)
  run.concrete_function = run.get_concrete_function
  return run


def _throughput(fn, x, y):
  fn(x, y).numpy()  # trace and warm up
  rates = []
  for _ in range(FLAGS.repeats):
    start = time.perf_counter()
    for _ in range(FLAGS.batches):
      fn(x, y).numpy()
    rates.append(FLAGS.batches * len(x) / (time.perf_counter() - start))
  return statistics.median(rates), rates


def _trace(make, steps, x, y):
  """Trace time (median of 3, fresh model each) and graph size of a `steps`-step PGD."""
  times, nodes = [], 0
  for _ in range(3):
    fn = make(build_model('mnist'), steps)
    start = time.perf_counter()
    concrete = fn.concrete_function(x, y)
    times.append(time.perf_counter() - start)
    nodes = len(concrete.graph.as_graph_def().node)
  return {'trace_seconds': statistics.median(times), 'graph_nodes': nodes}


def main(_):
  run = BenchRun(FLAGS.allow_busy)
  x, y = _inputs(FLAGS.batch_size)
  model = build_model('mnist')
  ours, ours_all = _throughput(_ours(model, FLAGS.steps), x, y)
  theirs, theirs_all = _throughput(_cleverhans(model, FLAGS.steps), x, y)
  trace = {f'{name} {steps}-step': _trace(make, steps, x, y)
           for name, make, steps_list in (('ours', _ours, (10, 1000)),
                                          ('cleverhans', _cleverhans, (10, 100, 1000)))
           for steps in steps_list}
  result = {
      'settings': {'batch_size': FLAGS.batch_size, 'batches': FLAGS.batches,
                   'repeats': FLAGS.repeats, 'steps': FLAGS.steps},
      'pgd_images_per_sec': {'ours_median': ours, 'ours_all': ours_all,
                             'cleverhans_median': theirs, 'cleverhans_all': theirs_all,
                             'ratio': ours / theirs},
      'trace': trace,
  }
  run.save(FLAGS.output, result)
  run.warn_if_busy()
  print(f'| PGD-{FLAGS.steps}, batch {FLAGS.batch_size} | images/s (median of {FLAGS.repeats}) |')
  print('|---|---|')
  print(f'| ours (attacks.Attack) | {ours:.1f} |')
  print(f'| cleverhans projected_gradient_descent in tf.function | {theirs:.1f} |')
  print(f'| ratio ours / cleverhans | {ours / theirs:.2f}x |')
  print()
  print('| PGD, fresh model | trace seconds (median of 3) | graph nodes |')
  print('|---|---|---|')
  for name, t in trace.items():
    print(f'| {name} | {t["trace_seconds"]:.2f} | {t["graph_nodes"]} |')


if __name__ == '__main__':
  app.run(main)
