"""Shared fixtures: paths to the offline data in ../shared/data and a prepared tfds MNIST."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import pytest  # pylint: disable=g-import-not-at-top

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.environ.get('SHARED_DATA', os.path.join(REPO_ROOT, '..', 'shared', 'data'))
MNIST_DIR = os.path.join(SHARED_DATA, 'mnist')
CIFAR10_SUBSET_DIR = os.path.join(SHARED_DATA, 'cifar10-subset')

# From ../shared/data/README.md (independently verified counts of the official files).
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
CIFAR10_SUBSET_TEST_COUNTS = [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]
CIFAR10_SUBSET_TRAIN_COUNTS = [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]

needs_mnist = pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason=f'no {MNIST_DIR}')
needs_cifar_subset = pytest.mark.skipif(not os.path.isdir(CIFAR10_SUBSET_DIR),
                                        reason=f'no {CIFAR10_SUBSET_DIR}')


@pytest.fixture(scope='session')
def tfds_mnist_dir(tmp_path_factory):
  """A tfds data dir with MNIST prepared offline from ../shared/data/mnist (once per session)."""
  if not os.path.isdir(MNIST_DIR):
    pytest.skip(f'no {MNIST_DIR}')
  from data_input import tfds_source  # pylint: disable=g-import-not-at-top
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  data_dir = str(tmp_path_factory.mktemp('tfds'))
  tfds_source.prepare(get_spec('mnist'), data_dir, MNIST_DIR)
  return data_dir


def run_main(module, args, **kwargs):
  """Runs an entry point's real main with these flags (then restores the flags)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from absl.testing import flagsaver  # pylint: disable=g-import-not-at-top
  with flagsaver.flagsaver():
    flags.FLAGS.unparse_flags()
    flags.FLAGS([f'{module.__name__}.py', *args])
    return module.main([f'{module.__name__}.py'], **kwargs)


@pytest.fixture(scope='session')
def two_models(tmp_path_factory):
  """A natural and a label-smoothed+noise MNIST CNN, 150 steps each on 5,000 real images."""
  from data_input import loader  # pylint: disable=g-import-not-at-top
  from data_input import raw_readers  # pylint: disable=g-import-not-at-top
  import train  # pylint: disable=g-import-not-at-top
  from training.loop import TrainData  # pylint: disable=g-import-not-at-top
  if not raw_readers.mnist_available(MNIST_DIR):
    pytest.skip('no MNIST')
  images, labels = raw_readers.read_mnist(MNIST_DIR, 'train')
  test_images, test_labels = raw_readers.read_mnist(MNIST_DIR, 'test')
  data = TrainData(train=loader.Split(images[:5000], labels[:5000], 'raw', False, True),
                   test=loader.Split(test_images[:200], test_labels[:200], 'raw', False, True))
  root = tmp_path_factory.mktemp('models')
  dirs = {}
  for name, extra in (('natural', []), ('ls', ['--alpha=0.2', '--sigma=0.3'])):
    dirs[name] = str(root / name)
    run_main(train, [f'--model_dir={dirs[name]}', '--dataset=mnist', '--train_steps=150',
                     '--train_holdout=0', '--learning_rate=1e-3', '--eval_examples=0',
                     '--log_every=50', *extra], data_override=data)
  return dirs
