"""Loads a model that train.py wrote, with the dataset it was trained on."""

import json
import os

import keras

import madry_compat  # noqa: F401  (registers Madry's custom layers for deserialisation)
from run_support.errors import UserError
from run_support.run_files import CONFIG_FILE
from run_support.run_files import MODEL_FILE


def run_config(model_dir):
  """The settings train.py recorded in model_dir/run_config.json, or None when absent."""
  path = os.path.join(model_dir, CONFIG_FILE)
  if not os.path.isfile(path):
    return None
  try:
    with open(path) as f:
      return json.load(f)['config']
  except (OSError, ValueError, KeyError) as e:
    raise UserError(f'{path} is unreadable ({e}); was it written by train.py?') from None


def trained_dataset(model_dir):
  """The dataset the model in model_dir was trained on, or None when unrecorded."""
  config = run_config(model_dir)
  return config['dataset'] if config else None


def load_trained_model(model_dir, flag='--model_dir'):
  """The exported Keras model in `model_dir`; UserError for a missing or broken file."""
  if not os.path.isdir(model_dir):
    raise UserError(f'{flag} {model_dir} is not a folder')
  path = os.path.join(model_dir, MODEL_FILE)
  if not os.path.isfile(path):
    raise UserError(f'{flag} {model_dir} has no {MODEL_FILE}: train.py writes it when a run '
                    'finishes (rerun the training command to finish or re-export)')
  try:
    return keras.models.load_model(path)
  except Exception as e:  # pylint: disable=broad-except  (zip, h5 and Keras errors alike)
    raise UserError(f'cannot load {path}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'
                    ' (truncated or not a Keras model?)') from None
