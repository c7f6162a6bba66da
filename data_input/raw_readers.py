"""Readers for the original raw formats, independent of tfds.

MNIST IDX (.gz or plain), CIFAR-10/100 binary records (also partial copies such as
`data_batch_1.first4000.bin`) and the CIFAR python-pickle batches Madry's repository ships.
Each reader returns (images uint8 NHWC, labels int64).
"""

import dataclasses
import glob
import gzip
import os
import pickle
import zlib
from typing import Callable

import numpy as np

from run_support.errors import UserError

_MNIST_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}
_IDX_MAGIC = {2051: 3, 2049: 1}  # images: 3 dims, labels: 1 dim


def read_idx(path):
  """Reads one MNIST IDX file (gzipped or not) into a uint8 array."""
  opener = gzip.open if path.endswith('.gz') else open
  try:
    with opener(path, 'rb') as f:
      data = f.read()
  except zlib.error as e:
    raise UserError(f'{path} is corrupted: its gzip data or checksum does not hold ({e}); '
                    'replace it with the original file') from None
  except (OSError, EOFError) as e:
    raise UserError(f'cannot read IDX file {path}: {e}') from None
  magic = int.from_bytes(data[:4], 'big') if len(data) >= 4 else None
  if magic not in _IDX_MAGIC:
    raise UserError(f'{path} is not an MNIST IDX file (magic {magic})')
  ndim = _IDX_MAGIC[magic]
  header = 4 + 4 * ndim
  dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
  body = np.frombuffer(data, dtype=np.uint8, offset=header)
  if body.size != int(np.prod(dims)):
    raise UserError(f'{path} is truncated: header says {dims}, found {body.size} bytes')
  return body.reshape(dims)


def _find_first(folder, stem):
  for name in (stem + '.gz', stem):
    path = os.path.join(folder, name)
    if os.path.exists(path):
      return path
  return None


def mnist_available(folder):
  return all(_find_first(folder, stem) for pair in _MNIST_FILES.values() for stem in pair)


def read_mnist(folder, split):
  """MNIST split from the IDX files in `folder`: images (N, 28, 28, 1), labels (N,)."""
  image_stem, label_stem = _MNIST_FILES[split]
  images = read_idx(_find_first(folder, image_stem))
  labels = read_idx(_find_first(folder, label_stem)).astype(np.int64)
  if images.shape[0] != labels.shape[0]:
    raise UserError(f'MNIST {split} in {folder}: {images.shape[0]} images but {labels.shape[0]} labels')
  return images[..., np.newaxis], labels


# CIFAR: record layout and file patterns per dataset and format.
_CIFAR_BINARY = {
    # dataset: (label bytes per record, index of the label used, train glob, test glob)
    'cifar10': (1, 0, 'data_batch_*.bin', 'test_batch*.bin'),
    'cifar100': (2, 1, 'train.bin', 'test.bin'),  # coarse, fine: use the fine label
}
_CIFAR_PICKLE = {
    # dataset: (label key, train glob, test glob)
    'cifar10': (b'labels', 'data_batch_[0-9]', 'test_batch'),
    'cifar100': (b'fine_labels', 'train', 'test'),
}
_CIFAR_SUBFOLDERS = ('', 'cifar-10-batches-bin', 'cifar-100-binary', 'cifar-10-batches-py',
                     'cifar-100-python', 'cifar10_data')
_PIXELS = 32 * 32 * 3


def _chw_to_hwc(flat):
  return flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def read_cifar_binary(paths, dataset):
  """CIFAR binary records (label byte(s) + 3072 pixel bytes in R, G, B planes)."""
  label_bytes, label_index, _, _ = _CIFAR_BINARY[dataset]
  record = label_bytes + _PIXELS
  chunks = []
  for path in paths:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % record:
      raise UserError(f'{path}: {raw.size} bytes is not a whole number of {dataset} records '
                      f'({record} bytes each); the file is truncated or of another dataset')
    chunks.append(raw.reshape(-1, record))
  records = np.concatenate(chunks)
  return _chw_to_hwc(records[:, label_bytes:]), records[:, label_index].astype(np.int64)


def read_cifar_pickle(paths, dataset):
  """CIFAR python-pickle batches (dicts with b'data' and the label list)."""
  label_key = _CIFAR_PICKLE[dataset][0]
  images, labels = [], []
  for path in paths:
    try:
      with open(path, 'rb') as f:
        batch = pickle.load(f, encoding='bytes')
      images.append(np.asarray(batch[b'data'], dtype=np.uint8).reshape(-1, _PIXELS))
      labels.append(np.asarray(batch[label_key], dtype=np.int64))
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as e:
      raise UserError(f'{path} is not a {dataset} python batch: {e!r}') from None
  return _chw_to_hwc(np.concatenate(images)), np.concatenate(labels)


def find_cifar_files(folder, dataset, split):
  """(format, sorted paths) of the raw files for `split` under `folder`, or (None, [])."""
  _, _, train_bin, test_bin = _CIFAR_BINARY[dataset]
  _, train_pkl, test_pkl = _CIFAR_PICKLE[dataset]
  bin_glob, pkl_glob = (train_bin, train_pkl) if split == 'train' else (test_bin, test_pkl)
  for sub in _CIFAR_SUBFOLDERS:
    base = os.path.join(folder, sub)
    binary = sorted(glob.glob(os.path.join(base, bin_glob)))
    if binary:
      return 'binary', binary
    pickled = sorted(p for p in glob.glob(os.path.join(base, pkl_glob)) if os.path.isfile(p))
    if pickled:
      return 'pickle', pickled
  return None, []


def read_cifar(folder, dataset, split):
  """CIFAR-10/100 split from whatever raw format `folder` holds."""
  fmt, paths = find_cifar_files(folder, dataset, split)
  if fmt is None:
    raise UserError(f'no raw {dataset} {split} files in {folder}')
  reader = read_cifar_binary if fmt == 'binary' else read_cifar_pickle
  return reader(paths, dataset)


@dataclasses.dataclass(frozen=True)
class RawReader:
  """How one raw format is found and read: found(folder, dataset, split) -> bool and
  read(folder, dataset, split) -> (images uint8 NHWC, labels int64)."""
  found: Callable
  read: Callable


# format name (a dataset spec's `raw_format`) -> its reader. A dataset with a new file
# format adds one reader here.
READERS = {
    'mnist_idx': RawReader(found=lambda folder, dataset, split: mnist_available(folder),
                           read=lambda folder, dataset, split: read_mnist(folder, split)),
    'cifar': RawReader(
        found=lambda folder, dataset, split: find_cifar_files(folder, dataset, split)[0] is not None,
        read=read_cifar),
}
