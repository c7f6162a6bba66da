"""A speed peer: Madry's MNIST training and PGD attack loops as TF1 graph-mode code
(tf.compat.v1 graph and session), written here from the facts in
shared/reference/madry_models.md, not copied from their repository.

As their code does: a [None, 784] float32 input; unnamed variables created in order;
summed cross-entropy; Adam 1e-4 on the summed loss; PGD as a numpy loop fetching the
input gradient with one session call per step (random start uniform in the eps-ball and
clipped, sign step, clip to the ball and to [0, 1], final iterate); adversarial training
runs that attack on each batch, then the training op.
"""

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1


class MadryMnistTF1:
  """Madry's MNIST CNN, its training op and its PGD attack in a TF1 graph of its own."""

  def __init__(self, seed=4557077):
    self.graph = tf.Graph()
    with self.graph.as_default():
      v1.set_random_seed(seed)
      self.global_step = v1.train.get_or_create_global_step()
      self.x_input = v1.placeholder(tf.float32, [None, 784])
      self.y_input = v1.placeholder(tf.int64, [None])
      weight = lambda shape: tf.Variable(v1.truncated_normal(shape, stddev=0.1))
      bias = lambda shape: tf.Variable(tf.constant(0.1, shape=shape))
      self.variables = [weight([5, 5, 1, 32]), bias([32]), weight([5, 5, 32, 64]), bias([64]),
                        weight([3136, 1024]), bias([1024]), weight([1024, 10]), bias([10])]
      w1, b1, w2, b2, w3, b3, w4, b4 = self.variables
      h = tf.reshape(self.x_input, [-1, 28, 28, 1])
      h = tf.nn.relu(tf.nn.conv2d(h, w1, [1, 1, 1, 1], 'SAME') + b1)
      h = tf.nn.max_pool2d(h, 2, 2, 'SAME')
      h = tf.nn.relu(tf.nn.conv2d(h, w2, [1, 1, 1, 1], 'SAME') + b2)
      h = tf.nn.max_pool2d(h, 2, 2, 'SAME')
      h = tf.nn.relu(tf.matmul(tf.reshape(h, [-1, 3136]), w3) + b3)
      self.logits = tf.matmul(h, w4) + b4
      self.xent = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=self.y_input, logits=self.logits))
      self.num_correct = tf.reduce_sum(tf.cast(
          tf.equal(tf.argmax(self.logits, 1), self.y_input), tf.int64))
      self.input_grad = tf.gradients(self.xent, self.x_input)[0]
      self.train_op = v1.train.AdamOptimizer(1e-4).minimize(self.xent,
                                                            global_step=self.global_step)
      self._new_values = [v1.placeholder(tf.float32, v.shape) for v in self.variables]
      self._assign = [v.assign(p) for v, p in zip(self.variables, self._new_values)]
      init = v1.global_variables_initializer()
    self.session = v1.Session(graph=self.graph)
    self.session.run(init)

  def set_weights(self, weights):
    """Loads weights in Madry's order (kernel, bias of conv1, conv2, fc1, fc2)."""
    self.session.run(self._assign, dict(zip(self._new_values, weights)))

  def _feed(self, x, y):
    return {self.x_input: np.reshape(x, (len(x), 784)), self.y_input: y}

  def train_step(self, x, y):
    self.session.run(self.train_op, self._feed(x, y))

  def pgd(self, x_nat, y, rng, epsilon=0.3, step_size=0.01, steps=40):
    """The final iterate of PGD on the summed xent, in numpy as Madry's pgd_attack.py."""
    x = np.clip(x_nat + rng.uniform(-epsilon, epsilon, x_nat.shape), 0, 1)
    for _ in range(steps):
      grad = self.session.run(self.input_grad, self._feed(x, y)).reshape(x.shape)
      x = np.clip(np.clip(x + step_size * np.sign(grad), x_nat - epsilon, x_nat + epsilon), 0, 1)
    return x

  def adversarial_train_step(self, x, y, rng):
    self.train_step(self.pgd(x, y, rng), y)

  def num_correct_on(self, x, y):
    return int(self.session.run(self.num_correct, self._feed(x, y)))
