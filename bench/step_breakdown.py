"""Benchmark: where a training step of Madry's MNIST CNN spends its time, and what adding
the conv biases with TensorFlow's BiasAdd (madry_compat.layers.BiasAddConv2D, Madry's TF1
op) gains over Keras' Conv2D, whose broadcast add needs a generic reduction for the bias
gradient and keeps oneDNN from fusing conv, bias and ReLU; and what TF's fused Adam kernel
(training.optimization.FusedAdam, the one train.py uses) gains over Keras 3's Adam update.

Both networks (same weights) run compiled functions that do progressively more of a step:
the forward pass; forward and backward (gradients, no update); the full step with Keras'
Adam; with the fused Adam; the fused step under XLA. Every (network, stage) is timed round-robin, --repeats times;
medians, all repeats, and images/s and GFLOP/s (F forward, 3F forward + backward).

  python -m bench.step_breakdown --batch_sizes=50,200 --repeats=5

Prints Markdown (paste into docs/benchmarks.md) and writes --output JSON.
"""

import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
import keras
import numpy as np
import tensorflow as tf

from bench.idle import BenchRun
from bench.idle import define_idle_flag
from madry_compat import build_model
from madry_compat.flops import forward_flops
from madry_compat.layers import BiasAddConv2D
from run_support import cli
from run_support.errors import UserError
from training.optimization import FusedAdam

FLAGS = flags.FLAGS
OURS, KERAS = 'BiasAdd convs (ours)', "Keras Conv2D's broadcast-add bias"


def define_flags():
  flags.DEFINE_list('batch_sizes', ['50', '200'], 'Batch sizes (Madry: 50).')
  flags.DEFINE_integer('repeats', 5, 'Timed repeats, round-robin; medians are reported.')
  flags.DEFINE_integer('steps', 30, 'Calls per timed repeat.')
  flags.DEFINE_string('output', 'bench/results/step_breakdown.json', 'JSON results.')
  define_idle_flag()


def _keras_conv_twin(model):
  """The same network and weights with Keras' own Conv2D in place of BiasAddConv2D."""
  def clone(layer):
    cls = keras.layers.Conv2D if isinstance(layer, BiasAddConv2D) else type(layer)
    return cls.from_config(layer.get_config())
  twin = keras.models.clone_model(model, clone_function=clone)
  twin.set_weights(model.get_weights())
  return twin


def _stages(model):
  loss_of = lambda x, y: tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
      y, model(x, training=True)))

  def forward(x, y):
    return loss_of(x, y)

  def gradients(x, y):
    with tf.GradientTape() as tape:
      loss = loss_of(x, y)
    return loss, tape.gradient(loss, model.trainable_variables)

  def step_with(optimizer_class):
    optimizer = optimizer_class(1e-4, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    optimizer.build(model.trainable_variables)

    def step(x, y):
      loss, grads = gradients(x, y)
      optimizer.apply_gradients(zip(grads, model.trainable_variables))
      return loss
    return step

  return {'forward': (tf.function(forward), 1), 'forward + backward': (tf.function(gradients), 3),
          "full step (Keras' Adam)": (tf.function(step_with(keras.optimizers.Adam)), 3),
          'full step (fused Adam, ours)': (tf.function(step_with(FusedAdam)), 3),
          'full step (fused Adam), XLA': (tf.function(step_with(FusedAdam),
                                                      jit_compile=True), 3)}


def _time(fn, x, y):
  start = time.perf_counter()
  for _ in range(FLAGS.steps):
    out = fn(x, y)
  tf.nest.map_structure(lambda t: t.numpy(), out)
  return FLAGS.steps * int(x.shape[0]) / (time.perf_counter() - start)


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  run = BenchRun(FLAGS.allow_busy)
  ours = build_model('mnist')
  networks = {OURS: ours, KERAS: _keras_conv_twin(ours)}
  stages = {name: _stages(model) for name, model in networks.items()}
  f = forward_flops(ours)
  results = []
  for batch in (int(b) for b in FLAGS.batch_sizes):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, 28, 28, 1), np.float32))
    y = tf.constant(rng.integers(0, 10, batch), tf.int64)
    jobs = [(net, stage, fn, passes) for net, by_stage in stages.items()
            for stage, (fn, passes) in by_stage.items()]
    for _, _, fn, _ in jobs:
      tf.nest.map_structure(lambda t: t.numpy(), fn(x, y))  # trace and warm up
    rates = {(net, stage): [] for net, stage, _, _ in jobs}
    for _ in range(FLAGS.repeats):
      for net, stage, fn, _ in jobs:
        rates[(net, stage)].append(_time(fn, x, y))
    for net, stage, _, passes in jobs:
      rate = statistics.median(rates[(net, stage)])
      results.append({'batch': batch, 'network': net, 'stage': stage, 'images_per_sec': rate,
                      'gflops_per_sec': rate * passes * f / 1e9,
                      'all_repeats': rates[(net, stage)]})
  rate = {(r['batch'], r['network'], r['stage']): r['images_per_sec'] for r in results}
  run.warn_if_busy()
  print(f'forward FLOPs per image: {f / 1e6:.1f} M')
  print(f'| batch | stage | {OURS}, images/s | {KERAS}, images/s | ratio | GFLOP/s (ours) | all repeats (ours; Keras) |')
  print('|---|---|---|---|---|---|---|')
  for r in (r for r in results if r['network'] == OURS):
    other = rate[(r['batch'], KERAS, r['stage'])]
    keras_runs = next(k['all_repeats'] for k in results if k['network'] == KERAS
                      and (k['batch'], k['stage']) == (r['batch'], r['stage']))
    print(f'| {r["batch"]} | {r["stage"]} | {r["images_per_sec"]:.0f} | {other:.0f} | '
          f'{r["images_per_sec"] / other:.2f}x | {r["gflops_per_sec"]:.1f} | '
          f'{", ".join(f"{v:.0f}" for v in r["all_repeats"])}; '
          f'{", ".join(f"{v:.0f}" for v in keras_runs)} |')
  run.save(FLAGS.output, {'repeats': FLAGS.repeats, 'steps_per_repeat': FLAGS.steps,
      'forward_flops_per_image': f, 'results': results})


if __name__ == '__main__':
  define_flags()
  cli.run(main)
