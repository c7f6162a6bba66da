"""Small custom layers Madry's CIFAR graph needs; registered so `model.keras` reloads."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package='madry_compat')
class PerImageStandardization(keras.layers.Layer):
  """(x - mean) / max(std, 1/sqrt(num_pixels)) per image, inside the model so attack
  gradients flow through it (Madry applies it to raw [0, 255] pixels)."""

  def call(self, images):
    return tf.image.per_image_standardization(images)


@keras.saving.register_keras_serializable(package='madry_compat')
class SymmetricChannelPad(keras.layers.Layer):
  """Zero-pads the channel axis by `pad` on each side (Madry's parameter-free shortcut)."""

  def __init__(self, pad, **kwargs):
    super().__init__(**kwargs)
    self.pad = pad

  def call(self, x):
    return tf.pad(x, [[0, 0], [0, 0], [0, 0], [self.pad, self.pad]])

  def get_config(self):
    return {**super().get_config(), 'pad': self.pad}


@keras.saving.register_keras_serializable(package='madry_compat')
class BiasAddConv2D(keras.layers.Conv2D):
  """Conv2D adding its bias with TensorFlow's BiasAdd (Madry's `conv2d(...) + b` in TF1)
  instead of Keras' broadcast add: the same function, but its bias gradient is one
  BiasAddGrad instead of a generic reduction, and oneDNN fuses conv, bias and ReLU. MNIST
  training steps run 6-7% faster on this CPU (docs/benchmarks.md)."""

  def call(self, inputs):
    outputs = self.convolution_op(inputs, self.kernel)
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, self.bias)
    return outputs if self.activation is None else self.activation(outputs)
