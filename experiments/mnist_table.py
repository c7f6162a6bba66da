"""Reruns the paper's MNIST study (Tables 2/6) at CPU scale with one command.

Trains each model with train.py and evaluates it with eval.py (both as subprocesses, so
every step is a command a user can rerun by hand), runs diagnose.py over all of them
(epsilon_L, gradient gap, dead neurons, landscapes), then gathers the results into
<runs_dir>/study.json and <runs_dir>/table.md. Work already done is skipped: a model whose
final_metrics.json reached its step budget is not retrained, and eval.py itself skips
attacks already in its results.json. Killed half-way, the same command carries on.

  python experiments/mnist_table.py                       # the whole study
  python experiments/mnist_table.py --dry_run             # print the commands only
  python experiments/mnist_table.py --models=natural,ls0.95_sigma0.3 --reg_steps=20000
"""

import dataclasses
import json
import os
import shlex
import subprocess
import sys
import time

from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from run_support import cli  # pylint: disable=g-import-not-at-top
from run_support.atomic_io import write_json_atomic  # pylint: disable=g-import-not-at-top
from run_support.atomic_io import write_text_atomic  # pylint: disable=g-import-not-at-top
from run_support.errors import UserError  # pylint: disable=g-import-not-at-top

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class Model:
  name: str
  label: str           # as in the paper's tables
  train_flags: tuple
  steps_flag: str      # which budget flag sets its steps: reg_steps, natural_steps, adv_train_steps
  paper: dict          # the paper's Table 6 numbers for the closest row (100k steps unless said)


# The paper's numbers for the closest row of Table 6 / Table 2 (test accuracy, white-box
# PGD-40 on xent and CW, black-box FGSM-CW and PGD from the natural model, in percent).
MODELS = (
    Model('natural', 'natural', (), 'natural_steps',
          dict(clean=None, pgd_xent=None, pgd_cw=None, bb_fgsm=None, bb_pgd=None,
               note='no natural row in Tables 2/6 (it is the black-box source)')),
    Model('noise_sigma0.5', 'sigma=0.5', ('--sigma=0.5',), 'reg_steps',
          dict(clean=98.97, pgd_xent=5.18, pgd_cw=1.95, bb_fgsm=84.23, bb_pgd=86.21,
               note='Table 6: alpha 0, beta 0, sigma 0.5, 100k')),
    Model('ls0.95_sigma0', 'alpha=0.95', ('--alpha=0.95',), 'reg_steps',
          dict(clean=99.21, pgd_xent=0.0, pgd_cw=0.0, bb_fgsm=16.76, bb_pgd=19.81,
               note='Table 6: alpha 0.95, sigma 0, 400k')),
    Model('ls0.95_sigma0.3', 'alpha=0.95, sigma=0.3', ('--alpha=0.95', '--sigma=0.3'),
          'reg_steps',
          dict(clean=99.38, pgd_xent=60.70, pgd_cw=61.93, bb_fgsm=94.29, bb_pgd=77.21,
               note='Tables 2/6: alpha 0.95, sigma 0.3, 100k')),
    Model('lsq0.5_sigma0', 'beta=0.5', ('--beta=0.5',), 'reg_steps',
          dict(clean=64.14, pgd_xent=0.0, pgd_cw=0.0, bb_fgsm=17.69, bb_pgd=24.52,
               note='no beta 0.5, sigma 0 row; Tables 2/6 beta 2, sigma 0, 400k shown')),
    Model('lsq0.5_sigma0.5', 'beta=0.5, sigma=0.5', ('--beta=0.5', '--sigma=0.5'), 'reg_steps',
          dict(clean=99.06, pgd_xent=57.57, pgd_cw=55.77, bb_fgsm=85.91, bb_pgd=87.48,
               note='Table 6: beta 0.5, sigma 0.5, 100k')),
    Model('madry_adv_pgd40', 'Madry PGD-40 adv. training',
          ('--flagfile=configs/madry/mnist_adv_pgd40.cfg',), 'adv_train_steps',
          dict(clean=98.8, pgd_xent=93.2, pgd_cw=93.9, bb_fgsm=96.08, bb_pgd=96.81,
               note='Tables 2/6: Madry et al. adversarial training, 100k')),
)
MODEL_NAMES = tuple(m.name for m in MODELS)
BLACKBOX_SOURCE = 'natural'

# eval.py invocations per model: the paper's white-box and black-box columns, then stronger
# attacks (Table 11's longer PGD on CW, Table 10's restarts on xent).
STRONG_ATTACKS = ('pgd100_cw:steps=100,loss=cw', 'pgd40_xent_restarts10:loss=xent,restarts=10')


def define_study_flags():
  """Registers the driver's flags (once per process)."""
  if 'runs_dir' in FLAGS:
    return
  flags.DEFINE_string('runs_dir', os.path.join('runs', 'mnist_cpu_scale'),
                      'Where the models and the study summary go.')
  flags.DEFINE_string('mnist_dir', os.path.join('..', 'shared', 'data', 'mnist'),
                      'Folder with the four official MNIST .gz files.')
  flags.DEFINE_integer('reg_steps', 6000, 'Training steps of each noise/regularizer model.')
  flags.DEFINE_integer('natural_steps', 4000, 'Training steps of the natural model.')
  flags.DEFINE_integer('adv_train_steps', 600, 'Training steps of PGD-40 adversarial training.')
  flags.DEFINE_integer('attack_examples', 1000, 'First N test images every attack runs on.')
  flags.DEFINE_list('models', list(MODEL_NAMES), 'Which models (the natural model is always '
                    'trained: it is the black-box source).')
  flags.DEFINE_list('extra_suites', [], 'Further eval.py suites per model (e.g. autoattack).')
  flags.DEFINE_integer('extra_examples', None, 'First N test images for --extra_suites '
                       '(default --attack_examples); written to <model>/eval_extra.')
  flags.DEFINE_bool('dry_run', False, 'Print the commands, run nothing.')


def _validate():
  unknown = sorted(set(FLAGS.models) - set(MODEL_NAMES))
  if unknown:
    raise UserError(f'unknown --models {", ".join(unknown)}; choose from {", ".join(MODEL_NAMES)}')
  for name in ('reg_steps', 'natural_steps', 'adv_train_steps', 'attack_examples'):
    if getattr(FLAGS, name) <= 0:
      raise UserError(f'--{name} must be > 0, got {getattr(FLAGS, name)}')
  if not os.path.isdir(FLAGS.mnist_dir):
    raise UserError(f'--mnist_dir {FLAGS.mnist_dir} is not a folder')


def model_dir(name):
  return os.path.join(FLAGS.runs_dir, name)


def train_command(model):
  steps = getattr(FLAGS, model.steps_flag)
  return ['train.py', '--dataset=mnist', *model.train_flags, f'--train_steps={steps}',
          f'--manual_dir={FLAGS.mnist_dir}', f'--model_dir={model_dir(model.name)}']


def eval_commands(model):
  common = ['eval.py', f'--model_dir={model_dir(model.name)}',
            f'--num_examples={FLAGS.attack_examples}', f'--manual_dir={FLAGS.mnist_dir}']
  commands = [common + ['--suite=paper_whitebox']]
  if model.name != BLACKBOX_SOURCE:
    commands.append(common + ['--suite=paper_blackbox',
                              f'--blackbox_source={model_dir(BLACKBOX_SOURCE)}'])
  commands.append(common + ['--suite='] + [f'--attacks={a}' for a in STRONG_ATTACKS])
  if FLAGS.extra_suites:
    n = FLAGS.extra_examples or FLAGS.attack_examples
    commands.append(['eval.py', f'--model_dir={model_dir(model.name)}', f'--num_examples={n}',
                     f'--manual_dir={FLAGS.mnist_dir}', f'--suite={",".join(FLAGS.extra_suites)}',
                     f'--output_dir={os.path.join(model_dir(model.name), "eval_extra")}'])
  return commands


def _trained(model):
  path = os.path.join(model_dir(model.name), 'final_metrics.json')
  try:
    with open(path) as f:
      return json.load(f)['global_step'] >= getattr(FLAGS, model.steps_flag)
  except (OSError, ValueError, KeyError):
    return False


def _run(command, log_name):
  """Runs `python <command>` from the repository root, appending its output to a log."""
  line = 'python ' + shlex.join(command)
  print(line, flush=True)
  if FLAGS.dry_run:
    return
  os.makedirs(os.path.join(FLAGS.runs_dir, 'logs'), exist_ok=True)
  with open(os.path.join(FLAGS.runs_dir, 'commands.log'), 'a') as f:
    f.write(f'{time.strftime("%Y-%m-%d %H:%M:%S")} {line}\n')
  start = time.perf_counter()
  with open(os.path.join(FLAGS.runs_dir, 'logs', log_name), 'a') as log:
    rc = subprocess.call([sys.executable, *command], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
  print(f'  -> exit {rc} after {time.perf_counter() - start:.0f} s', flush=True)
  if rc != 0:
    raise UserError(f'`{line}` failed (exit {rc}); see {FLAGS.runs_dir}/logs/{log_name}')


def _results(directory):
  try:
    with open(os.path.join(directory, 'results.json')) as f:
      return {r['name']: r for r in json.load(f)['attacks']}
  except (OSError, ValueError, KeyError):
    return {}


def summarize(models):
  """study.json (everything) and table.md (the measured rows beside the paper's)."""
  rows, study = [], {}
  for model in models:
    d = model_dir(model.name)
    try:
      with open(os.path.join(d, 'final_metrics.json')) as f:
        metrics = json.load(f)
    except (OSError, ValueError):
      continue
    results = {**_results(os.path.join(d, 'eval_extra')), **_results(os.path.join(d, 'eval'))}
    acc = {k: round(100 * v['accuracy'], 1) for k, v in results.items()}
    seconds = {k: v['seconds'] for k, v in results.items()}
    study[model.name] = {'label': model.label, 'steps': metrics['global_step'],
                         'train_seconds': round(metrics['train_seconds']),
                         'clean_test_accuracy_10k': metrics['test_accuracy'],
                         'accuracy_percent': acc, 'attack_seconds': seconds, 'paper': model.paper,
                         'train_command': 'python ' + shlex.join(train_command(model))}
    cell = lambda k: '-' if acc.get(k) is None else f'{acc[k]:.1f}'
    clean = f'{100 * metrics["test_accuracy"]:.2f}'
    ref = lambda k: '-' if model.paper.get(k) is None else f'{model.paper[k]:g}'
    rows.append(f'| {model.label} | {metrics["global_step"]} | {clean} ({ref("clean")}) | '
                f'{cell("pgd40_xent")} ({ref("pgd_xent")}) | {cell("pgd40_cw")} ({ref("pgd_cw")}) | '
                f'{cell("bb_fgsm_cw")} ({ref("bb_fgsm")}) | {cell("bb_pgd40_xent")} / '
                f'{cell("bb_pgd40_cw")} ({ref("bb_pgd")}) | {cell("pgd100_cw")} | '
                f'{cell("pgd40_xent_restarts10")} | {cell("aa_square")} |')
  header = ('| model | steps | clean, all 10k test (paper) | PGD-40 xent (paper) | PGD-40 CW (paper) | '
            'bb FGSM-CW (paper) | bb PGD-40 xent / CW (paper) | PGD-100 CW | '
            f'PGD-40 xent x10 restarts | AutoAttack (first {FLAGS.extra_examples or FLAGS.attack_examples}) |\n|' +
            '---|' * 10 + '\n')
  text = header + '\n'.join(rows) + '\n' + _diagnostics_table(models)
  write_json_atomic(os.path.join(FLAGS.runs_dir, 'study.json'), study)
  write_text_atomic(os.path.join(FLAGS.runs_dir, 'table.md'), text)
  return text


def _diagnostics_table(models):
  """Medians of Eq. 4's quantities and the dead penultimate neurons, per model."""
  try:
    with open(os.path.join(FLAGS.runs_dir, 'diagnostics', 'diagnostics.json')) as f:
      document = json.load(f)
  except (OSError, ValueError):
    return ''
  lines = ['', f'Diagnostics (diagnose.py, {document["examples"]}, epsilon '
           f'{document["epsilon"]:g}; medians):', '',
           '| model | logit gap | gradient gap | epsilon_L | inactive penultimate neurons |',
           '|---|---|---|---|---|']
  for model in models:
    entry = next((v for k, v in document['models'].items()
                  if k == model.name or k.startswith(model.name + ' (')), None)
    if entry:
      m = {k: v['median'] for k, v in entry['summary'].items()}
      lines.append(f'| {model.label} | {m["logit_gap"]:.3g} | {m["gradient_gap"]:.3g} | '
                   f'{m["epsilon_L"]:.3g} | {entry["inactive_penultimate_neurons"]} of '
                   f'{entry["penultimate_neurons"]} |')
  return '\n'.join(lines) + '\n'


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  _validate()
  wanted = set(FLAGS.models) | {BLACKBOX_SOURCE}
  models = [m for m in MODELS if m.name in wanted]
  for model in models:
    if _trained(model):
      print(f'{model.name}: trained, skipping training', flush=True)
    else:
      _run(train_command(model), f'{model.name}_train.log')
    for command in eval_commands(model):
      _run(command, f'{model.name}_eval.log')
    if not FLAGS.dry_run:
      summarize(models)
  diagnostics = os.path.join(FLAGS.runs_dir, 'diagnostics')
  if os.path.exists(os.path.join(diagnostics, 'diagnostics.json')):
    print('diagnostics: done, skipping', flush=True)
  else:
    _run(['diagnose.py', f'--model_dirs={",".join(model_dir(m.name) for m in models)}',
          f'--num_examples={min(FLAGS.attack_examples, 500)}', f'--manual_dir={FLAGS.mnist_dir}',
          f'--output_dir={diagnostics}'], 'diagnose.log')
  if not FLAGS.dry_run:
    print(summarize(models))


if __name__ == '__main__':
  define_study_flags()
  cli.run(main)
