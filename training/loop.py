"""The training loop: resumes, steps (training/step.py), logs progress and TensorBoard
summaries, checkpoints under the divergence guard and exports for eval.py (the run folder
itself is training/run_folder.py's)."""

import dataclasses
import os
import time

from absl import logging
import keras
import tensorflow as tf

from data_input import loader
from data_input.pipeline import TrainBatches
from data_input.specs import get_spec
from evaluation.accuracy import clean_accuracy
from evaluation.accuracy import make_predict_fn
from madry_compat import build_model
from run_support.errors import UserError
from run_support.distribution import checkpoint_dir
from run_support.distribution import is_chief
from run_support.distribution import make_strategy
from run_support.distribution import remove_scratch
from run_support.machine import machine_record
from training.guard import DivergenceGuard
from training.guard import LossMonitor
from training import run_folder
from training.optimization import build_optimizer
from training.optimization import current_learning_rate
from training.progress import Progress
from training.step import make_train_step


@dataclasses.dataclass
class TrainData:
  """The training and test splits a run uses (tests pass tiny in-memory ones)."""
  train: loader.Split
  test: loader.Split


def load_data(cfg):
  """Both splits of cfg.dataset, with Madry's held-out training examples removed."""
  args = dict(data_dir=cfg.data_dir, manual_dir=cfg.manual_dir, download=cfg.download)
  train = loader.load_split(cfg.dataset, 'train', **args)
  test = loader.load_split(cfg.dataset, 'test', **args)
  return TrainData(train=train, test=test)


def _write_scalars(writer, step, scalars):
  with writer.as_default(step=step):
    for name, value in scalars.items():
      tf.summary.scalar(name, value)


def _iterations(optimizer):
  """The optimizer's step count (also when its variable is a distributed one)."""
  return int(tf.convert_to_tensor(optimizer.iterations))


def _restore_checkpoint(checkpoint, directory):
  """Restores the latest checkpoint in `directory`, if any; its step or 0."""
  latest = tf.train.latest_checkpoint(directory)
  if not latest:
    return None
  try:
    checkpoint.restore(latest).assert_existing_objects_matched()
  except (tf.errors.OpError, AssertionError, ValueError, IndexError, KeyError) as e:
    reason = (str(e).splitlines() or [type(e).__name__])[0]
    raise UserError(f'cannot restore {latest} (truncated or from another model?): {reason}; '
                    'move the checkpoint away to start afresh') from None
  return latest


def train(cfg, data=None):
  """Runs (or resumes) training for a resolved, validated config; returns final metrics.
  A run that fails on bad input leaves no new empty model_dir behind."""
  existed = os.path.isdir(cfg.model_dir)
  try:
    run = _set_up(cfg)
    data = _restore(run, cfg, data)
    _train_loop(run, cfg, data)
    return _finish(run, cfg, data)
  except UserError:
    run_folder.release_if_empty(cfg, existed)
    raise


@dataclasses.dataclass
class _Run:
  """What a training run holds while it runs."""
  strategy: tf.distribute.Strategy
  chief: bool
  spec: object
  model: keras.Model
  optimizer: keras.optimizers.Optimizer
  train_seconds: tf.Variable
  checkpoint: tf.train.Checkpoint
  manager: tf.train.CheckpointManager
  chief_dir: str
  save_dir: str
  guard: DivergenceGuard
  monitor: LossMonitor
  start_step: int = 0
  segments: list = dataclasses.field(default_factory=list)  # run_folder.segments_before


def _set_up(cfg):
  """Strategy, model folder, model, optimizer, checkpointing and the guard."""
  strategy = make_strategy(cfg.strategy)  # before any other TensorFlow work
  replicas = strategy.num_replicas_in_sync
  if cfg.batch_size % replicas:
    raise UserError(f'--batch_size {cfg.batch_size} (global) must divide evenly among the '
                    f'{replicas} replicas of --strategy={cfg.strategy}')
  chief = is_chief(strategy)
  spec = get_spec(cfg.dataset)
  if chief:
    run_folder.claim(cfg)
  keras.utils.set_random_seed(cfg.seed)
  if cfg.deterministic:
    tf.config.experimental.enable_op_determinism()
  with strategy.scope():
    model = build_model(cfg.dataset, cfg.depth, cfg.width, cfg.weight_decay, spec.num_classes,
                        cfg.precision)
    optimizer = build_optimizer(cfg)
    optimizer.build(model.trainable_variables)
    train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, train_seconds=train_seconds)
  chief_dir = run_folder.checkpoints(cfg)
  save_dir = checkpoint_dir(chief_dir, strategy)
  manager = tf.train.CheckpointManager(checkpoint, save_dir, max_to_keep=cfg.keep_checkpoints,
                                       step_counter=optimizer.iterations)
  guard = DivergenceGuard(spec.num_classes, cfg.train_steps, cfg.divergence_guard,
                          cfg.stop_on_collapse)
  return _Run(strategy, chief, spec, model, optimizer, train_seconds, checkpoint, manager,
              chief_dir, save_dir, guard, LossMonitor())


def _restore(run, cfg, data):
  """Resumes from the chief's latest checkpoint (every worker), then loads the data (after
  the checkpoint, so a broken one fails without waiting), drops Madry's held-out training
  examples and records the config."""
  latest = _restore_checkpoint(run.checkpoint, run.chief_dir)
  run.start_step = _iterations(run.optimizer)
  run.segments = run_folder.segments_before(cfg, run.start_step)
  if latest:
    logging.info('Resumed from %s at step %d.', latest, run.start_step)
    run.guard.kept_checkpoint(latest, run.start_step)
  data = data or load_data(cfg)
  data = TrainData(train=loader.without_holdout(data.train, cfg.train_holdout), test=data.test)
  if cfg.final_eval_examples is not None and cfg.final_eval_examples > len(data.test):
    raise UserError(f'--final_eval_examples {cfg.final_eval_examples} exceeds the '
                    f'{len(data.test)} test examples available')
  if run.chief:
    run_folder.record_config(cfg)
  return data


def _train_loop(run, cfg, data):
  """Steps from the resumed step to cfg.train_steps: progress lines and summaries, periodic
  clean accuracy, guarded checkpoints."""
  batches = TrainBatches(data.train, run.spec, cfg.batch_size, cfg.seed, cfg.augment)
  train_step = make_train_step(run.model, run.optimizer, run.spec, cfg, run.strategy,
                               run.monitor if cfg.divergence_guard else None)
  predict = make_predict_fn(run.model, cfg.jit_compile)
  writer = run_folder.summary_writer(cfg, run.chief)
  progress = Progress(cfg.train_steps, run.start_step, cfg.batch_size)
  logging.info('Training %s on %d %s images (%s) from step %d to %d; %d replica(s), %d '
               'examples each.', run.model.name, len(data.train), cfg.dataset,
               data.train.source, run.start_step, cfg.train_steps,
               run.strategy.num_replicas_in_sync,
               cfg.batch_size // run.strategy.num_replicas_in_sync)
  interval_start = time.perf_counter()  # since the last checkpoint
  sitting = {'from_step': run.start_step, 'to_step': run.start_step, 'seconds': 0.0,
             'machine': machine_record()}  # this process's segment, once it checkpoints
  step = run.start_step
  for images, labels in batches.iterate(run.start_step, cfg.train_steps):
    out = train_step(images, labels)
    step += 1
    if step % cfg.log_every == 0 or step == cfg.train_steps:
      run.guard.check_loss(run.monitor)
      _log_progress(writer, step, out, progress.update(step), run.optimizer, progress)
    if cfg.eval_examples and step % cfg.eval_every == 0:
      n = min(cfg.eval_examples, len(data.test))
      acc, _ = clean_accuracy(predict, data.test, run.spec, cfg.eval_batch_size, n)
      logging.info('step %d: clean accuracy %.4f on the first %d test images', step, acc, n)
      _write_scalars(writer, step, {'test/accuracy': acc})
      run.guard.check_accuracy(step, acc)
    if step % cfg.checkpoint_every == 0 or step == cfg.train_steps:
      run.guard.check_loss(run.monitor)
      run.guard.check_weights(step, run.model.variables)  # batch-norm statistics too
      elapsed = time.perf_counter() - interval_start
      run.train_seconds.assign_add(elapsed)
      sitting.update(to_step=step, seconds=sitting['seconds'] + elapsed)
      interval_start = time.perf_counter()
      run.guard.kept_checkpoint(run.manager.save(checkpoint_number=step), step)
      if run.chief:
        run_folder.record_segments(cfg, run.segments + [sitting])
  if sitting['to_step'] > sitting['from_step']:
    run.segments.append(sitting)
  writer.flush()
  remove_scratch(run.save_dir, run.chief_dir)


def _log_progress(writer, step, out, line, optimizer, progress):
  lr = current_learning_rate(optimizer)  # the rate of the next step
  logging.info('%s | loss %.4f xent %.4f |Z|_F %.2f acc %.3f lr %.2g', line,
               float(out['total_loss']), float(out['xent']), float(out['logit_norm']),
               float(out['accuracy']), lr)
  _write_scalars(writer, step, {
      'train/loss': out['total_loss'], 'train/xent': out['xent'],
      'train/logit_norm': out['logit_norm'], 'train/accuracy': out['accuracy'],
      'train/learning_rate': lr, 'train/steps_per_sec': progress.steps_per_sec})


def _float32_copy(model, cfg, spec):
  """The model itself, or for a bfloat16 run a float32 model with its weights: what is
  exported and evaluated, so evaluation and attacks run in float32."""
  if cfg.precision == 'float32':
    return model
  copy = build_model(cfg.dataset, cfg.depth, cfg.width, cfg.weight_decay, spec.num_classes)
  copy.set_weights(model.get_weights())
  return copy


def _finish(run, cfg, data):
  """Final clean train and test accuracy of the exported (float32) model, model.keras and
  final_metrics.json (chief only)."""
  model = _float32_copy(run.model, cfg, run.spec)
  predict = make_predict_fn(model, cfg.jit_compile)
  test_acc, n_test = clean_accuracy(predict, data.test, run.spec, cfg.eval_batch_size,
                                    cfg.final_eval_examples)
  # The paper's train-accuracy column: clean (no noise, no adversary, no augmentation), on
  # every training image the run used (Madry's held-out ones excluded).
  train_acc, _ = clean_accuracy(predict, data.train, run.spec, cfg.eval_batch_size, None)
  metrics = {
      'global_step': _iterations(run.optimizer),
      'train_accuracy': train_acc,
      'test_accuracy': test_acc,
      'test_examples': n_test,
      'test_split': {'source': data.test.source, 'partial': data.test.partial,
                     'file_order': data.test.file_order, 'which': f'first {n_test}'},
      'train_examples': len(data.train),
      'train_split': data.train.describe(),
      'train_seconds': float(run.train_seconds.numpy()),
      'segments': run.segments,  # which machine trained which steps (seconds per sitting)
      'replicas': run.strategy.num_replicas_in_sync,
      'warnings': run.guard.warnings,
      'config': dataclasses.asdict(cfg),
  }
  if run.chief:
    run_folder.export(cfg, model, metrics)
  logging.info('Done: step %d, clean accuracy %.4f on the %d training images, %.4f on %d test '
               'images; wrote %s.', metrics['global_step'], train_acc, len(data.train), test_acc,
               n_test, cfg.model_dir if run.chief else 'nothing')
  return metrics
