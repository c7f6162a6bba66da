"""Loads "a model folder" for eval.py, diagnose.py and black-box sources: train.py's
model.keras, or Madry's TF1 checkpoint (a folder with a `checkpoint` state file, or a
prefix), together with the model state it holds (global step, hash of the weights)."""

import dataclasses
import hashlib
import os
from typing import Optional

import keras
import tensorflow as tf

import madry_compat  # noqa: F401  (registers Madry's custom layers for deserialisation)
from madry_compat.checkpoint import load_madry_checkpoint
from madry_compat.checkpoint import read_global_step
from madry_compat.checkpoint import resolve_prefix
from run_support.errors import UserError
from run_support.run_files import CONFIG_FILE
from run_support.run_files import is_madry_checkpoint
from run_support.run_files import METRICS_FILE
from run_support.run_files import MODEL_FILE
from run_support.read_json import read_json


def run_config(model_dir):
  """The settings train.py recorded in model_dir/run_config.json, or None when absent."""
  path = os.path.join(model_dir, CONFIG_FILE)
  if not os.path.isfile(path):
    return None
  try:
    return read_json(path, 'train.py writes it')['config']
  except (KeyError, TypeError):
    raise UserError(f'{path} has no "config"; was it written by train.py?') from None


def trained_dataset(model_dir):
  """The dataset the model in model_dir was trained on, or None when unrecorded."""
  config = run_config(model_dir) if os.path.isdir(model_dir) else None
  return config['dataset'] if config else None


def weights_sha256(model):
  """A hash of every weight (in the model's order): the same weights give the same hash
  whichever file format they were loaded from."""
  digest = hashlib.sha256()
  for w in model.get_weights():
    digest.update(w.astype('float32').tobytes())
  return digest.hexdigest()


@dataclasses.dataclass
class LoadedModel:
  """A model and what says which state of which model it is."""
  model: keras.Model         # or a LogitEnsemble
  path: str
  kind: str                  # 'keras' (train.py) or 'madry_tf1'
  dataset: str
  global_step: Optional[int]
  weights_sha256: str
  members: tuple = ()        # an ensemble's LoadedModels

  def state(self):
    """What a results file records of the model it measured (the path as given)."""
    state = {'path': os.path.normpath(self.path), 'kind': self.kind, 'dataset': self.dataset,
             'global_step': self.global_step, 'weights_sha256': self.weights_sha256}
    if self.members:
      state['members'] = [m.state() for m in self.members]
    return state


def same_model_state(a, b):
  """Whether two recorded model states are the same model: dataset, step and weights (not
  where the folder happens to be, so a clone elsewhere reuses shipped results)."""
  key = lambda s: s and (s.get('dataset'), s.get('global_step'), s.get('weights_sha256'))
  return key(a) == key(b)


def _load_keras(model_dir, flag):
  path = os.path.join(model_dir, MODEL_FILE)
  if not os.path.isfile(path):
    raise UserError(f'{flag} {model_dir} has no {MODEL_FILE}: train.py writes it when a run '
                    'finishes (rerun the training command to finish or re-export)')
  try:
    return keras.models.load_model(path)
  except Exception as e:  # pylint: disable=broad-except  (zip, h5 and Keras errors alike)
    reason = str(e).splitlines()[0] if str(e) else ''
    raise UserError(f'cannot load {path}: {type(e).__name__}: {reason} (truncated or not a '
                    'Keras model?)') from None


def load_model_folder(path, dataset=None, flag='--model_dir'):
  """The model at `path` as a LoadedModel; `dataset` is required for Madry checkpoints and
  must agree with the recorded one for train.py folders. UserError for anything wrong."""
  if is_madry_checkpoint(path):
    if not dataset:
      raise UserError(f'{flag} {path} holds a Madry TF1 checkpoint: pass --dataset')
    prefix = resolve_prefix(path)
    model = load_madry_checkpoint(prefix, dataset)
    return LoadedModel(model, path, 'madry_tf1', dataset, read_global_step(prefix),
                       weights_sha256(model))
  if not os.path.isdir(path):
    raise UserError(f'{flag} {path} is not a folder')
  trained_on = trained_dataset(path)
  if dataset and trained_on and dataset != trained_on:
    raise UserError(f'--dataset={dataset} but {path} was trained on {trained_on}')
  dataset = dataset or trained_on
  if not dataset:
    raise UserError(f'{path} has no {CONFIG_FILE}: pass --dataset')
  model = _load_keras(path, flag)
  metrics_path = os.path.join(path, METRICS_FILE)
  step = (read_json(metrics_path, 'train.py writes it').get('global_step')
          if os.path.isfile(metrics_path) else None)
  return LoadedModel(model, path, 'keras', dataset, step, weights_sha256(model))


class LogitEnsemble:
  """Calls like a Keras model; its logits are the mean of its members' (float32) logits."""

  def __init__(self, models):
    self.models = list(models)
    self.input_shape, self.output_shape = models[0].input_shape, models[0].output_shape

  def __call__(self, x, training=False):
    return tf.add_n([tf.cast(m(x, training=training), tf.float32)
                     for m in self.models]) / len(self.models)


def logit_ensemble(members):
  """One LoadedModel averaging the members' logits (a transfer source made of several
  models, as in Liu et al. 2017); its hash covers every member's weights."""
  digest = hashlib.sha256(''.join(m.weights_sha256 for m in members).encode()).hexdigest()
  return LoadedModel(LogitEnsemble([m.model for m in members]),
                     '+'.join(m.path for m in members), 'ensemble', members[0].dataset, None,
                     digest, tuple(members))


def load_source(folders, dataset, flag):
  """A transfer source: the model in the one folder, or the logit ensemble of several."""
  members = [load_model_folder(folder, dataset, flag) for folder in folders]
  return members[0] if len(members) == 1 else logit_ensemble(members)
