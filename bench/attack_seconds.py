"""Benchmark: seconds per attack on the first N test images, run as eval.py runs them
(evaluation.runner: batches of 200, sanity checks, scoring on the target), for the attacks
of the verdict: the paper's PGD-40, the standard AutoAttack chain (each member on the
points the earlier ones left robust, as in the chain) and one transfer attack of each kind
crafted on --source_dir. Each time includes the attack's one tracing, as in an eval.py run.
Round-robin repeats, medians, on an idle machine.

  python -m bench.attack_seconds --model_dirs=models/mnist/natural,models/mnist/alpha0.95_sigma0.3 \
      --source_dir=models/mnist/natural --manual_dir=../shared/data/mnist --repeats=3

Prints Markdown (paste into docs/benchmarks.md) and writes --output JSON.
"""

import dataclasses
import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top

from bench.idle import BenchRun
from bench.idle import define_idle_flag
from data_input import loader
from data_input.specs import get_spec
from evaluation.accuracy import correct_per_example
from evaluation.accuracy import make_predict_fn
from evaluation.model_io import load_model_folder
from evaluation.plan import AUTOATTACK
from evaluation.runner import attack_result
from evaluation.suites import suite_plan
from evaluation.suites import transfer_plan
from run_support import cli
from run_support.errors import UserError

FLAGS = flags.FLAGS
MNIST = get_spec('mnist')


def define_flags():
  flags.DEFINE_list('model_dirs', [], 'The models attacked (Madry TF1 or train.py folders).')
  flags.DEFINE_string('source_dir', None, 'The model the transfer attacks are crafted on.')
  flags.DEFINE_string('manual_dir', None, 'Raw MNIST files (as eval.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as eval.py).')
  flags.DEFINE_integer('num_examples', 1000, 'The first N test images.')
  flags.DEFINE_integer('repeats', 3, 'Timed repeats, round-robin over the models; medians.')
  flags.DEFINE_string('output', 'bench/results/attack_seconds.json', 'JSON results.')
  define_idle_flag()
  flags.mark_flags_as_required(['model_dirs', 'source_dir'])


def _plan():
  """The verdict's attacks: paper PGD-40, the AutoAttack chain, one of each transfer kind
  (MI-FGSM-100; PGD-100 with one restart, the cost of each of its restarts)."""
  transfer = [p for p in transfer_plan(MNIST, ('source',)) if p.config.loss == 'xent']
  transfer = [dataclasses.replace(p, config=dataclasses.replace(
      p.config, restarts=1, name=p.name.replace('source_', '').replace('restarts5', 'one_restart')))
      for p in transfer]
  return (suite_plan('paper_whitebox', MNIST) + suite_plan('autoattack', MNIST) + transfer)


def _run_once(model, source, test, n):
  """{attack name: (seconds, accuracy)} of one pass over the plan on `model`."""
  predict = make_predict_fn(model.model)
  robust = correct_per_example(predict, test, MNIST, 200, n)
  out = {}
  for planned in _plan():
    crafting = source.model if planned.threat == 'black-box' else model.model
    start = time.perf_counter()
    result = attack_result(predict, crafting, planned, source.state(), test, MNIST, n, 200,
                           seed=0, only=robust if planned.chain == AUTOATTACK else None)
    out[planned.name] = (time.perf_counter() - start, result.accuracy)
    if planned.chain == AUTOATTACK:
      robust = result.correct
  return out


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  run = BenchRun(FLAGS.allow_busy)
  models = [load_model_folder(d, 'mnist', '--model_dirs') for d in FLAGS.model_dirs]
  source = load_model_folder(FLAGS.source_dir, 'mnist', '--source_dir')
  test = loader.load_split('mnist', 'test', FLAGS.data_dir, FLAGS.manual_dir)
  n = FLAGS.num_examples
  runs = {m.path: [] for m in models}
  for _ in range(FLAGS.repeats):
    for model in models:
      runs[model.path].append(_run_once(model, source, test, n))
  results = []
  for model in models:
    for name in runs[model.path][0]:
      seconds = [r[name][0] for r in runs[model.path]]
      results.append({'model': model.state(), 'attack': name,
                      'seconds_median': statistics.median(seconds), 'all_repeats': seconds,
                      'accuracy': runs[model.path][-1][name][1]})
  run.warn_if_busy()
  print(f'| model | attack | seconds on {n} images (median of {FLAGS.repeats}) | accuracy after '
        '| all repeats |\n|---|---|---|---|---|')
  for r in results:
    print(f'| {os.path.basename(r["model"]["path"])} | {r["attack"]} | {r["seconds_median"]:.1f} '
          f'| {r["accuracy"]:.1%} | {", ".join(f"{s:.1f}" for s in r["all_repeats"])} |')
  run.save(FLAGS.output, {'num_examples': n, 'repeats': FLAGS.repeats, 'source': source.state(),
      'results': results})


if __name__ == '__main__':
  define_flags()
  cli.run(main)
