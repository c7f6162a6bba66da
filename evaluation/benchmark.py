"""Evaluates any Keras classifier, not only a run folder or a Madry checkpoint: the
TensorFlow counterpart of RobustBench's `benchmark(model, ...)` and AutoAttack's
`run_standard_evaluation`. Same suites, same results.json as eval.py.

  from evaluation.benchmark import benchmark
  result = benchmark(my_keras_model, 'mnist', 'runs/my_model_eval', suites=('autoattack',),
                     num_examples=1000, manual_dir='../shared/data/mnist')
  print(result['clean_acc'], result['autoattack_acc'])

The model takes images in the dataset's pixel scale (MNIST [0, 1], CIFAR [0, 255]; the
paper's units, as every attack budget here) and returns logits.
"""

import numpy as np

from data_input.loader import Split
from data_input.specs import get_spec
from evaluation.model_io import LoadedModel
from evaluation.model_io import weights_sha256
from evaluation.settings import EvalSettings
from evaluation.settings import validate
from run_support.errors import UserError


def _given_examples(examples, spec):
  """(images, labels) from the caller as a Split: uint8 NHWC images, integer labels."""
  images, labels = (np.asarray(a) for a in examples)
  if images.dtype != np.uint8 or images.shape[1:] != spec.image_shape:
    raise UserError(f'examples: images must be uint8 of shape (N, {", ".join(map(str, spec.image_shape))}) '
                    f'(raw pixels; they are scaled to the model\'s range), got {images.dtype} '
                    f'{images.shape}')
  if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
    raise UserError(f'examples: labels must be {len(images)} integers, got {labels.dtype} {labels.shape}')
  return Split(images, labels.astype(np.int64), 'given by the caller', partial=False,
               file_order=False)


def benchmark(model, dataset, output_dir, suites=('autoattack',), attacks=(),
              num_examples=None, epsilon=None, examples=None, name='keras_model',
              transfer_sources=(), seed=0, batch_size=200, manual_dir=None, data_dir=None,
              download=False):
  """Evaluates `model` and writes output_dir/results.json and results.md.

  Args:
    model: a Keras classifier: images in the dataset's pixel scale -> logits.
    dataset: 'mnist', 'cifar10' or 'cifar100' (the budgets and units of its suites).
    output_dir: where results go; a rerun on the same model and images resumes there.
    suites: eval.py's suites (evaluation.settings.SUITES); () for clean accuracy only.
    attacks: eval.py --attacks entries ('name:key=value,...').
    num_examples: the first N test images (default all).
    epsilon: the suites' budget instead of the paper's (pixel units).
    examples: (uint8 images NHWC, labels) to evaluate on instead of the test split.
    name: how results.json names the model.
    transfer_sources: eval.py --transfer_sources entries (name=folder[+folder...]).
    seed, batch_size, manual_dir, data_dir, download: as eval.py's flags.

  Returns:
    The results.json document: clean_acc, every attack's per-example outcome, worst cases
    and, once its chain has run, autoattack_acc.
  """
  from evaluation.evaluate import evaluate  # pylint: disable=g-import-not-at-top  (TensorFlow)
  spec = get_spec(dataset)
  settings = validate(EvalSettings(
      model_dir='', dataset=dataset, num_examples=num_examples, eval_batch_size=batch_size,
      suites=tuple(suites), attacks=tuple(attacks), transfer_sources=tuple(transfer_sources),
      output_dir=output_dir, seed=seed, epsilon=epsilon, manual_dir=manual_dir,
      data_dir=data_dir, download=download), model_given=True)
  target = LoadedModel(model, name, 'keras', dataset, None, weights_sha256(model))
  test = _given_examples(examples, spec) if examples is not None else None
  document, _ = evaluate(settings, target, test)
  return document
