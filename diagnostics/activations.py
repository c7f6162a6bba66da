"""Layer activity (Figures 10, 11): each neuron's summed |activation| over the test images,
in the penultimate layer (the logit layer's input) and in the logit layer itself."""

import keras
import numpy as np

from data_input.pipeline import eval_batches

# Fractions of the most active neuron's sum below which a neuron counts as inactive. The
# paper gives no threshold for Figure 10's "roughly 400 deactivated neurons"; the count
# depends on it, so it is reported over this range (1e-6: practically never active).
INACTIVE_THRESHOLDS = (1e-6, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1)


def layer_activity(model, split, spec, num_examples, batch_size):
  """(penultimate, logits): per-neuron sums of |activation| over the first N images, each
  sorted descending (Figures 10 and 11). `model`'s last layer computes the logits."""
  # One input tensor, not the list model.inputs: called on a batch, no structure warning.
  both = keras.Model(model.inputs[0], [model.layers[-1].input, model.outputs[0]])
  totals = None
  for x, _ in eval_batches(split, spec, batch_size, num_examples):
    sums = [np.abs(a.numpy()).sum(0) for a in both(x, training=False)]
    totals = sums if totals is None else [t + s for t, s in zip(totals, sums)]
  return tuple(np.sort(t)[::-1] for t in totals)


def inactive_count(sums, threshold=INACTIVE_THRESHOLDS[0]):
  """Neurons whose sum is below `threshold` times the most active neuron's (sums sorted
  descending)."""
  return int(np.sum(sums < threshold * max(sums[0], 1e-30)))
