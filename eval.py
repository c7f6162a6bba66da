"""Evaluates a model train.py wrote: clean accuracy, the paper's white-box and black-box
attacks, stronger adversaries, and gradient-masking alarms. Results go to
<model_dir>/eval/results.json and results.md; a rerun skips attacks already done
and resumes a cut-off one at its first missing batch.

  python eval.py --model_dir=runs/quick_mnist --num_examples=1000 --suite=paper_whitebox
  python eval.py --model_dir=runs/ls --suite=paper_blackbox --blackbox_source=runs/natural
  python eval.py --model_dir=runs/ls --attacks='pgd100_cw:steps=100,loss=cw,restarts=10'
  python eval.py --model_dir=runs/ls --suite=transfer \
      --transfer_sources=natural=runs/natural,ensemble=runs/natural+runs/natural_seed1
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top

from attacks.registry import METHODS
from attacks.registry import help_text as registry_help_text
from evaluation.settings import DEFAULT_MADRY_DIR
from evaluation.settings import SUITES
from evaluation.settings import EvalSettings
from evaluation.settings import validate
from run_support import cli
from run_support.common_flags import define_common_flags
from run_support.errors import UserError
from run_support.precisions import PRECISIONS
from run_support.strategies import define_strategy_flag
from run_support.quiet_import import import_tensorflow_quietly

FLAGS = flags.FLAGS


def define_eval_flags():
  """Registers eval.py's flags (once per process)."""
  if 'suite' in FLAGS:
    return
  define_common_flags()
  d = EvalSettings(model_dir='')
  flags.DEFINE_list('suite', list(d.suites), f'Attack suites: {", ".join(SUITES)} (empty, with no --attacks: clean accuracy only).')
  flags.DEFINE_multi_string('attacks', [], 'Custom attack, repeatable: name:key=value,...; '
                            f'method={"|".join(METHODS)} (default pgd) decides which keys '
                            'apply, threat=black-box crafts it on --blackbox_source. Keys '
                            'and defaults (budget: the dataset\'s paper budget):\n'
                            + registry_help_text())
  flags.DEFINE_bool('early_stop', d.early_stop, "The suites' PGD attacks stop attacking a point "
                    'at the first iterate that fools it and keep that iterate (at least as '
                    "strong, cheaper); off: the paper's protocol, every step, final iterate "
                    'scored. --attacks entries set it themselves (early_stop=true).')
  flags.DEFINE_enum('attack_precision', d.attack_precision, list(PRECISIONS), "The suites' "
                    'white-box PGD attacks take their gradients from the model computing in '
                    'this precision (bfloat16: a mixed_bfloat16 copy with the same weights, '
                    'faster on CPUs with AVX-512 BF16); every x_adv is scored on the float32 '
                    'model. Recorded in each attack\'s config. --attacks entries set it '
                    'themselves (precision=bfloat16).')
  flags.DEFINE_string('blackbox_source', None, 'The model black-box attacks are crafted on: a '
                      'model folder (e.g. a naturally trained model; folder+folder+... for an '
                      'ensemble averaging their logits), or madry_ckpt for '
                      "Madry's checkpoint in --madry_ckpt_dir.")
  flags.DEFINE_list('transfer_sources', [], 'Models the transfer suite crafts on, as '
                    'name=folder, or name=folder+folder+... for an ensemble that averages '
                    'their logits; e.g. natural=models/mnist/natural,noise=models/mnist/sigma0.5.')
  flags.DEFINE_string('transfer_cache_dir', None, 'Folder keeping the examples black-box '
                      'attacks craft, keyed by source weights, attack, seed and images, so '
                      'evaluating other targets against the same sources crafts nothing again '
                      '(MNIST: about 3 MB per 1,000 images and restart).')
  flags.DEFINE_string('madry_ckpt_dir', None, "Madry's TF1 checkpoint: a folder with a "
                      '`checkpoint` file, or a prefix such as .../checkpoint-70000. Evaluated '
                      'itself when --model_dir is not given (with --dataset); default for '
                      f'--blackbox_source=madry_ckpt: {DEFAULT_MADRY_DIR}, where '
                      '`python -m madry_compat.fetch <dataset> adv_trained` unpacks Madry\'s.')
  define_strategy_flag()
  flags.DEFINE_float('kappa', d.kappa, "Margin of Madry's CW loss (the first author's later "
                     'code used 0).')


def settings_from_flags():
  return validate(EvalSettings(
      model_dir=FLAGS.model_dir or '', dataset=FLAGS.dataset, num_examples=FLAGS.num_examples,
      eval_batch_size=FLAGS.eval_batch_size, suites=tuple(FLAGS.suite), attacks=tuple(FLAGS.attacks),
      blackbox_source=FLAGS.blackbox_source, transfer_sources=tuple(FLAGS.transfer_sources),
      madry_ckpt_dir=FLAGS.madry_ckpt_dir, transfer_cache_dir=FLAGS.transfer_cache_dir,
      output_dir=FLAGS.output_dir, seed=FLAGS.seed,
      kappa=FLAGS.kappa, early_stop=FLAGS.early_stop, attack_precision=FLAGS.attack_precision,
      epsilon=FLAGS.epsilon,
      strategy=FLAGS.strategy, data_dir=FLAGS.data_dir, manual_dir=FLAGS.manual_dir,
      download=FLAGS.download))


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  settings = settings_from_flags()
  import_tensorflow_quietly()
  from evaluation.evaluate import evaluate  # pylint: disable=g-import-not-at-top  (TensorFlow)
  _, markdown = evaluate(settings)
  print(markdown, end='')


define_eval_flags()

if __name__ == '__main__':
  cli.run(main)
