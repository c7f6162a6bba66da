"""Flags that train.py and eval.py share, defined once so both can live in one process."""

from absl import flags

from data_input.specs import dataset_names

FLAGS = flags.FLAGS


def define_common_flags():
  """--dataset, --model_dir, --data_dir, --manual_dir, --download, --seed, --eval_batch_size,
  --num_examples, --output_dir."""
  if 'manual_dir' in FLAGS:
    return
  flags.DEFINE_string('dataset', None, f'One of {", ".join(dataset_names())}. train.py: default '
                      "mnist; eval.py: default the model's training dataset.")
  flags.DEFINE_string('model_dir', None, 'A training run folder: train.py writes checkpoints, '
                      'summaries, model.keras, final_metrics.json, flags.cfg there and resumes '
                      'from it (default runs/<dataset>_alpha<a>_beta<b>_sigma<s>_k<steps>); '
                      'eval.py evaluates its model.keras.')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (default $TFDS_DATA_DIR or ~/tensorflow_datasets).')
  flags.DEFINE_string('manual_dir', None, 'Folder with the official archives or raw data files.')
  flags.DEFINE_bool('download', True, 'Let tfds download the data when none is found locally '
                    '(--nodownload: stay offline and fail at once, naming the files to provide).')
  flags.DEFINE_integer('seed', 0, 'Seed of initialisation, data order, augmentation, noise and '
                       'attack random starts.')
  flags.DEFINE_integer('eval_batch_size', 200, 'Evaluation batch size.')
  flags.DEFINE_integer('num_examples', None, 'eval.py, diagnose.py: use the first N test images '
                       '(eval.py default all; diagnose.py default 500).')
  flags.DEFINE_float('epsilon', None, 'eval.py, diagnose.py: the L-infinity budget in pixel '
                     "units instead of the paper's (MNIST 0.3, CIFAR 8). eval.py: of its suites "
                     '(step size unchanged; results in their own folder, ..._eps<e>); '
                     'diagnose.py: of Table 1.')
  flags.DEFINE_string('output_dir', None, 'eval.py: where results go (default <model_dir>/eval); '
                      'diagnose.py: where figures and diagnostics.json go (required).')
