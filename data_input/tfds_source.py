"""The tensorflow-datasets route: load prepared data, or prepare it offline from a manual dir.

tfds alone retries the network for minutes when files are missing, so every call here
is made only after the caller has checked that prepared data or the archives exist.
"""

import contextlib
import fcntl
import os

import numpy as np
import tensorflow_datasets as tfds
from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

from run_support.errors import UserError


def default_data_dir():
  return os.environ.get('TFDS_DATA_DIR') or os.path.expanduser('~/tensorflow_datasets')


def _builder(spec, data_dir):
  return tfds.builder(spec.tfds_name, data_dir=data_dir)


def is_prepared(spec, data_dir):
  """True when `data_dir` already holds the prepared tfds dataset.

  Checked on disk: constructing a builder for a missing dataset logs a tfds warning.
  """
  version = str(tfds.builder_cls(spec.tfds_name).VERSION)
  return os.path.isfile(os.path.join(data_dir, spec.tfds_name, version, 'dataset_info.json'))


def has_manual_archives(spec, manual_dir):
  return bool(manual_dir) and all(
      os.path.isfile(os.path.join(manual_dir, name)) for name in spec.tfds_manual_files)


@contextlib.contextmanager
def _exclusive(data_dir, name):
  """Holds an exclusive lock on `data_dir`/.`name`.lock for the duration (flock: released
  when the holder exits, even if it dies)."""
  os.makedirs(data_dir, exist_ok=True)
  with open(os.path.join(data_dir, f'.{name}.lock'), 'a') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)


def prepare(spec, data_dir, manual_dir):
  """Builds the tfds dataset in `data_dir`; offline from `manual_dir`'s archives when given.

  Processes started together (two first trainings) would race on tfds' final rename: one
  prepares under a lock, the others wait and then find it prepared.
  """
  config = tfds.download.DownloadConfig(manual_dir=manual_dir, try_download_gcs=False)
  try:
    with _exclusive(data_dir, spec.tfds_name):
      if not is_prepared(spec, data_dir):
        _builder(spec, data_dir).download_and_prepare(download_config=config)
  except NonMatchingChecksumError as e:
    bad = str(e).split(', downloaded to ')[-1].split(', has wrong checksum')[0]
    raise UserError(f'checksum mismatch: {bad} is corrupted or not the official {spec.name} '
                    f'file; replace it with the original archive') from None


def load_split(spec, split, data_dir):
  """The whole split as (images uint8 NHWC, labels int64, in_file_order) numpy arrays.

  tfds stores examples in its own shuffled order. CIFAR examples carry an 'id' holding
  the index in the original files, so they are put back in file order (Madry's "first N
  test images"); tfds' MNIST has no such feature and keeps tfds' fixed order.
  """
  data = tfds.as_numpy(_builder(spec, data_dir).as_dataset(split=split, batch_size=-1))
  images, labels = data['image'], data['label'].astype('int64')
  if 'id' not in data:
    return images, labels, False
  order = np.argsort(data['id'], kind='stable')
  return images[order], labels[order], True
