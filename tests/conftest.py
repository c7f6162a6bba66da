"""Shared fixtures: paths to the offline data in ../shared/data, MNIST arrays (the official
files, or generated stand-ins when they are absent: tests/synthetic.py) and a prepared
tfds MNIST built from them."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
# Under pytest-xdist each worker (and the entry points it runs as subprocesses) gets its share
# of the cores: TensorFlow would otherwise give every worker a thread per core and the
# workers would oversubscribe them. Read by TensorFlow when its runtime starts.
_WORKERS = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
if _WORKERS > 1:
  _SHARE = str(max(1, (os.cpu_count() or 1) // _WORKERS))
  os.environ.setdefault('TF_NUM_INTRAOP_THREADS', _SHARE)
  os.environ.setdefault('TF_NUM_INTEROP_THREADS', _SHARE)

import pytest  # pylint: disable=g-import-not-at-top

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.environ.get('SHARED_DATA', os.path.join(REPO_ROOT, '..', 'shared', 'data'))
MNIST_DIR = os.path.join(SHARED_DATA, 'mnist')
CIFAR10_SUBSET_DIR = os.path.join(SHARED_DATA, 'cifar10-subset')

# From ../shared/data/README.md (independently verified counts of the official files).
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
CIFAR10_SUBSET_TEST_COUNTS = [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]
CIFAR10_SUBSET_TRAIN_COUNTS = [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]

# Tests of the official files themselves (readers, shipped models, evidence) need them;
# attack, evaluation and training tests take mnist_arrays / two_models / tfds_mnist_dir,
# which fall back to generated data.
needs_mnist = pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason=f'no {MNIST_DIR}')


def mnist_arrays(split):
  """(uint8 images [N, 28, 28, 1], int64 labels) of MNIST's split: the official files'
  when at hand, else generated stand-ins of the same shape and range."""
  from data_input import raw_readers  # pylint: disable=g-import-not-at-top
  if raw_readers.mnist_available(MNIST_DIR):
    images, labels = raw_readers.read_mnist(MNIST_DIR, split)
    return images, labels.astype('int64')
  from synthetic import synthetic_mnist  # pylint: disable=g-import-not-at-top
  return synthetic_mnist(split)


def _prepare_generated_tfds_mnist(data_dir):
  """tfds' MNIST (name, version, features) holding the generated stand-ins."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  features = tfds.features.FeaturesDict({'image': tfds.features.Image(shape=(28, 28, 1)),
                                         'label': tfds.features.ClassLabel(num_classes=10)})
  splits = {}
  for split in ('train', 'test'):
    images, labels = mnist_arrays(split)
    splits[split] = tf.data.Dataset.from_tensor_slices({'image': images, 'label': labels})
  version = str(tfds.builder_cls('mnist').VERSION)
  tfds.dataset_builders.TfDataBuilder(name='mnist', version=version, data_dir=data_dir,
                                      split_datasets=splits, features=features).download_and_prepare()
needs_cifar_subset = pytest.mark.skipif(not os.path.isdir(CIFAR10_SUBSET_DIR),
                                        reason=f'no {CIFAR10_SUBSET_DIR}')


@pytest.fixture(scope='session')
def tfds_mnist_dir(tmp_path_factory):
  """A tfds data dir with MNIST prepared offline from ../shared/data/mnist, or from the
  generated stand-ins without it (once per session)."""
  from data_input import tfds_source  # pylint: disable=g-import-not-at-top
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  data_dir = str(tmp_path_factory.mktemp('tfds'))
  if os.path.isdir(MNIST_DIR):
    tfds_source.prepare(get_spec('mnist'), data_dir, MNIST_DIR)
  else:
    _prepare_generated_tfds_mnist(data_dir)
  return data_dir


def run_main(module, args, **kwargs):
  """Runs an entry point's real main with these flags (then restores the flags)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from absl.testing import flagsaver  # pylint: disable=g-import-not-at-top
  with flagsaver.flagsaver():
    flags.FLAGS.unparse_flags()
    flags.FLAGS([f'{module.__name__}.py', *args])
    return module.main([f'{module.__name__}.py'], **kwargs)


def two_models_data():
  """What two_models trains on: the first 5,000 MNIST training images and 200 test images
  (pass it as data_override to extend one of its runs without loading all of MNIST)."""
  from data_input import loader  # pylint: disable=g-import-not-at-top
  from training.loop import TrainData  # pylint: disable=g-import-not-at-top
  images, labels = mnist_arrays('train')
  test_images, test_labels = mnist_arrays('test')
  return TrainData(train=loader.Split(images[:5000], labels[:5000], 'raw', False, True),
                   test=loader.Split(test_images[:200], test_labels[:200], 'raw', False, True))


@pytest.fixture(scope='session')
def two_models(tmp_path_factory):
  """A natural and a label-smoothed+noise MNIST CNN, 150 steps each on 5,000 MNIST images
  (generated stand-ins without the official files)."""
  import train  # pylint: disable=g-import-not-at-top
  data = two_models_data()
  root = tmp_path_factory.mktemp('models')
  dirs = {}
  for name, extra in (('natural', []), ('ls', ['--alpha=0.2', '--sigma=0.3'])):
    dirs[name] = str(root / name)
    run_main(train, [f'--model_dir={dirs[name]}', '--dataset=mnist', '--train_steps=150',
                     '--train_holdout=0', '--learning_rate=1e-3', '--eval_examples=0',
                     '--log_every=50', *extra], data_override=data)
  return dirs
