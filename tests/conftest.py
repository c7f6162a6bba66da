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
  from data_input import loader  # pylint: disable=g-import-not-at-top
  data_dir = str(tmp_path_factory.mktemp('tfds'))
  loader.load_split('mnist', 'test', data_dir=data_dir, manual_dir=MNIST_DIR)
  return data_dir
