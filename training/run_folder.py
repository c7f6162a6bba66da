"""The life of a train.py run folder (its layout is named in run_support/run_files.py):
checked and claimed before training, its settings recorded, checkpoints and TensorBoard
summaries inside, and the exported model and final metrics at the end. Only the chief
writes here."""

import dataclasses
import json
import os

from absl import logging
import tensorflow as tf

from run_support.atomic_io import save_keras_model_atomic
from run_support.atomic_io import write_json_atomic
from run_support.atomic_io import write_text_atomic
from run_support.errors import UserError
from run_support.run_files import CHECKPOINT_SUBDIR
from run_support.run_files import CONFIG_FILE
from run_support.run_files import FLAGS_FILE
from run_support.run_files import METRICS_FILE
from run_support.run_files import MODEL_FILE
from run_support.run_files import SEGMENTS_FILE
from run_support.run_files import SUMMARY_SUBDIR
from training.config import legacy_identity


def claim(cfg):
  """Creates model_dir; refuses one that cannot be written or holds other settings."""
  try:
    os.makedirs(cfg.model_dir, exist_ok=True)
    probe = os.path.join(cfg.model_dir, '.write_test')
    with open(probe, 'w'):
      pass
    os.remove(probe)
  except OSError as e:
    raise UserError(f'cannot write to --model_dir {cfg.model_dir}: {e.strerror}') from None
  path = os.path.join(cfg.model_dir, CONFIG_FILE)
  if os.path.exists(path):
    try:
      with open(path) as f:
        previous = json.load(f)
      saved, saved_steps = previous['identity'], previous['config']['train_steps']
    except (OSError, ValueError, KeyError, TypeError) as e:
      raise UserError(f'{path} is unreadable ({e!r}); move it away or use a new --model_dir') from None
    saved = legacy_identity(saved)
    saved['lr_decay_fractions'] = tuple(saved.get('lr_decay_fractions', ()))
    diffs = [f'{k}: saved {saved.get(k)!r}, now {v!r}' for k, v in cfg.identity().items()
             if saved.get(k) != v]
    if diffs:
      raise UserError(f'--model_dir {cfg.model_dir} holds a run with other settings '
                      f'({"; ".join(diffs)}); use a new --model_dir')
    if saved_steps != cfg.train_steps:
      logging.warning('--train_steps changed from %d to %d for %s; learning-rate boundaries '
                      '(fractions of train_steps) move with it.', saved_steps, cfg.train_steps,
                      cfg.model_dir)


def release_if_empty(cfg, existed):
  """Removes a model_dir this run created and left empty (a run that failed on bad input)."""
  if not existed and os.path.isdir(cfg.model_dir) and not os.listdir(cfg.model_dir):
    os.rmdir(cfg.model_dir)


def record_config(cfg):
  """run_config.json (what eval.py and a resumed run read) and flags.cfg (to rerun)."""
  write_json_atomic(os.path.join(cfg.model_dir, CONFIG_FILE),
                    {'identity': cfg.identity(), 'config': dataclasses.asdict(cfg)})
  write_text_atomic(os.path.join(cfg.model_dir, FLAGS_FILE), cfg.as_flags())


def segments_before(cfg, step):
  """The recorded training segments ({from_step, to_step, seconds, machine}) up to `step`,
  where a resumed run starts: a later part whose checkpoint is gone is dropped. A run from
  before segments were recorded has none for its earlier steps."""
  path = os.path.join(cfg.model_dir, SEGMENTS_FILE)
  if not os.path.isfile(path):
    return []
  try:
    with open(path) as f:
      recorded = json.load(f)['segments']
    return [dict(s, to_step=min(s['to_step'], step)) for s in recorded if s['from_step'] < step]
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise UserError(f'{path} is unreadable ({e!r}); move it away to resume') from None


def record_segments(cfg, segments):
  """training_segments.json: which machine trained which steps, in how many seconds."""
  write_json_atomic(os.path.join(cfg.model_dir, SEGMENTS_FILE), {'segments': segments})


def checkpoints(cfg):
  """The folder of the run's checkpoints (the chief's)."""
  return os.path.join(cfg.model_dir, CHECKPOINT_SUBDIR)


def summary_writer(cfg, chief):
  """TensorBoard's writer into the run's summaries (a no-op writer off the chief)."""
  if not chief:
    return tf.summary.create_noop_writer()
  return tf.summary.create_file_writer(os.path.join(cfg.model_dir, SUMMARY_SUBDIR))


def export(cfg, model, metrics):
  """The finished run: model.keras (what eval.py loads) and final_metrics.json."""
  save_keras_model_atomic(model, os.path.join(cfg.model_dir, MODEL_FILE))
  write_json_atomic(os.path.join(cfg.model_dir, METRICS_FILE), metrics)
