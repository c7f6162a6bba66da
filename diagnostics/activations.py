"""Penultimate-layer activity (Figures 10, 11): summed |activation| per neuron."""

import keras
import numpy as np

from data_input.pipeline import eval_batches


def penultimate_activity(model, split, spec, num_examples, batch_size):
  """Summed |activation| of each penultimate neuron (Figure 10).

  Args:
    model: a Keras model whose last layer computes the logits.
    split, spec: test data and its dataset spec.
    num_examples, batch_size: the first N images, in batches.

  Returns:
    (per-neuron sums sorted descending, number of inactive neurons): the penultimate layer
    is the input of the logit layer; a neuron is inactive when its sum is below 1e-6 of the
    most active neuron's.
  """
  features = keras.Model(model.inputs, model.layers[-1].input)
  total = None
  for x, _ in eval_batches(split, spec, batch_size, num_examples):
    batch = np.abs(features(x, training=False).numpy()).sum(0)
    total = batch if total is None else total + batch
  total = np.sort(total)[::-1]
  inactive = int(np.sum(total < 1e-6 * max(total[0], 1e-30)))
  return total, inactive
