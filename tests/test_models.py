"""Madry's architectures: parameter counts, shapes, and the specifics of model.py."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from madry_compat import build_model
from madry_compat import mnist_cnn
from madry_compat import wide_resnet
from madry_compat.checkpoint import precision_twin
from madry_compat.precision import model_precision


def test_mnist_cnn_parameters_shapes_and_init():
  model = build_model('mnist')
  assert model.count_params() == 3274634
  assert model(tf.zeros([3, 28, 28, 1])).shape == (3, 10)
  shapes = {w.path: tuple(w.shape) for w in model.weights}
  assert shapes['conv1/kernel'] == (5, 5, 1, 32)
  assert shapes['conv2/kernel'] == (5, 5, 32, 64)
  assert shapes['fc1/kernel'] == (3136, 1024)
  assert shapes['fc2/kernel'] == (1024, 10)
  for layer in mnist_cnn.TF1_LAYER_ORDER:
    np.testing.assert_allclose(model.get_layer(layer).bias.numpy(), 0.1)
    kernel = model.get_layer(layer).kernel.numpy()
    assert np.abs(kernel).max() <= 0.2 + 1e-6  # truncated at 2 std
  assert model.get_layer('fc1').kernel.numpy().std() == pytest.approx(0.088, abs=0.005)


def test_mnist_tf1_names_are_positional():
  names = mnist_cnn.tf1_variable_names()
  assert names[('conv1', 'kernel')] == 'Variable'
  assert names[('conv1', 'bias')] == 'Variable_1'
  assert names[('fc2', 'bias')] == 'Variable_7'
  assert len(set(names.values())) == 8


def test_madry_wrn_34_10_parameter_count():
  model = build_model('cifar10', depth=34, width=10)
  trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
  assert trainable == 45901914
  assert model.count_params() == 45924346  # plus BN moving statistics


def test_madrys_wrn_34_10_is_default_and_cifar100_has_100_logits():
  model = build_model('cifar100', depth=10, width=1)
  assert model(tf.zeros([2, 32, 32, 3])).shape == (2, 100)
  assert len([l for l in build_model('cifar10').layers if l.name.endswith('sub1__conv1')]) == 15


@pytest.mark.parametrize('depth', [9, 12, 30, 4])
def test_depth_must_be_6n_plus_4(depth):
  with pytest.raises(ValueError, match='6n\\+4'):
    wide_resnet.build_wide_resnet(depth=depth, width=1)


@pytest.fixture(scope='module')
def small_wrn():
  return wide_resnet.build_wide_resnet(depth=16, width=2, weight_decay=2e-4)


def test_wrn_layer_specifics(small_wrn):
  layers = small_wrn.layers
  assert isinstance(layers[1], wide_resnet.PerImageStandardization)
  lrelus = [l for l in layers if isinstance(l, keras.layers.LeakyReLU)]
  bns = [l for l in layers if isinstance(l, keras.layers.BatchNormalization)]
  convs = [l for l in layers if isinstance(l, keras.layers.Conv2D)]
  assert lrelus and all(l.negative_slope == pytest.approx(0.1) for l in lrelus)
  assert len(bns) == len(lrelus) == 3 * 2 * 2 + 1  # two per unit, plus unit_last
  assert all(b.momentum == pytest.approx(0.9) and b.epsilon == pytest.approx(1e-3) for b in bns)
  assert all(not c.use_bias for c in convs)
  # Weight decay on conv kernels and the logit kernel only: Madry's 2e-4 * sum(w^2) / 2.
  assert len(small_wrn.losses) == len(convs) + 1
  kernel = small_wrn.get_layer('logit').kernel
  assert float(small_wrn.get_layer('logit').kernel_regularizer(kernel)) == pytest.approx(
      1e-4 * float(tf.reduce_sum(kernel ** 2)), rel=1e-5)


def test_wrn_names_map_to_madry_scopes(small_wrn):
  names = {l.name for l in small_wrn.layers}
  assert 'input__init_conv' in names and 'logit' in names and 'unit_last__BatchNorm' in names
  assert 'unit_1_0__shared_activation__BatchNorm' in names
  assert 'unit_1_0__residual_only_activation__BatchNorm' not in names
  assert 'unit_2_1__residual_only_activation__BatchNorm' in names
  assert wide_resnet.tf1_scope('unit_2_0__sub1__conv1') == 'unit_2_0/sub1/conv1'
  assert small_wrn.get_layer('unit_2_0__sub1__conv1').strides == (2, 2)
  assert small_wrn.get_layer('unit_2_1__sub1__conv1').strides == (1, 1)


def test_wrn_shortcuts(small_wrn):
  # unit_1_0 takes its shortcut after the shared activation; others before theirs.
  pool = small_wrn.get_layer('unit_1_0__sub_add__pool')
  assert pool.input is small_wrn.get_layer('unit_1_0__shared_activation__lrelu').output
  pool2 = small_wrn.get_layer('unit_2_0__sub_add__pool')
  assert pool2.input is small_wrn.get_layer('unit_1_1__sub_add').output
  assert pool2.pool_size == (2, 2)
  # Symmetric zero channel padding: width 2 gives 32 -> 64 channels, 16 on each side.
  assert small_wrn.get_layer('unit_2_0__sub_add__pad').pad == 16
  assert small_wrn.get_layer('unit_1_0__sub_add__pad').pad == 8
  names = {l.name for l in small_wrn.layers}
  assert 'unit_1_1__sub_add__pool' not in names  # identity shortcut when in == out


def test_per_image_standardization_inside_the_model(small_wrn):
  images = tf.random.stateless_uniform([4, 32, 32, 3], seed=[0, 1], maxval=255.0)
  logits = small_wrn(images, training=False)
  # Standardization makes the logits invariant to per-image brightness and contrast.
  np.testing.assert_allclose(small_wrn(0.5 * images + 40.0, training=False), logits, atol=1e-4)
  with tf.GradientTape() as tape:
    tape.watch(images)
    loss = tf.reduce_sum(small_wrn(images, training=False))
  assert float(tf.reduce_max(tf.abs(tape.gradient(loss, images)))) > 0


def test_saved_model_reloads_with_identical_logits(tmp_path):
  model = build_model('cifar10', depth=10, width=1)
  images = tf.random.stateless_uniform([2, 32, 32, 3], seed=[2, 3], maxval=255.0)
  model(images, training=True)  # move the BN statistics away from their initial values
  path = str(tmp_path / 'model.keras')
  model.save(path)
  reloaded = keras.models.load_model(path)
  np.testing.assert_array_equal(reloaded(images, training=False), model(images, training=False))


def test_forward_flops_of_the_mnist_cnn_by_hand():
  from madry_compat.flops import forward_flops  # pylint: disable=g-import-not-at-top
  conv1 = 28 * 28 * (5 * 5 * 1) * 32       # SAME padding, stride 1
  conv2 = 14 * 14 * (5 * 5 * 32) * 64      # after 2x2 pooling
  dense = 7 * 7 * 64 * 1024 + 1024 * 10
  assert forward_flops(build_model('mnist')) == 2 * (conv1 + conv2 + dense)


@pytest.mark.parametrize('dataset', ['mnist', 'cifar10'])
def test_precision_twin_has_the_weights_and_computes_in_bfloat16(dataset):
  model = build_model(dataset, depth=10, width=1)
  twin = precision_twin(model, dataset, 'bfloat16')
  assert (model_precision(model), model_precision(twin)) == ('float32', 'bfloat16')
  assert len(twin.weights) == len(model.weights)
  for a, b in zip(model.weights, twin.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  shape = (4,) + tuple(model.input_shape[1:])
  x = tf.random.stateless_uniform(shape, seed=[3, 4], maxval=1.0 if dataset == 'mnist' else 255.0)
  ref, low = model(x).numpy(), twin(x)
  assert low.dtype == tf.float32  # float32 logits either way
  assert np.abs(low.numpy() - ref).max() <= 0.05 * np.abs(ref).max() + 1e-2  # bfloat16 rounding
  assert np.abs(low.numpy() - ref).max() > 0  # really computed in another precision
