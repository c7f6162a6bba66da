"""Madry's CIFAR pre-activation WideResNet (cifar10_challenge/model.py) in Keras 3.

Depth 6n+4 with n residual units per stage, filters [16, 16w, 32w, 64w]; per-image
standardization inside the model; leaky ReLU 0.1; batch norm momentum 0.9, epsilon 1e-3;
parameter-free shortcuts (average pool + symmetric zero channel padding); unit_1_0
activates before the residual split. Madry's released model is depth 34, width 10.

Layer names are Madry's TF1 variable scopes with '/' written as '__' (Keras forbids '/'),
e.g. scope `unit_1_0/sub2/BatchNorm` is layer `unit_1_0__sub2__BatchNorm`.
"""

import keras

from madry_compat.layers import PerImageStandardization
from madry_compat.layers import SymmetricChannelPad

LEAKY_SLOPE = 0.1
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-3
STAGE_STRIDES = (1, 2, 2)


def keras_layer_name(tf1_scope):
  """Madry's TF1 variable scope -> the Keras layer name used here."""
  return tf1_scope.replace('/', '__')


def tf1_scope(keras_name):
  """Inverse of `keras_layer_name`."""
  return keras_name.replace('__', '/')


def units_per_stage(depth):
  """n for depth 6n+4; ValueError otherwise."""
  if depth < 10 or (depth - 4) % 6:
    raise ValueError(f'WideResNet depth must be 6n+4 with n >= 1 (10, 16, 22, 28, 34, ...), got {depth}')
  return (depth - 4) // 6


class _Builder:
  """Creates Madry-named layers with Madry's initialisers and weight decay."""

  def __init__(self, weight_decay):
    # Madry adds weight_decay * sum(w^2) / 2 to the loss; Keras L2(l) adds l * sum(w^2).
    self.regularizer = keras.regularizers.L2(weight_decay / 2) if weight_decay else None

  def conv(self, x, filters, stride, scope):
    return keras.layers.Conv2D(
        filters, 3, strides=stride, padding='same', use_bias=False,
        kernel_initializer=keras.initializers.VarianceScaling(2.0, 'fan_out', 'untruncated_normal'),
        kernel_regularizer=self.regularizer, name=keras_layer_name(scope))(x)

  def bn_lrelu(self, x, scope):
    x = keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=keras_layer_name(scope + '/BatchNorm'))(x)
    return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=keras_layer_name(scope + '/lrelu'))(x)

  def residual_unit(self, x, in_filters, out_filters, stride, activate_before_residual, scope):
    if activate_before_residual:
      x = self.bn_lrelu(x, scope + '/shared_activation')
      shortcut = x
    else:
      shortcut = x
      x = self.bn_lrelu(x, scope + '/residual_only_activation')
    x = self.conv(x, out_filters, stride, scope + '/sub1/conv1')
    x = self.bn_lrelu(x, scope + '/sub2')
    x = self.conv(x, out_filters, 1, scope + '/sub2/conv2')
    if in_filters != out_filters:
      shortcut = keras.layers.AveragePooling2D(
          stride, stride, padding='valid', name=keras_layer_name(scope + '/sub_add/pool'))(shortcut)
      shortcut = SymmetricChannelPad(
          (out_filters - in_filters) // 2, name=keras_layer_name(scope + '/sub_add/pad'))(shortcut)
    return keras.layers.Add(name=keras_layer_name(scope + '/sub_add'))([x, shortcut])


def build_wide_resnet(depth=34, width=10, num_classes=10, weight_decay=2e-4,
                      input_shape=(32, 32, 3), name=None):
  """Madry's WideResNet taking [0, 255] float images and returning logits.

  Args:
    depth: 6n+4 (Madry's 34: 5 units per stage).
    width: widening factor (Madry's 10).
    num_classes: logits.
    weight_decay: Madry's units, wd * sum(w^2) / 2 over conv and logit kernels.
    input_shape: image shape.
    name: model name (default wide_resnet_<depth>_<width>).

  Returns:
    The Keras model, its layers named after Madry's TF1 variable scopes.
  """
  n = units_per_stage(depth)
  filters = [16, 16 * width, 32 * width, 64 * width]
  b = _Builder(weight_decay)
  inputs = keras.Input(input_shape, name='image')
  x = PerImageStandardization(name='input__standardization', dtype='float32')(inputs)
  x = b.conv(x, filters[0], 1, 'input/init_conv')
  for stage in range(3):
    for i in range(n):
      first = i == 0
      x = b.residual_unit(
          x, filters[stage] if first else filters[stage + 1], filters[stage + 1],
          STAGE_STRIDES[stage] if first else 1,
          activate_before_residual=first and stage == 0, scope=f'unit_{stage + 1}_{i}')
  x = b.bn_lrelu(x, 'unit_last')
  x = keras.layers.GlobalAveragePooling2D(name='unit_last__pool')(x)
  logits = keras.layers.Dense(
      num_classes, kernel_initializer=keras.initializers.VarianceScaling(1.0, 'fan_in', 'uniform'),
      bias_initializer='zeros', kernel_regularizer=b.regularizer, name='logit',
      dtype='float32')(x)  # float32 logits under any compute precision
  return keras.Model(inputs, logits, name=name or f'madry_wrn_{depth}_{width}')
