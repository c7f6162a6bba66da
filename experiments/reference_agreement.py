"""Held-out check: our attacks against reference implementations on the same weights and
the same images. Not part of the tests (it needs PyTorch, the reference AutoAttack and IBM
ART, none of which the project installs):

  pip install -e ".[reference]"    # torch, pyautoattack, adversarial-robustness-toolbox
  python -m experiments.reference_agreement --model_dir=models/mnist/natural --dataset=mnist \
      --num_examples=500 --epsilon=0.05 --manual_dir=../shared/data/mnist \
      --output=docs/results/reference_agreement/natural_eps0.05.json

Ours is eval.py's own path (`--suite=autoattack`, and the paired attacks as `--attacks`
entries). The reference AutoAttack (Croce & Hein's code, `pyautoattack`) runs its
standard version on a PyTorch copy of the MNIST CNN holding the same weights (checked
logit by logit); ART runs each paired attack (ART_PAIRS) on the Keras model itself, with
the same settings as ours. `--references` picks which. Exit status 1 when our chain
leaves more than --tolerance above the reference AutoAttack's robust accuracy.
"""

import logging as std_logging
import os
import re
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
import numpy as np

from data_input import loader
from data_input.pipeline import to_model_scale
from data_input.specs import get_spec
from evaluation.evaluate import evaluate
from evaluation.model_io import load_model_folder
from evaluation.settings import settings_for_folder
from run_support.atomic_io import write_json_atomic
from run_support import cli
from run_support.errors import RunFailure
from run_support.errors import UserError

FLAGS = flags.FLAGS
REFERENCE_PACKAGES = 'pip install torch pyautoattack adversarial-robustness-toolbox'


def define_flags():
  flags.DEFINE_string('model_dir', None, 'A model folder (train.py output or Madry TF1 checkpoint).')
  flags.DEFINE_string('dataset', 'mnist', 'Only mnist: the PyTorch copy is of the MNIST CNN.')
  flags.DEFINE_integer('num_examples', 500, 'First N test images.')
  flags.DEFINE_float('epsilon', None, 'L-infinity budget (default: the paper\'s).')
  flags.DEFINE_float('tolerance', 0.01, 'How far our chain may stay above the reference.')
  flags.DEFINE_string('manual_dir', None, 'Raw dataset files (as eval.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as eval.py).')
  flags.DEFINE_list('references', ['autoattack', 'art'], 'Which references to run: the '
                    'reference AutoAttack (standard version, against our --suite=autoattack) '
                    'and/or paired attacks of IBM ART.')
  flags.DEFINE_string('output', None, 'Where to write the JSON record (optional).')
  flags.mark_flag_as_required('model_dir')


# Paired comparisons with ART: (label, our eval.py --attacks entry without its name, ART's
# attack class name and arguments besides the classifier, eps and batch size).
ART_PAIRS = (
    ('APGD-CE, 100 iterations, 1 random start', 'method=apgd',
     'AutoProjectedGradientDescent', dict(max_iter=100, nb_random_init=1, eps_step='2eps',
                                          loss_type='cross_entropy')),
    ("APGD-CE, 100 iterations, 5 random starts (ART's default)", 'method=apgd,restarts=5',
     'AutoProjectedGradientDescent', dict(max_iter=100, nb_random_init=5, eps_step='2eps',
                                          loss_type='cross_entropy')),
    ("PGD-40, step 0.01, random start (Madry's)", 'steps=40,step=0.01',
     'ProjectedGradientDescent', dict(max_iter=40, eps_step=0.01, num_random_init=1)),
    ("PGD with ART's defaults: 100 steps of 0.1, no random start", 'steps=100,step=0.1,rand=false',
     'ProjectedGradientDescent', dict(max_iter=100, eps_step=0.1, num_random_init=0)),
)


def _ours(model_dir, dataset, n, eps, workdir, chain):
  """Our robust accuracy after each attack, through eval.py's own evaluate()."""
  settings = settings_for_folder(
      model_dir, dataset=dataset, num_examples=n, suites=('autoattack',) if chain else (),
      output_dir=workdir, manual_dir=FLAGS.manual_dir, data_dir=FLAGS.data_dir, epsilon=eps,
      attacks=tuple(f'pair{i}:{text}' for i, (_, text, _, _) in enumerate(ART_PAIRS)))
  start = time.perf_counter()
  document, _ = evaluate(settings)
  by_name = {a['name']: a for a in document['attacks']}
  return {'clean': document['clean_acc'],
          'chain': document['autoattack']['robust_after'] if chain else None,
          'pairs': [by_name[f'pair{i}']['accuracy'] for i in range(len(ART_PAIRS))],
          'seconds': {name: a['seconds'] for name, a in by_name.items()},
          'total_seconds': time.perf_counter() - start}


def _torch_copy(keras_model):
  """The MNIST CNN in PyTorch with the Keras model's weights (NCHW input)."""
  import torch  # pylint: disable=g-import-not-at-top

  layers = {name: keras_model.get_layer(name).get_weights()
            for name in ('conv1', 'conv2', 'fc1', 'fc2')}

  class MnistCNN(torch.nn.Module):
    def __init__(self):
      super().__init__()
      self.conv1 = torch.nn.Conv2d(1, 32, 5, padding=2)
      self.conv2 = torch.nn.Conv2d(32, 64, 5, padding=2)
      self.fc1 = torch.nn.Linear(7 * 7 * 64, 1024)
      self.fc2 = torch.nn.Linear(1024, 10)

    def forward(self, x):
      x = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
      x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
      x = x.permute(0, 2, 3, 1).reshape(len(x), -1)  # Keras flattens height, width, channel
      return self.fc2(torch.relu(self.fc1(x)))

  net = MnistCNN()
  with torch.no_grad():
    for name in ('conv1', 'conv2'):
      kernel, bias = layers[name]
      getattr(net, name).weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
      getattr(net, name).bias.copy_(torch.from_numpy(bias))
    for name in ('fc1', 'fc2'):
      kernel, bias = layers[name]
      getattr(net, name).weight.copy_(torch.from_numpy(kernel.T.copy()))
      getattr(net, name).bias.copy_(torch.from_numpy(bias))
  return net.eval()


class _RobustAfter(std_logging.Handler):
  """Collects 'robust accuracy after X: Y%' from the reference AutoAttack's log."""

  def __init__(self):
    super().__init__()
    self.after = {}

  def emit(self, record):
    match = re.match(r'robust accuracy after (\S+): ([\d.]+)%', record.getMessage())
    if match:
      self.after[match.group(1).lower()] = float(match.group(2)) / 100


def _reference_autoattack(keras_model, x, y, eps):
  import torch  # pylint: disable=g-import-not-at-top
  from pyautoattack import AutoAttack  # pylint: disable=g-import-not-at-top
  net = _torch_copy(keras_model)
  x_t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
  with torch.no_grad():
    gap = np.abs(net(x_t).numpy() - keras_model(x, training=False).numpy()).max()
  if gap > 1e-3:
    raise UserError(f'the PyTorch copy disagrees with the Keras model (max logit gap {gap:.3g})')
  handler = _RobustAfter()
  log = std_logging.getLogger('auto-attack')
  log.addHandler(handler)
  log.setLevel(std_logging.DEBUG)
  start = time.perf_counter()
  adversary = AutoAttack(net, norm='Linf', eps=eps, version='standard', seed=0, device='cpu')
  x_adv, _ = adversary.run_standard_evaluation(x_t, torch.from_numpy(y), batch_size=500)
  with torch.no_grad():
    final = float((net(x_adv).argmax(1).numpy() == y).mean())
  return {'chain': handler.after, 'final': final, 'logit_gap': float(gap),
          'total_seconds': time.perf_counter() - start}


def _art(keras_model, x, y, eps):
  """ART's attacks of ART_PAIRS on the Keras model itself: robust accuracy and seconds."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from art.attacks import evasion  # pylint: disable=g-import-not-at-top
  from art.estimators.classification import TensorFlowV2Classifier  # pylint: disable=g-import-not-at-top
  classifier = TensorFlowV2Classifier(
      keras_model, nb_classes=10, input_shape=x.shape[1:], clip_values=(0.0, 1.0),
      loss_object=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  accuracy, seconds = [], []
  for _, _, class_name, kwargs in ART_PAIRS:
    kwargs = {k: 2 * eps if v == '2eps' else v for k, v in kwargs.items()}
    attack = getattr(evasion, class_name)(classifier, norm=np.inf, eps=eps, batch_size=500,
                                          verbose=False, **kwargs)
    start = time.perf_counter()
    accuracy.append(float((classifier.predict(attack.generate(x, y)).argmax(1) == y).mean()))
    seconds.append(time.perf_counter() - start)
  return {'pairs': accuracy, 'seconds': seconds}


def _table(ours, reference, art):
  fmt = lambda v: '-' if v is None else f'{100 * v:.1f}%'
  lines = ['| robust accuracy | ours | reference | which reference |', '|---|---|---|---|',
           f'| clean | {fmt(ours["clean"])} | | |']
  if reference:
    for ours_name, ref_name in (('aa_apgd_ce', 'apgd-ce'), ('aa_apgd_t', 'apgd-t'),
                                ('aa_fab_t', 'fab-t'), ('aa_square', 'square')):
      lines.append(f'| AutoAttack (standard), after {ref_name} | '
                   f'{fmt(ours["chain"].get(ours_name))} | '
                   f'{fmt(reference["chain"].get(ref_name))} | reference AutoAttack |')
  if art:
    lines += [f'| {label} | {fmt(a)} | {fmt(b)} | IBM ART |' for (label, _, _, _), a, b in
              zip(ART_PAIRS, ours['pairs'], art['pairs'])]
  return '\n'.join(lines)


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  spec = get_spec(FLAGS.dataset)
  if spec.architecture != 'mnist_cnn':
    raise UserError('the PyTorch copy is of the MNIST CNN: --dataset=mnist only')
  unknown = set(FLAGS.references) - {'autoattack', 'art'}
  if unknown or not FLAGS.references:
    raise UserError(f'--references takes autoattack and/or art, got {FLAGS.references}')
  try:
    if 'autoattack' in FLAGS.references:
      import pyautoattack  # pylint: disable=g-import-not-at-top,unused-import
    if 'art' in FLAGS.references:
      import art  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError as e:
    raise UserError(f'{e.name} is missing: {REFERENCE_PACKAGES}') from None
  eps = FLAGS.epsilon if FLAGS.epsilon is not None else spec.paper_attack.epsilon
  loaded = load_model_folder(FLAGS.model_dir, spec.name)
  test = loader.load_split(spec.name, 'test', FLAGS.data_dir, FLAGS.manual_dir)
  n = FLAGS.num_examples
  x = to_model_scale(test.images[:n], spec).astype(np.float32)
  y = test.labels[:n].astype(np.int64)
  chain = 'autoattack' in FLAGS.references
  with tempfile.TemporaryDirectory() as workdir:
    ours = _ours(FLAGS.model_dir, spec.name, n, eps, workdir, chain)
  reference = _reference_autoattack(loaded.model, x, y, eps) if chain else None
  art_results = _art(loaded.model, x, y, eps) if 'art' in FLAGS.references else None
  record = {'model': loaded.state(), 'examples': f'first {n} test images ({test.source})',
            'epsilon': eps, 'art_pairs': [p[0] for p in ART_PAIRS], 'ours': ours,
            'reference_autoattack': reference, 'art': art_results, 'tolerance': FLAGS.tolerance}
  print(_table(ours, reference, art_results))
  verdict = True
  if chain:
    ours_final = ours['chain']['aa_square']
    verdict = record['agrees'] = ours_final <= reference['final'] + FLAGS.tolerance
    print(f'our AutoAttack {100 * ours_final:.1f}% vs reference {100 * reference["final"]:.1f}%: '
          f'{"agrees" if verdict else "WEAKER than the reference"} (tolerance '
          f'{100 * FLAGS.tolerance:g} points)')
  if FLAGS.output:
    write_json_atomic(FLAGS.output, record)
  if not verdict:
    raise RunFailure(f'our AutoAttack leaves {100 * (ours_final - reference["final"]):.1f} '
                     'points more than the reference')


if __name__ == '__main__':
  define_flags()
  cli.run(main)
