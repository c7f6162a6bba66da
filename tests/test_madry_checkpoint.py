"""Madry TF1 checkpoints: fixtures written by a TF1 graph and Saver with Madry's names and
random values, loaded logits against that graph's own forward pass, save/load round trip,
and clear errors."""

import os

import numpy as np
import pytest
import tensorflow as tf

from madry_compat import build_model
from madry_compat.checkpoint import load_madry_checkpoint
from madry_compat.checkpoint import save_madry_checkpoint
from run_support.errors import UserError

v1 = tf.compat.v1
RNG = np.random.default_rng(7)


def _rand(shape, scale=0.1):
  return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _write_mnist_tf1(prefix, images):
  """Madry's MNIST graph in TF1: unnamed (positional) variables, Adam slots, Saver."""
  graph = tf.Graph()
  with graph.as_default():
    v1.train.get_or_create_global_step()
    shapes = [[5, 5, 1, 32], [32], [5, 5, 32, 64], [64], [3136, 1024], [1024], [1024, 10], [10]]
    w = [v1.Variable(_rand(s)) for s in shapes]  # names Variable, Variable_1, ...
    x = v1.placeholder(tf.float32, [None, 28, 28, 1])
    h = tf.nn.relu(tf.nn.conv2d(x, w[0], [1, 1, 1, 1], 'SAME') + w[1])
    h = tf.nn.max_pool2d(h, 2, 2, 'SAME')
    h = tf.nn.relu(tf.nn.conv2d(h, w[2], [1, 1, 1, 1], 'SAME') + w[3])
    h = tf.nn.max_pool2d(h, 2, 2, 'SAME')
    h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 3136]), w[4]) + w[5])
    logits = tf.matmul(h, w[6]) + w[7]
    train = v1.train.AdamOptimizer(1e-4).minimize(tf.reduce_sum(logits))
    with v1.Session(graph=graph) as sess:
      sess.run(v1.global_variables_initializer())
      sess.run(train, {x: images})  # non-zero Adam slots, which the loader must ignore
      out = sess.run(logits, {x: images})
      v1.train.Saver().save(sess, prefix, global_step=99900)
  return out


def _wrn_tf1_forward(x, depth, width, values):
  """Madry's CIFAR WideResNet in eval mode, written from his model.py's description."""
  def var(name, shape, init):
    values.setdefault(name, init(shape))
    return v1.get_variable(name, initializer=values[name])

  def bn(h, scope):
    c = h.shape[-1]
    gamma = var(f'{scope}/BatchNorm/gamma', [c], lambda s: 1 + _rand(s))
    beta = var(f'{scope}/BatchNorm/beta', [c], _rand)
    mean = var(f'{scope}/BatchNorm/moving_mean', [c], _rand)
    variance = var(f'{scope}/BatchNorm/moving_variance', [c],
                   lambda s: (0.5 + RNG.random(s)).astype(np.float32))
    return tf.nn.batch_normalization(h, mean, variance, beta, gamma, 1e-3)

  def lrelu(h):
    return tf.where(h < 0.0, 0.1 * h, h)

  def conv(h, scope, cin, cout, stride):
    kernel = var(f'{scope}/DW', [3, 3, cin, cout], lambda s: _rand(s, np.sqrt(2.0 / (9 * cout))))
    return tf.nn.conv2d(h, kernel, [1, stride, stride, 1], 'SAME')

  n = (depth - 4) // 6
  filters = [16, 16 * width, 32 * width, 64 * width]
  h = tf.map_fn(tf.image.per_image_standardization, x)
  h = conv(h, 'input/init_conv', 3, 16, 1)
  for stage in range(3):
    for i in range(n):
      scope = f'unit_{stage + 1}_{i}'
      cin = filters[stage] if i == 0 else filters[stage + 1]
      cout, stride = filters[stage + 1], ((1, 2, 2)[stage] if i == 0 else 1)
      if stage == 0 and i == 0:
        h = lrelu(bn(h, f'{scope}/shared_activation'))
        shortcut = h
      else:
        shortcut = h
        h = lrelu(bn(h, f'{scope}/residual_only_activation'))
      h = conv(h, f'{scope}/sub1/conv1', cin, cout, stride)
      h = conv(lrelu(bn(h, f'{scope}/sub2')), f'{scope}/sub2/conv2', cout, cout, 1)
      if cin != cout:
        shortcut = tf.nn.avg_pool2d(shortcut, stride, stride, 'VALID')
        pad = (cout - cin) // 2
        shortcut = tf.pad(shortcut, [[0, 0], [0, 0], [0, 0], [pad, pad]])
      h = h + shortcut
  h = tf.reduce_mean(lrelu(bn(h, 'unit_last')), [1, 2])
  kernel = var('logit/DW', [filters[3], 10], _rand)
  return tf.matmul(h, kernel) + var('logit/biases', [10], _rand)


def _cw50(logits, labels):
  mask = tf.one_hot(labels, 10)
  correct = tf.reduce_sum(mask * logits, 1)
  wrong = tf.reduce_max((1 - mask) * logits - 1e4 * mask, 1)
  return -tf.nn.relu(correct - wrong + 50)


def _write_cifar_tf1(prefix, images, labels, depth, width):
  graph = tf.Graph()
  with graph.as_default():
    step = v1.train.get_or_create_global_step()
    x = v1.placeholder(tf.float32, [None, 32, 32, 3])
    logits = _wrn_tf1_forward(x, depth, width, {})
    xent = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    grads = [tf.gradients(xent, x)[0], tf.gradients(tf.reduce_sum(_cw50(logits, labels)), x)[0]]
    v1.train.MomentumOptimizer(0.1, 0.9).minimize(xent, global_step=step)  # Momentum slots
    with v1.Session(graph=graph) as sess:
      sess.run(v1.global_variables_initializer())
      out = sess.run([logits] + grads, {x: images})
      v1.train.Saver().save(sess, prefix, global_step=70000)
  return out


def test_mnist_tf1_checkpoint_loads_exactly(tmp_path):
  images = RNG.random((6, 28, 28, 1)).astype(np.float32)
  expected = _write_mnist_tf1(str(tmp_path / 'checkpoint'), images)
  model = load_madry_checkpoint(str(tmp_path), 'mnist')  # folder with a `checkpoint` file
  np.testing.assert_allclose(model(images, training=False), expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize('depth,width', [(10, 2), pytest.param(34, 10, marks=pytest.mark.slow)])
def test_cifar_tf1_checkpoint_logits_and_gradients_match(tmp_path, depth, width):
  images = (RNG.random((4, 32, 32, 3)) * 255).astype(np.float32)
  labels = np.array([0, 3, 5, 9])
  logits, grad_xent, grad_cw = _write_cifar_tf1(str(tmp_path / 'checkpoint'), images, labels,
                                                depth, width)
  model = load_madry_checkpoint(str(tmp_path / 'checkpoint-70000'), 'cifar10')
  assert model.name == f'madry_wrn_{depth}_{width}'
  np.testing.assert_allclose(model(images, training=False), logits, atol=1e-4)
  x = tf.constant(images)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    ours = model(x, training=False)
    xent = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, ours))
    cw = tf.reduce_sum(_cw50(ours, labels))
  for loss, reference in ((xent, grad_xent), (cw, grad_cw)):
    got = tape.gradient(loss, x).numpy()
    assert np.linalg.norm(got - reference) <= 0.02 * np.linalg.norm(reference)


def test_save_then_load_is_bit_exact(tmp_path):
  model = build_model('cifar10', depth=16, width=2)
  model(tf.random.uniform([8, 32, 32, 3], maxval=255.0), training=True)  # non-default BN stats
  prefix = save_madry_checkpoint(model, str(tmp_path / 'checkpoint-1'))
  names = dict(tf.train.list_variables(prefix))
  assert names['unit_2_0/sub1/conv1/DW'] == [3, 3, 32, 64] and 'logit/biases' in names
  loaded = load_madry_checkpoint(str(tmp_path), 'cifar10')
  for a, b in zip(model.weights, loaded.weights):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.fixture
def mnist_checkpoint(tmp_path):
  return save_madry_checkpoint(build_model('mnist'), str(tmp_path / 'ckpt' / 'checkpoint-5'))


def test_wrong_dataset(mnist_checkpoint):
  with pytest.raises(UserError, match='MNIST checkpoint, but --dataset=cifar10'):
    load_madry_checkpoint(mnist_checkpoint, 'cifar10')


def test_truncated_checkpoint(mnist_checkpoint):
  data = mnist_checkpoint + '.data-00000-of-00001'
  with open(data, 'r+b') as f:
    f.truncate(os.path.getsize(data) // 2)
  with pytest.raises(UserError, match='cannot read checkpoint'):
    load_madry_checkpoint(mnist_checkpoint, 'mnist')


def _save_raw(prefix, tensors):
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=list(tensors), shape_and_slices=[''] * len(tensors),
                    tensors=[tf.constant(v) for v in tensors.values()])
  return prefix


def test_missing_and_misshapen_variables(tmp_path):
  full = dict(tf.train.list_variables(save_madry_checkpoint(build_model('mnist'), str(tmp_path / 'a'))))
  values = {n: np.zeros(s, np.float32) for n, s in full.items()}
  del values['Variable_5']
  with pytest.raises(UserError, match='missing: Variable_5'):
    load_madry_checkpoint(_save_raw(str(tmp_path / 'b'), values), 'mnist')
  values['Variable_5'] = np.zeros([1000], np.float32)
  with pytest.raises(UserError, match=r'wrong shape: Variable_5 \[1000\] \(model \[1024\]\)'):
    load_madry_checkpoint(_save_raw(str(tmp_path / 'c'), values), 'mnist')


def test_no_checkpoint_here(tmp_path):
  with pytest.raises(UserError, match='no TF1 "checkpoint" state file'):
    load_madry_checkpoint(str(tmp_path), 'mnist')
