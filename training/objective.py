"""The paper's training objective: the cross-entropy on the targets the 'targets'
regularizers give, plus the 'logits' regularizers' penalties (regularizers/registry.py), one
path for one device and for many replicas."""

import collections

import tensorflow as tf

from regularizers import logit_frobenius_norm

# What a 'logits' regularizer needs to know about the loss it joins.
LossContext = collections.namedtuple('LossContext',
                                     ['reduction', 'global_batch_size', 'sum_over_replicas'])


def training_objective(logits, labels, num_classes, reduction, global_batch_size,
                       target_terms=(), logit_terms=(), sum_over_replicas=None):
  """(loss to differentiate here, {'loss', 'xent', 'logit_norm', ...} of the global batch).

  Args:
    logits, labels: this device's rows of the global batch (all of it on one device).
    num_classes: N_c.
    reduction: 'sum' (Madry's MNIST) or 'mean' (Madry's CIFAR) over the global batch.
    global_batch_size: B, the batch all replicas together see.
    target_terms, logit_terms: [(name, fn)] of the active regularizers at those places
      (regularizers.registry.build_terms).
    sum_over_replicas: all-reduce (sum) across replicas; None on one device.

  Returns:
    The loss whose gradients, summed over replicas, are the one-device gradients on the
    global batch, and the global batch's terms for logging (||Z||_F always, squeezed or not).
  """
  targets = tf.one_hot(labels, num_classes, dtype=tf.float32)
  for _, rule in target_terms:
    targets = rule(targets)
  xent = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits))
  if reduction == 'mean':
    xent /= global_batch_size
  global_xent = xent if sum_over_replicas is None else sum_over_replicas(tf.stop_gradient(xent))
  share, loss, logs = xent, global_xent, {}
  context = LossContext(reduction, global_batch_size, sum_over_replicas)
  for _, penalty in logit_terms:
    term_share, value, term_logs = penalty(logits, context)
    share, loss = share + term_share, loss + value
    logs.update(term_logs)
  norm = logit_frobenius_norm(tf.stop_gradient(logits), sum_over_replicas)
  return share, {'loss': loss, 'xent': global_xent, 'logit_norm': norm, **logs}
