"""One compiled training step, a pure function of the batch and the optimizer's step count:
what the model is trained on (the 'inputs' regularizers, Gaussian noise, then the
adversary), the objective on it (the 'targets' and 'logits' regularizers: label smoothing,
logit squeezing; regularizers/registry.py), and the update. It reads no files and writes
none (the run folder is training/run_folder.py's)."""

import tensorflow as tf

from attacks import Attack
from attacks import PGDConfig
from attacks.seeds import derived_seed
from regularizers.registry import build_terms
from run_support.distribution import is_distributed
from training.objective import training_objective


def training_attack(model, spec, cfg):
  """Madry's training adversary (PGD on xent), or None without --adv_train."""
  if not cfg.adv_train:
    return None
  config = PGDConfig(name='training_pgd', epsilon=cfg.adv_epsilon, step_size=cfg.adv_step_size,
                     steps=cfg.adv_steps, random_start=cfg.adv_random_start, loss='xent',
                     model_training=cfg.adv_bn_training, precision=cfg.precision)
  return Attack(model, config, (0.0, spec.pixel_max), score=False)


def weighted_inputs(noisy, adversarial, clean_weight):
  """Eq. 1 as the list of (weight, images) whose objectives are summed: the (noisy) batch
  alone without an adversary; with one, its adversarial batch, and the clean batch too when
  kappa = clean_weight > 0 (Madry's 100% adversarial batches skip the clean pass)."""
  if adversarial is None:
    return [(1.0, noisy)]
  terms = [(1.0 - clean_weight, adversarial)]
  return terms + [(clean_weight, noisy)] if clean_weight > 0 else terms


def make_train_step(model, optimizer, spec, cfg, strategy=None, monitor=None):
  """One compiled training step on the global batch: noise, (adversary), forward,
  regularized loss, update.

  Args:
    model, optimizer: the Keras model and its built optimizer.
    spec: the dataset spec (classes, pixel range).
    cfg: the resolved TrainConfig.
    strategy: a tf.distribute strategy; under several replicas each takes its slice of the
      global batch and the loss terms are those of the global batch (training/objective.py).
    monitor: a guard.LossMonitor recording a non-finite loss inside the graph, or None.

  Returns:
    train_step(images, labels) -> {'loss', 'xent', 'logit_norm', 'total_loss', 'accuracy'}.
  """
  strategy = strategy or tf.distribute.get_strategy()
  distributed = is_distributed(strategy)
  replicas = strategy.num_replicas_in_sync
  per_replica = cfg.batch_size // replicas
  input_terms = build_terms(cfg, spec, 'inputs')
  target_terms = build_terms(cfg, spec, 'targets')
  logit_terms = build_terms(cfg, spec, 'logits')
  attack = training_attack(model, spec, cfg)

  def objective(images, labels):
    logits = model(images, training=True)
    ctx = tf.distribute.get_replica_context()
    sum_over_replicas = (lambda v: ctx.all_reduce(tf.distribute.ReduceOp.SUM, v)) if distributed else None
    share, terms = training_objective(logits, labels, spec.num_classes, cfg.loss_reduction,
                                      cfg.batch_size, target_terms, logit_terms,
                                      sum_over_replicas)
    return logits, share, terms

  def transformed(images, step):
    """The batch after every 'inputs' regularizer, each with its own stateless seed (the
    first one's is (seed, step), as the noise always had)."""
    for i, (_, transform) in enumerate(input_terms):
      seed = tf.stack([tf.constant(cfg.seed + i * 1000003, tf.int64), step])
      images = transform(images, seed)
    return images

  def gradient_step(noisy, labels, step):
    """Forward, loss and update on this replica's examples."""
    adversarial = None
    if attack is not None:
      adversarial, _ = attack(noisy, labels, seed=derived_seed(cfg.seed, step))
    with tf.GradientTape() as tape:
      share, terms, logits = None, None, None
      for weight, images in weighted_inputs(noisy, adversarial, cfg.adv_clean_weight):
        term_logits, term_share, term_terms = objective(images, labels)
        if share is None:  # the first term's logits give the training accuracy
          share, logits = weight * term_share, term_logits
          terms = {k: weight * v for k, v in term_terms.items()}
        else:
          share += weight * term_share
          terms = {k: terms[k] + weight * v for k, v in term_terms.items()}
      regularization = tf.add_n([tf.constant(0.0)] + list(model.losses)) / replicas
      total = share + regularization
    grads = tape.gradient(total, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    correct = tf.reduce_sum(tf.cast(tf.argmax(logits, -1) == labels, tf.float32))
    return terms, regularization, correct

  def replica_step(noisy, labels, step):
    ctx = tf.distribute.get_replica_context()
    start = ctx.replica_id_in_sync_group * per_replica
    terms, regularization, correct = gradient_step(
        noisy[start:start + per_replica], labels[start:start + per_replica], step)
    total = lambda v: ctx.all_reduce(tf.distribute.ReduceOp.SUM, v)
    return dict(terms, total_loss=terms['loss'] + total(regularization),
                accuracy=total(correct) / cfg.batch_size)

  @tf.function(jit_compile=cfg.jit_compile)  # validate() refuses XLA where it cannot work
  def train_step(images, labels):
    step = tf.cast(optimizer.iterations, tf.int64)
    noisy = transformed(images, step)
    if not distributed:
      terms, regularization, correct = gradient_step(noisy, labels, step)
      out = dict(terms, total_loss=terms['loss'] + regularization,
                 accuracy=correct / cfg.batch_size)
    else:
      out = strategy.run(replica_step, args=(noisy, labels, step))
      out = {k: strategy.experimental_local_results(v)[0] for k, v in out.items()}
    if monitor is not None:
      monitor.observe(step + 1, out['total_loss'])
    return out

  return train_step
