"""Compute precision of a model: float32, or Keras' mixed_bfloat16 (bfloat16 compute,
float32 variables). The numerically sensitive ends stay float32 in either: CIFAR's
per-image standardization and the logit layer are built with dtype float32, so logits,
losses and regularizers are float32."""

import contextlib

import keras

POLICIES = {'float32': 'float32', 'bfloat16': 'mixed_bfloat16'}


@contextlib.contextmanager
def compute_policy(precision):
  """Layers built inside compute in `precision` ('float32' or 'bfloat16')."""
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(POLICIES[precision])
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy(previous)
