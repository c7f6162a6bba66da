"""Ships a finished training run as `models/<dataset>/<row>/`: Madry's TF1 checkpoint format
(weights and global step, no optimizer slots), so Madry's own code and
`eval.py --madry_ckpt_dir` load it, beside its final_metrics.json, flags.cfg and a
model.json that records the clean accuracy tests check it against.

  python -m experiments.ship_model --run_dir=runs/mnist_paper/natural --row=natural \
      --manual_dir=../shared/data/mnist
"""

import json
import os
import shutil
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

from data_input import loader
from data_input.specs import get_spec
from evaluation.accuracy import clean_accuracy
from evaluation.accuracy import make_predict_fn
from evaluation.model_io import load_model_folder
from madry_compat.checkpoint import save_madry_checkpoint
from run_support.atomic_io import write_json_atomic
from run_support.run_files import FLAGS_FILE
from run_support.run_files import METRICS_FILE

FLAGS = flags.FLAGS

MODEL_CARD = 'model.json'
CHECK_EXAMPLES = 500  # clean accuracy on the first 500 test images, in the files' order


def check_accuracy(model, manual_dir, spec):
  """Clean accuracy on the first CHECK_EXAMPLES test images in the original files' order
  (read raw, so it does not depend on tfds' order)."""
  split = loader.load_split(spec.name, 'test', manual_dir=manual_dir)
  if not split.file_order:
    sys.exit(f'ship_model: error: {manual_dir} holds no raw {spec.name} test files (the check '
             'is on the files\' order)')
  return clean_accuracy(make_predict_fn(model), split, spec, 250, CHECK_EXAMPLES)[0]


def define_ship_flags():
  flags.DEFINE_string('run_dir', None, 'A finished train.py folder.')
  flags.DEFINE_string('row', None, 'Name of the shipped model (folder under models/<dataset>/).')
  flags.DEFINE_string('models_dir', 'models', 'Where shipped models live.')
  flags.DEFINE_string('group', None, 'Folder under --models_dir (default: the dataset\'s '
                      'name; the CIFAR-10 subset study ships to cifar10_subset).')
  flags.DEFINE_string('manual_dir', '../shared/data/mnist', 'The dataset\'s raw files (the '
                      'accuracy check reads the test images in the files\' order).')
  flags.mark_flags_as_required(['run_dir', 'row'])


def main(_):
  loaded = load_model_folder(FLAGS.run_dir)
  if loaded.global_step is None:
    sys.exit(f'{FLAGS.run_dir} has no {METRICS_FILE}: is the run finished?')
  out = os.path.join(FLAGS.models_dir, FLAGS.group or loaded.dataset, FLAGS.row)
  os.makedirs(out, exist_ok=True)
  save_madry_checkpoint(loaded.model, os.path.join(out, f'checkpoint-{loaded.global_step}'),
                        loaded.global_step)
  for name in (METRICS_FILE, FLAGS_FILE):
    shutil.copyfile(os.path.join(FLAGS.run_dir, name), os.path.join(out, name))
  with open(os.path.join(FLAGS.run_dir, METRICS_FILE)) as f:
    metrics = json.load(f)
  card = {'row': FLAGS.row, 'dataset': loaded.dataset, 'global_step': loaded.global_step,
          'weights_sha256': loaded.weights_sha256,
          'test_accuracy_all': metrics['test_accuracy'], 'train_seconds': metrics['train_seconds'],
          f'clean_accuracy_first{CHECK_EXAMPLES}_file_order':
              check_accuracy(loaded.model, FLAGS.manual_dir, get_spec(loaded.dataset))}
  write_json_atomic(os.path.join(out, MODEL_CARD), card)
  print(json.dumps(card, indent=2))


if __name__ == '__main__':
  define_ship_flags()
  app.run(main)
