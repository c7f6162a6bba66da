"""Trains Madry's MNIST CNN or CIFAR WideResNet with label smoothing, logit squeezing and
Gaussian noise (Shafahi et al.), resuming from the latest checkpoint in --model_dir.

  python train.py --dataset=cifar10 --alpha=0.95 --sigma=20
  python train.py --flagfile=configs/paper/mnist_alpha0.2_beta0_sigma0.3_k400k.cfg

Unset flags take Madry's defaults for the dataset (see docs/assumptions.md).
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top

from run_support import cli
from run_support.common_flags import define_common_flags
from run_support.errors import UserError
from run_support.precisions import PRECISIONS
from run_support.strategies import define_strategy_flag
from run_support.quiet_import import import_tensorflow_quietly
from regularizers.registry import all_settings
from training.config import LR_SCHEDULES
from training.config import TrainConfig
from training.config import validate

FLAGS = flags.FLAGS


def _define_setting_flag(setting):
  """A regularizer setting's flag, of its default's type."""
  if setting.choices is not None:
    flags.DEFINE_enum(setting.name, setting.default, list(setting.choices), setting.help)
    return
  define = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float,
            str: flags.DEFINE_string}[type(setting.default)]
  define(setting.name, setting.default, setting.help)


def define_train_flags():
  """Registers train.py's flags (once per process)."""
  if 'train_steps' in FLAGS:
    return
  define_common_flags()
  d = TrainConfig()
  for setting in all_settings():  # the regularizers' (regularizers/registry.py)
    _define_setting_flag(setting)
  # Schedule and architecture (None: Madry's default for the dataset).
  flags.DEFINE_integer('train_steps', None, "Training steps, the paper's k (MNIST 100000, CIFAR 80000).")
  flags.DEFINE_integer('batch_size', None, 'Global batch size (MNIST 50, CIFAR 128).')
  flags.DEFINE_integer('depth', d.depth, "WideResNet depth, 6n+4 (CIFAR only; Madry's 34, the "
                       "paper's text says 28).")
  flags.DEFINE_integer('width', d.width, 'WideResNet width multiplier (CIFAR only).')
  flags.DEFINE_enum('optimizer', None, ['adam', 'momentum'], 'MNIST adam, CIFAR momentum.')
  flags.DEFINE_float('learning_rate', None, 'Initial rate (MNIST 1e-4, CIFAR 0.1).')
  flags.DEFINE_enum('lr_schedule', d.lr_schedule, list(LR_SCHEDULES), "piecewise: Madry's "
                    'constant rate with decays (--lr_decay_fractions); cyclic: Wong et al.\'s '
                    'one cycle, linear from 0 to --learning_rate at --lr_peak_fraction of the '
                    'run and back to 0 at its end.')
  flags.DEFINE_float('lr_peak_fraction', d.lr_peak_fraction, 'Cyclic schedule: the fraction '
                     "of train_steps where the rate peaks (Wong's MNIST 0.4).")
  flags.DEFINE_list('lr_decay_fractions', None, 'Fractions of train_steps after which the rate '
                    'is multiplied by lr_decay_factor (MNIST none, CIFAR 0.5,0.75).')
  flags.DEFINE_float('lr_decay_factor', d.lr_decay_factor, 'Learning-rate decay factor.')
  flags.DEFINE_float('momentum', d.momentum, 'Momentum of the momentum optimizer.')
  flags.DEFINE_float('weight_decay', None, "Madry's weight_decay: adds wd * sum(w^2)/2 over "
                     'kernels (MNIST 0, CIFAR 2e-4).')
  flags.DEFINE_enum('loss_reduction', None, ['sum', 'mean'], 'Batch cross-entropy reduction '
                    '(MNIST sum, CIFAR mean, as Madry).')
  flags.DEFINE_integer('train_holdout', None, 'First N training images held out (MNIST 5000, '
                       "as Madry's 55k split; CIFAR 0).")
  flags.DEFINE_bool('augment', None, "Madry's CIFAR pad-crop-flip augmentation (CIFAR default on).")
  # Adversarial training, the paper's baseline (Eq. 1).
  flags.DEFINE_bool('adv_train', d.adv_train, 'Train on PGD adversarial examples (Madry et al.).')
  flags.DEFINE_float('adv_clean_weight', d.adv_clean_weight, "Eq. 1's kappa: weight of the clean "
                     'loss; 0 = 100% adversarial batches (Madry).')
  flags.DEFINE_float('adv_epsilon', None, 'Training PGD epsilon, pixel units (MNIST 0.3, CIFAR 8).')
  flags.DEFINE_float('adv_step_size', None, 'Training PGD step (MNIST 0.01, CIFAR 2).')
  flags.DEFINE_integer('adv_steps', None, 'Training PGD steps (MNIST 40, CIFAR 7).')
  flags.DEFINE_bool('adv_random_start', d.adv_random_start, 'Random start in the epsilon-ball.')
  flags.DEFINE_bool('adv_bn_training', None, "Run the training attack with batch norm in training "
                    "mode, updating its statistics, as Madry's CIFAR code (CIFAR default on).")
  # Reproducibility and speed.
  define_strategy_flag()
  flags.DEFINE_bool('divergence_guard', d.divergence_guard, 'Stop with an error when the loss '
                    'or weights stop being finite; warn when test accuracy collapses to chance.')
  flags.DEFINE_bool('stop_on_collapse', d.stop_on_collapse, 'Stop (instead of warning) when '
                    'test accuracy collapses to chance.')
  flags.DEFINE_bool('deterministic', d.deterministic, 'Enable TensorFlow op determinism.')
  flags.DEFINE_enum('precision', d.precision, list(PRECISIONS), 'Training compute precision: '
                    'float32 (faithful default) or bfloat16 (Keras mixed_bfloat16 on CPUs/GPUs '
                    'that have it; logits, losses and regularizers float32; the exported '
                    'model is float32).')
  flags.DEFINE_bool('jit_compile', d.jit_compile, 'XLA-compile the training step (not with '
                    '--adv_train or a distribution strategy).')
  # Bookkeeping.
  flags.DEFINE_integer('checkpoint_every', d.checkpoint_every, 'Steps between checkpoints.')
  flags.DEFINE_integer('keep_checkpoints', d.keep_checkpoints, 'Checkpoints kept.')
  flags.DEFINE_integer('log_every', d.log_every, 'Steps between progress lines and summaries.')
  flags.DEFINE_integer('eval_every', d.eval_every, 'Steps between clean test evaluations.')
  flags.DEFINE_integer('eval_examples', d.eval_examples, 'First N test images for periodic evaluation (0: none).')
  flags.DEFINE_integer('final_eval_examples', None, 'First N test images for the final accuracy (default all).')


def config_from_flags():
  """A resolved, validated TrainConfig from the parsed flags."""
  values = {name: FLAGS[name].value for name in TrainConfig.__dataclass_fields__ if name in FLAGS}
  fractions = values.get('lr_decay_fractions')
  if fractions is not None:
    try:
      values['lr_decay_fractions'] = tuple(float(f) for f in fractions)
    except ValueError:
      raise UserError(f'--lr_decay_fractions must be numbers, got {",".join(fractions)}') from None
  values['model_dir'] = values.get('model_dir') or ''
  values['dataset'] = values.get('dataset') or TrainConfig.dataset
  return validate(TrainConfig(**values).resolved())


def config_from_flagfile(path, *extra_flags):
  """The resolved, validated TrainConfig a flagfile (and any flags after it) gives (nested
  flagfiles are read relative to the working directory, the repository's root), leaving the
  process's parsed flags as they were. The host script must not mark flags required: they
  are unset while the flagfile is parsed."""
  from absl.testing import flagsaver  # pylint: disable=g-import-not-at-top
  define_train_flags()
  with flagsaver.flagsaver():
    FLAGS.unparse_flags()
    FLAGS(['train.py', f'--flagfile={path}', *extra_flags])
    return config_from_flags()


def main(argv, data_override=None):
  """Entry point; returns the final metrics. `data_override` (a training.loop.TrainData)
  lets tests and drivers use other data."""
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  cfg = config_from_flags()
  import_tensorflow_quietly()
  from training import loop  # pylint: disable=g-import-not-at-top  (TensorFlow: after validation)
  return loop.train(cfg, data_override)


define_train_flags()

if __name__ == '__main__':
  cli.run(main)
