"""Benchmark: where a training step of Madry's MNIST CNN spends its time, to explain the
gap between training FLOP/s and the machine's matmul peak.

Times, per batch size, compiled functions that do progressively more of a step: the
forward pass; forward and backward (gradients, no update); the full step with Adam; and
the full step under XLA. Medians of --repeats, images/s and GFLOP/s (FLOPs counted as in
train_throughput.py: F forward, 3F forward + backward).

  python bench/step_breakdown.py --batch_sizes=50,200 --repeats=5
"""

import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import keras
import numpy as np
import tensorflow as tf

from madry_compat import build_model
from madry_compat.flops import forward_flops

flags.DEFINE_list('batch_sizes', ['50', '200'], 'Batch sizes (Madry: 50).')
flags.DEFINE_integer('repeats', 5, 'Timed repeats; medians are reported.')
flags.DEFINE_integer('steps', 30, 'Calls per timed repeat.')
FLAGS = flags.FLAGS


def _stages(model, optimizer):
  loss_of = lambda x, y: tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
      y, model(x, training=True)))

  def forward(x, y):
    return loss_of(x, y)

  def gradients(x, y):
    with tf.GradientTape() as tape:
      loss = loss_of(x, y)
    return loss, tape.gradient(loss, model.trainable_variables)

  def step(x, y):
    loss, grads = gradients(x, y)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

  return {'forward': (tf.function(forward), 1), 'forward + backward': (tf.function(gradients), 3),
          'full step (Adam)': (tf.function(step), 3),
          'full step, XLA': (tf.function(step, jit_compile=True), 3)}


def main(argv):
  del argv
  model = build_model('mnist')
  optimizer = keras.optimizers.Adam(1e-4)
  optimizer.build(model.trainable_variables)
  f = forward_flops(model)
  stages = _stages(model, optimizer)
  print(f'forward FLOPs per image: {f / 1e6:.1f} M')
  print('| batch | stage | images/s (median) | GFLOP/s |')
  print('|---|---|---|---|')
  for batch in (int(b) for b in FLAGS.batch_sizes):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((batch, 28, 28, 1), np.float32))
    y = tf.constant(rng.integers(0, 10, batch), tf.int64)
    for name, (fn, passes) in stages.items():
      tf.nest.map_structure(lambda t: t.numpy(), fn(x, y))  # trace and warm up
      rates = []
      for _ in range(FLAGS.repeats):
        start = time.perf_counter()
        for _ in range(FLAGS.steps):
          out = fn(x, y)
        tf.nest.map_structure(lambda t: t.numpy(), out)
        rates.append(FLAGS.steps * batch / (time.perf_counter() - start))
      rate = statistics.median(rates)
      print(f'| {batch} | {name} | {rate:.0f} | {rate * passes * f / 1e9:.1f} |')


if __name__ == '__main__':
  app.run(main)
