"""One compiled training step (training.step.make_train_step, what train.py runs) timed on a
fixed real-size batch of random images: the unit the training benchmarks compare."""

import dataclasses
import time

import numpy as np
import tensorflow as tf

from data_input.specs import get_spec
from madry_compat import build_model
from madry_compat.flops import forward_flops
from training.optimization import build_optimizer
from training.step import make_train_step


@dataclasses.dataclass
class StepBench:
  """A training step and its images/s over repeats (time_once appends one repeat)."""
  label: str
  dataset: str
  step: object
  batch: tuple
  batch_size: int
  forward_flops: float      # one image's forward pass (madry_compat/flops.py)
  flops_per_image: float    # the whole training step's, per image
  steps_per_repeat: int = 1
  rates: list = dataclasses.field(default_factory=list)

  def time_once(self):
    start = time.perf_counter()
    for _ in range(self.steps_per_repeat):
      out = self.step(*self.batch)
    float(out['total_loss'])
    self.rates.append(self.steps_per_repeat * self.batch_size / (time.perf_counter() - start))


def step_bench(cfg, label, seconds):
  """The compiled training step of the resolved TrainConfig `cfg`, traced and warmed up, with
  as many steps per repeat as fill about `seconds`. FLOPs per image: 3F for the training
  pass, plus 2F per attack step (forward and backward to the input) with adversarial
  training."""
  spec = get_spec(cfg.dataset)
  model = build_model(cfg.dataset, cfg.depth, cfg.width, cfg.weight_decay, spec.num_classes,
                      cfg.precision)
  optimizer = build_optimizer(cfg)
  optimizer.build(model.trainable_variables)
  step = make_train_step(model, optimizer, spec, cfg)
  rng = np.random.default_rng(0)
  images = tf.constant(rng.random((cfg.batch_size, *spec.image_shape), np.float32) * spec.pixel_max)
  labels = tf.constant(rng.integers(0, spec.num_classes, cfg.batch_size), tf.int64)
  f = forward_flops(model)
  per_image = 3 * f + (2 * f * cfg.adv_steps if cfg.adv_train else 0)
  bench = StepBench(label, cfg.dataset, step, (images, labels), cfg.batch_size, f, per_image)
  bench.step(*bench.batch)  # trace and warm up
  start = time.perf_counter()
  float(bench.step(*bench.batch)['total_loss'])
  bench.steps_per_repeat = max(1, int(seconds / (time.perf_counter() - start)))
  return bench
