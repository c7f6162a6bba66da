"""Madry's MNIST CNN: two 5x5 conv + max-pool blocks, a 1024-unit dense layer, 10 logits.

Input: (N, 28, 28, 1) floats in [0, 1]; output: logits. 3,274,634 parameters.
"""

import keras

from madry_compat.layers import BiasAddConv2D

# Madry's variables are unnamed tf.Variables, so their checkpoint names are positional:
# Variable, Variable_1, ..., Variable_7 = (kernel, bias) of these layers, in this order.
TF1_LAYER_ORDER = ('conv1', 'conv2', 'fc1', 'fc2')


def tf1_variable_names():
  """{(layer name, 'kernel' | 'bias'): Madry's TF1 checkpoint name}."""
  names = {}
  for i, layer in enumerate(TF1_LAYER_ORDER):
    for j, kind in enumerate(('kernel', 'bias')):
      k = 2 * i + j
      names[(layer, kind)] = 'Variable' if k == 0 else f'Variable_{k}'
  return names


def build_mnist_cnn(num_classes=10, name='madry_mnist_cnn'):
  """The MNIST CNN with Madry's initialisers (truncated normal 0.1, biases 0.1)."""
  init = dict(kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.1),
              bias_initializer=keras.initializers.Constant(0.1))
  inputs = keras.Input((28, 28, 1), name='image')
  x = BiasAddConv2D(32, 5, padding='same', activation='relu', name='conv1', **init)(inputs)
  x = keras.layers.MaxPooling2D(2, 2, padding='same', name='pool1')(x)
  x = BiasAddConv2D(64, 5, padding='same', activation='relu', name='conv2', **init)(x)
  x = keras.layers.MaxPooling2D(2, 2, padding='same', name='pool2')(x)
  x = keras.layers.Flatten(name='flatten')(x)
  x = keras.layers.Dense(1024, activation='relu', name='fc1', **init)(x)
  logits = keras.layers.Dense(num_classes, name='fc2', dtype='float32', **init)(x)  # float32 logits
  return keras.Model(inputs, logits, name=name)
