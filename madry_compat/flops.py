"""Analytic FLOP count of a Keras model, for utilisation figures in the benchmarks."""

import keras


def forward_flops(model):
  """2 * multiply-adds of every Conv2D and Dense layer for one image's forward pass
  (batch norm, activations and padding are ignored: a few percent at most here)."""
  total = 0
  for layer in model._flatten_layers(include_self=False):  # pylint: disable=protected-access
    if isinstance(layer, keras.layers.Conv2D):
      _, h, w, c_out = layer.output.shape
      k_h, k_w, c_in, _ = layer.kernel.shape
      total += 2 * h * w * k_h * k_w * c_in * c_out
    elif isinstance(layer, keras.layers.Dense):
      total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
  return total
