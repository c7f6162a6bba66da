"""Compute precision of a model: float32, or Keras' mixed_bfloat16 (bfloat16 compute,
float32 variables). The numerically sensitive ends stay float32 in either: CIFAR's
per-image standardization and the logit layer are built with dtype float32, so logits,
losses and regularizers are float32."""

import contextlib

import keras

from run_support.precisions import PRECISIONS

POLICIES = dict(zip(PRECISIONS, ('float32', 'mixed_bfloat16')))  # our name -> Keras policy


@contextlib.contextmanager
def compute_policy(precision):
  """Layers built inside compute in `precision` ('float32' or 'bfloat16')."""
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(POLICIES[precision])
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy(previous)


def model_precision(model):
  """'bfloat16' when any layer of `model` (or of an ensemble's members) computes in
  bfloat16, else 'float32'."""
  members = getattr(model, 'models', None) or [model]
  return 'bfloat16' if any(layer.compute_dtype == 'bfloat16' for m in members
                           for layer in m.layers) else 'float32'
