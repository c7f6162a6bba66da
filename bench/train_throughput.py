"""Benchmark: training throughput of each method on Madry's models, its cost against
natural training, and achieved FLOP/s against this machine's fp32 matmul peak.

Methods: natural, label smoothing + noise, logit squeezing + noise (the paper's cheap
regularizers), and Madry's PGD adversarial training (MNIST PGD-40; CIFAR PGD-7 on a
small WideResNet); optionally natural training with XLA. Each method's real compiled
training step (training.step.make_train_step) runs on fixed real-size batches; methods
are timed round-robin, `--repeats` times each, and medians are reported.

FLOPs are counted analytically: 2 * MACs of every Conv2D and Dense layer for one forward
pass of one image (F). A training step costs 3F per image (forward, backward to the
activations, backward to the weights); a PGD step 2F (forward and backward to the
input; the weights' gradients are not taken); PGD-k adversarial training k * 2F + 3F.

  python -m bench.train_throughput --repeats=5

Prints a Markdown table (paste into docs/benchmarks.md) and writes --output JSON.
"""

import os
import statistics

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import tensorflow as tf

from bench.idle import BenchRun
from bench.idle import define_idle_flag
from bench.peaks import matmul_peak
from bench.step_timing import step_bench
from training.config import TrainConfig

flags.DEFINE_list('datasets', ['mnist', 'cifar10'], 'Which models to benchmark.')
flags.DEFINE_integer('repeats', 5, 'Timed repeats per method; medians are reported.')
flags.DEFINE_float('seconds', 4.0, 'Rough length of one timed repeat.')
flags.DEFINE_integer('cifar_depth', 10, 'WideResNet depth of the CIFAR benchmark (Madry: 34).')
flags.DEFINE_integer('cifar_width', 2, 'WideResNet width of the CIFAR benchmark (Madry: 10).')
flags.DEFINE_bool('xla', True, 'Also time natural training with jit_compile.')
flags.DEFINE_string('output', 'bench/results/train_throughput.json', 'JSON results.')
define_idle_flag()
FLAGS = flags.FLAGS

METHODS = {  # name -> (TrainConfig overrides per dataset family)
    'natural': {'mnist': {}, 'cifar': {}},
    'label smoothing + noise': {'mnist': dict(alpha=0.95, sigma=0.3),
                                'cifar': dict(alpha=0.95, sigma=20.0)},
    'logit squeezing + noise': {'mnist': dict(beta=0.5, sigma=0.5),
                                'cifar': dict(beta=10.0, sigma=20.0)},
    'PGD adversarial training': {'mnist': dict(adv_train=True),   # PGD-40
                                 'cifar': dict(adv_train=True)},  # PGD-7
    'natural, bfloat16': {'mnist': dict(precision='bfloat16'), 'cifar': dict(precision='bfloat16')},
    'label smoothing + noise, bfloat16': {'mnist': dict(alpha=0.95, sigma=0.3, precision='bfloat16'),
                                          'cifar': dict(alpha=0.95, sigma=20.0, precision='bfloat16')},
}


def _make(dataset, label, overrides, xla=False):
  cfg = TrainConfig(dataset=dataset, depth=FLAGS.cifar_depth, width=FLAGS.cifar_width,
                    jit_compile=xla, model_dir='unused', **overrides).resolved()
  return step_bench(cfg, label + (' (XLA)' if xla else ''), FLAGS.seconds), cfg


def main(argv):
  del argv
  run = BenchRun(FLAGS.allow_busy)
  peak, peak_runs = matmul_peak()
  bf16_peak, bf16_peak_runs = matmul_peak(dtype=tf.bfloat16)
  benches, models = [], {}
  for dataset in FLAGS.datasets:
    family = 'mnist' if dataset == 'mnist' else 'cifar'
    for label, overrides in METHODS.items():
      bench, cfg = _make(dataset, label, overrides[family])
      benches.append(bench)
      models[dataset] = dict(forward_flops=bench.forward_flops, batch_size=cfg.batch_size,
                             adv_steps=cfg.adv_steps, depth=cfg.depth, width=cfg.width)
    if FLAGS.xla:
      benches.append(_make(dataset, 'natural', {}, xla=True)[0])
  for _ in range(FLAGS.repeats):  # round-robin, so drifts in machine load hit every method
    for bench in benches:
      bench.time_once()

  rows, results = [], []
  for bench in benches:
    natural = next(b for b in benches if b.dataset == bench.dataset and b.label == 'natural')
    rate = statistics.median(bench.rates)
    cost = statistics.median(natural.rates) / rate
    gflops = rate * bench.flops_per_image / 1e9
    own_peak = bf16_peak if 'bfloat16' in bench.label else peak
    results.append(dict(dataset=bench.dataset, method=bench.label, images_per_sec=rate,
                        all_repeats=bench.rates, cost_vs_natural=cost,
                        flops_per_image=bench.flops_per_image, gflops_per_sec=gflops,
                        fraction_of_matmul_peak=gflops / own_peak))
    rows.append(f'| {bench.dataset} | {bench.label} | {rate:.1f} | {cost:.2f}x | '
                f'{gflops:.1f} | {gflops / own_peak:.0%} | '
                f'{", ".join(f"{r:.1f}" for r in bench.rates)} |')
  run.warn_if_busy()
  print(f'fp32 matmul peak: {peak:.1f} GFLOP/s (median; runs {", ".join(f"{r:.1f}" for r in peak_runs)})')
  print(f'bf16 matmul peak: {bf16_peak:.1f} GFLOP/s (median; runs '
        f'{", ".join(f"{r:.1f}" for r in bf16_peak_runs)})')
  print('| dataset | method | images/s (median) | cost vs natural | GFLOP/s | of its precision\'s matmul peak | all repeats |')
  print('|---|---|---|---|---|---|---|')
  print('\n'.join(rows))
  run.save(FLAGS.output, {'matmul_peak_gflops': peak, 'matmul_runs': peak_runs,
               'bf16_matmul_peak_gflops': bf16_peak, 'bf16_matmul_runs': bf16_peak_runs,
               'models': models,
               'repeats': FLAGS.repeats, 'results': results})


if __name__ == '__main__':
  app.run(main)
