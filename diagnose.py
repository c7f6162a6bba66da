"""The paper's analysis of one or more trained models, side by side: logit gap, gradient
gap, epsilon_L (Eq. 4), gradient cosine, Table 1 (predicted vs FGSM accuracy), logit
histograms, penultimate-neuron activity and loss landscapes. PNG figures + diagnostics.json.

  python diagnose.py --model_dirs=runs/natural,runs/ls --num_examples=500 --output_dir=diag
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top

from run_support import cli
from run_support.common_flags import define_common_flags
from run_support.errors import UserError
from run_support.quiet_import import import_tensorflow_quietly

FLAGS = flags.FLAGS


def define_diagnose_flags():
  if 'model_dirs' in FLAGS:
    return
  define_common_flags()
  flags.DEFINE_list('model_dirs', [], 'Folders train.py wrote, or folders holding Madry\'s TF1 '
                    'checkpoint (with --dataset), compared in every figure.')
  flags.DEFINE_integer('landscape_examples', 8, 'Test images with a loss landscape.')
  flags.DEFINE_integer('landscape_points', 21, 'Grid points per axis.')
  flags.DEFINE_float('landscape_extent', None, 'Grid half-width in pixel units (CIFAR 10 as '
                     'the paper; MNIST 0.4).')


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not FLAGS.model_dirs:
    raise UserError('give --model_dirs=DIR[,DIR...]')
  if not FLAGS.output_dir:
    raise UserError('give --output_dir')
  if os.path.isfile(FLAGS.output_dir):
    raise UserError(f'--output_dir {FLAGS.output_dir} is a file, not a folder')
  for d in FLAGS.model_dirs:
    if not os.path.isdir(d):
      raise UserError(f'--model_dirs: {d} is not a folder')
  num_examples = 500 if FLAGS.num_examples is None else FLAGS.num_examples
  for name, value in (('num_examples', num_examples), ('landscape_examples', FLAGS.landscape_examples),
                      ('landscape_points', FLAGS.landscape_points),
                      ('eval_batch_size', FLAGS.eval_batch_size)):
    if value <= 0:
      raise UserError(f'--{name} must be > 0, got {value}')
  if FLAGS.epsilon is not None and FLAGS.epsilon < 0:
    raise UserError(f'--epsilon must be >= 0, got {FLAGS.epsilon}')
  import_tensorflow_quietly()
  from diagnostics.run import DiagnoseSettings  # pylint: disable=g-import-not-at-top
  from diagnostics.run import diagnose  # pylint: disable=g-import-not-at-top
  doc = diagnose(DiagnoseSettings(
      model_dirs=tuple(FLAGS.model_dirs), output_dir=FLAGS.output_dir, dataset=FLAGS.dataset,
      num_examples=num_examples, batch_size=FLAGS.eval_batch_size, epsilon=FLAGS.epsilon,
      landscape_examples=FLAGS.landscape_examples, landscape_points=FLAGS.landscape_points,
      landscape_extent=FLAGS.landscape_extent, data_dir=FLAGS.data_dir,
      manual_dir=FLAGS.manual_dir, seed=FLAGS.seed))
  print('| model | clean | predicted (eps < eps_L) | FGSM xent | FGSM CW | inactive neurons |')
  print('|---|---|---|---|---|---|')
  for label, m in doc['models'].items():
    t = m['table1']
    print(f'| {label} | {m["clean_accuracy"]:.2%} | {t["predicted_accuracy"]:.2%} | '
          f'{t["fgsm_xent_accuracy"]:.2%} | {t["fgsm_cw_accuracy"]:.2%} | '
          f'{m["inactive_penultimate_neurons"]}/{m["penultimate_neurons"]} |')


define_diagnose_flags()

if __name__ == '__main__':
  cli.run(main)
