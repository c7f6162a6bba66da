"""The paper's train-accuracy column for models trained before train.py recorded it: clean
accuracy (no noise, no adversary, no augmentation) on every training image the run used
(Madry's held-out ones excluded), as train.py's final_metrics.json now records it. The
images are read the way the run read them: a run that read tfds' prepared data held out
tfds' first examples, not the files' (its final_metrics.json names the source), so such a
model is measured on tfds' order, prepared offline from --manual_dir when needed. Writes
train_accuracy.json beside each model, naming the weights and the images it measured; a
model whose file already names its weights is skipped.

  python -m experiments.train_accuracy --models=models/mnist/natural,models/mnist/sigma0.5 \
      --manual_dir=../shared/data/mnist
"""

import dataclasses
import json
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
from absl import logging

from data_input import loader
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.errors import UserError
from run_support.run_files import METRICS_FILE

FLAGS = flags.FLAGS
TRAIN_ACCURACY_JSON = 'train_accuracy.json'


def define_flags():
  flags.DEFINE_list('models', None, 'Model folders (shipped Madry checkpoints or train.py '
                    'folders), each with the final_metrics.json of its run.')
  flags.DEFINE_string('manual_dir', None, 'Raw data folder (as train.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as train.py).')
  flags.DEFINE_integer('batch_size', 500, 'Images per forward pass.')
  flags.mark_flags_as_required(['models'])


def _final_metrics(folder):
  path = os.path.join(folder, METRICS_FILE)
  if not os.path.isfile(path):
    raise UserError(f'{path} is missing: the run\'s settings say which images it trained on')
  with open(path) as f:
    return json.load(f)


def training_split(metrics, manual_dir=None, data_dir=None):
  """(training images, held-out images) of the run, in the order it read them."""
  from data_input import tfds_source  # pylint: disable=g-import-not-at-top
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  config = metrics['config']
  spec = get_spec(config['dataset'])
  if metrics.get('test_split', {}).get('source', '').startswith('tfds:'):
    data_dir = data_dir or tfds_source.default_data_dir()
    if not tfds_source.is_prepared(spec, data_dir):
      if not tfds_source.has_manual_archives(spec, manual_dir):
        raise UserError(f'the run read tfds\' {spec.name}: give --data_dir with it prepared, '
                        f'or --manual_dir with {", ".join(spec.tfds_manual_files)}')
      tfds_source.prepare(spec, data_dir, manual_dir)
    train = loader.load_split(spec.name, 'train', data_dir, None, download=False)
  else:
    train = loader.load_split(spec.name, 'train', data_dir, manual_dir, download=False)
  holdout = config['train_holdout']
  held_out = dataclasses.replace(train, images=train.images[:holdout], labels=train.labels[:holdout])
  return loader.without_holdout(train, holdout), held_out


def _model_state(loaded):
  return {'global_step': loaded.global_step, 'weights_sha256': loaded.weights_sha256}


def measure(loaded, metrics, manual_dir=None, data_dir=None, batch_size=500):
  """{'train_accuracy', 'examples', 'model', 'held_out_accuracy'} of a loaded model on its
  run's training images, and on the images the run held out (never trained on: lower than
  the train accuracy when the split is the run's)."""
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  from evaluation.accuracy import clean_accuracy  # pylint: disable=g-import-not-at-top
  from evaluation.accuracy import make_predict_fn  # pylint: disable=g-import-not-at-top
  spec = get_spec(metrics['config']['dataset'])
  train, held_out = training_split(metrics, manual_dir, data_dir)
  predict = make_predict_fn(loaded.model)
  accuracy, n = clean_accuracy(predict, train, spec, batch_size, None)
  result = {'train_accuracy': accuracy, 'examples': train.describe(n),
            'model': _model_state(loaded), 'held_out_accuracy': None}
  if len(held_out):
    result['held_out_accuracy'] = clean_accuracy(predict, held_out, spec, batch_size, None)[0]
    result['held_out'] = f'the first {len(held_out)} {held_out.split} images of {held_out.source}'
  return result


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  from evaluation.model_io import load_model_folder  # pylint: disable=g-import-not-at-top
  for folder in FLAGS.models:
    if not os.path.isdir(folder):
      raise UserError(f'--models: {folder} is not a folder')
    metrics = _final_metrics(folder)
    loaded = load_model_folder(folder, metrics['config']['dataset'], flag='--models')
    path = os.path.join(folder, TRAIN_ACCURACY_JSON)
    if os.path.isfile(path):
      with open(path) as f:
        if json.load(f).get('model') == _model_state(loaded):
          logging.info('%s: measured before on these weights, kept', path)
          continue
    result = measure(loaded, metrics, FLAGS.manual_dir, FLAGS.data_dir, FLAGS.batch_size)
    write_json_atomic(path, result)
    logging.info('%s: %.4f on the %s', folder, result['train_accuracy'],
                 result['examples']['which'])


if __name__ == '__main__':
  define_flags()
  cli.run(main)
