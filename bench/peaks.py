"""This machine's practical matmul peaks, measured in the same run as the figures they
scale (FLOP utilisation is a share of these)."""

import statistics
import time

import tensorflow as tf


def matmul_peak(size=2048, repeats=5, dtype=tf.float32):
  """Median GFLOP/s of a square matmul chain in `dtype`: the machine's practical peak."""
  a = tf.cast(tf.random.uniform([size, size]), dtype)
  b = tf.cast(tf.random.uniform([size, size]), dtype)

  @tf.function
  def chain():
    c = a
    for _ in range(4):
      c = tf.matmul(c, b) * 1e-3
    return tf.reduce_sum(c)
  chain().numpy()
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    chain().numpy()
    rates.append(4 * 2 * size ** 3 / (time.perf_counter() - start) / 1e9)
  return statistics.median(rates), rates
