"""How much --clip_noise changes the Gaussian-noise augmentation: the expected fraction of
noisy pixel values x + N(0, sigma^2) that fall outside the data range [0, pixel_max] (and
are cut to its edge when clipped), over the training images a run uses (Madry's held-out
ones excluded), computed exactly from the images' pixel-value histogram, without sampling.

  python -m experiments.noise_clipping --dataset=mnist --sigmas=0.3,0.5 \
      --manual_dir=../shared/data/mnist --output=docs/results/noise_clipping
"""

import json
import math
import os

from absl import flags
import numpy as np

from data_input import loader
from data_input.specs import get_spec
from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.errors import UserError

FLAGS = flags.FLAGS
RESULTS_JSON = 'noise_clipping.json'


def clipped_fraction(images, sigma, pixel_max):
  """Expected fraction of the values of uint8 `images`, scaled to [0, pixel_max], that land
  outside that range once N(0, sigma^2) noise is added."""
  counts = np.bincount(np.asarray(images, np.uint8).ravel(), minlength=256)
  levels = np.arange(256) * (pixel_max / 255.0)
  tail = lambda distance: np.array([0.5 * math.erfc(d / (sigma * math.sqrt(2))) for d in distance])
  outside = tail(levels) + tail(pixel_max - levels)  # below 0, above pixel_max
  return float(counts @ outside / counts.sum())


def define_flags():
  flags.DEFINE_enum('dataset', 'mnist', ['mnist', 'cifar10', 'cifar100'], 'Dataset.')
  flags.DEFINE_list('sigmas', None, 'Noise standard deviations in pixel units.')
  flags.DEFINE_string('manual_dir', None, 'Raw data folder (as train.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as train.py).')
  flags.DEFINE_string('output', None, 'Folder for noise_clipping.json (one entry per dataset).')
  flags.mark_flags_as_required(['sigmas', 'output'])


def _sigmas():
  try:
    sigmas = [float(s) for s in FLAGS.sigmas]
  except ValueError:
    raise UserError(f'--sigmas: numbers expected, got {",".join(FLAGS.sigmas)}') from None
  if not sigmas or min(sigmas) <= 0:
    raise UserError('--sigmas: give one or more standard deviations above 0')
  return sigmas


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  sigmas = _sigmas()
  spec = get_spec(FLAGS.dataset)
  train = loader.without_holdout(
      loader.load_split(spec.name, 'train', FLAGS.data_dir, FLAGS.manual_dir),
      spec.recipe.train_holdout)
  path = os.path.join(FLAGS.output, RESULTS_JSON)
  document = json.load(open(path)) if os.path.isfile(path) else {}
  document[spec.name] = {
      'examples': train.describe(),
      'pixel_range': [0.0, spec.pixel_max],
      'fraction_outside': {f'{s:g}': clipped_fraction(train.images, s, spec.pixel_max)
                           for s in sigmas}}
  os.makedirs(FLAGS.output, exist_ok=True)
  write_json_atomic(path, document)
  print(json.dumps(document[spec.name]['fraction_outside']))


if __name__ == '__main__':
  define_flags()
  cli.run(main)
