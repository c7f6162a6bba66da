"""Finds a dataset split wherever it is: prepared tfds data, tfds archives, or raw files.

Order: (1) raw copies in `manual_dir` (MNIST IDX, CIFAR binary records or pickles, also
partial ones, with a warning), read in the files' own order as Madry's code reads them, so
"the first N" and the held-out images are Madry's; (2) a prepared tfds dataset in
`data_dir`; (3) tfds' archives in `manual_dir` (CIFAR's tarballs), prepared offline with
checksums; (4) with `download=True` (the entry points' default; --nodownload turns it off),
tfds' own download, after checking within seconds that its host answers. Otherwise fail at
once, naming the files needed and where they go.
"""

import dataclasses
import hashlib
import os
import socket
import threading

from absl import logging
import numpy as np

from data_input import raw_readers
from data_input import specs
from data_input import tfds_source
from run_support.errors import UserError


@dataclasses.dataclass
class Split:
  """One split in memory: uint8 NHWC images, int64 labels, and where they came from."""
  images: np.ndarray
  labels: np.ndarray
  source: str
  partial: bool
  file_order: bool  # True when example i is the i-th example of the original files.
  split: str = 'test'  # the dataset's split it holds
  offset: int = 0      # example 0 here is example `offset` of the split (the rest held out)

  def __len__(self):
    return len(self.labels)

  def sha256(self, n=None):
    """A hash of the first n examples (default all), images and labels, in this order:
    which images a result measured."""
    digest = hashlib.sha256(np.ascontiguousarray(self.images[:n]).tobytes())
    digest.update(np.ascontiguousarray(self.labels[:n]).tobytes())
    return digest.hexdigest()

  def describe(self, n=None):
    """What a result records of the examples it measured (the first n, default all)."""
    n = len(self) if n is None else n
    which = f'first {n} {self.split} images'
    if self.offset:
      which = (f'{self.split} images {self.offset + 1} to {self.offset + n} (the first '
               f'{self.offset} held out)')
    return {'count': n, 'which': which, 'source': self.source,
            'partial_split': self.partial, 'file_order': self.file_order,
            'sha256': self.sha256(n)}


def _read_raw(spec, split, manual_dir):
  """(images, labels) from the raw files of the spec's format in `manual_dir`, or None."""
  reader = raw_readers.READERS[spec.raw_format]
  if not reader.found(manual_dir, spec.name, split):
    return None
  return reader.read(manual_dir, spec.name, split)


def _missing_data_message(spec, data_dir, manual_dir):
  where = f'--manual_dir ({manual_dir})' if manual_dir else 'a folder given by --manual_dir'
  return (f'no {spec.name} data found: put {", ".join(spec.tfds_manual_files)} (the official '
          f'archives) or the raw files into {where}, or prepare tfds data in --data_dir '
          f'({data_dir}); downloading is off (--nodownload)')


def _reach(host, timeout):
  """Connects to host:443 within `timeout` seconds, name lookup included (a resolver that
  hangs would otherwise outlast the socket's own timeout); OSError when it cannot."""
  outcome = {}

  def connect():
    try:
      socket.create_connection((host, 443), timeout=timeout).close()
      outcome['ok'] = True
    except OSError as e:
      outcome['error'] = e

  worker = threading.Thread(target=connect, daemon=True)
  worker.start()
  worker.join(timeout)
  if 'ok' not in outcome:
    raise outcome.get('error') or OSError(f'no answer within {timeout:g} s')


def _check_network(spec, timeout=10.0):
  """Fails within `timeout` seconds when tfds' download host cannot be reached."""
  host = spec.download_host
  try:
    _reach(host, timeout)
  except OSError as e:
    raise UserError(f'cannot download {spec.name}: {host} is unreachable ({e}); put '
                    f'{", ".join(spec.tfds_manual_files)} into --manual_dir, or pass '
                    '--nodownload to stay offline') from None


def load_split(dataset, split, data_dir=None, manual_dir=None, download=False):
  """Loads one split, never hanging on the network.

  Args:
    dataset: 'mnist', 'cifar10' or 'cifar100'.
    split: 'train' or 'test'.
    data_dir: tfds data dir (default $TFDS_DATA_DIR or ~/tensorflow_datasets).
    manual_dir: folder with the official archives or other raw copies.
    download: let tfds download when nothing is found locally.

  Returns:
    A Split (uint8 NHWC images, labels, where they came from, whether partial, whether in
    the original files' order). UserError naming the files needed when none are found.
  """
  spec = specs.get_spec(dataset)
  data_dir = data_dir or tfds_source.default_data_dir()
  if manual_dir and not os.path.isdir(manual_dir):
    raise UserError(f'--manual_dir {manual_dir} is not a folder')
  if manual_dir and (raw := _read_raw(spec, split, manual_dir)) is not None:
    images, labels = raw  # the files' own order, as Madry's code reads them
    source, file_order = f'raw:{manual_dir}', True
  elif tfds_source.is_prepared(spec, data_dir):
    images, labels, file_order = tfds_source.load_split(spec, split, data_dir)
    source = f'tfds:{data_dir}'
  elif tfds_source.has_manual_archives(spec, manual_dir):
    logging.info('Preparing tfds %s in %s from %s (offline).', spec.name, data_dir, manual_dir)
    tfds_source.prepare(spec, data_dir, manual_dir)
    images, labels, file_order = tfds_source.load_split(spec, split, data_dir)
    source = f'tfds:{data_dir} (prepared from {manual_dir})'
  elif download:
    _check_network(spec)
    tfds_source.prepare(spec, data_dir, manual_dir=None)
    images, labels, file_order = tfds_source.load_split(spec, split, data_dir)
    source = f'tfds:{data_dir} (downloaded)'
  else:
    raise UserError(_missing_data_message(spec, data_dir, manual_dir))
  if images.shape[1:] != spec.image_shape:
    raise UserError(f'{source}: {spec.name} images should be {spec.image_shape}, got {images.shape[1:]}')
  if labels.min() < 0 or labels.max() >= spec.num_classes:
    raise UserError(f'{source}: labels outside 0..{spec.num_classes - 1}; wrong dataset?')
  expected = spec.split_sizes[split]
  partial = len(labels) < expected
  if partial:
    logging.warning('%s %s split is PARTIAL: %d of %d images (from %s); results are not '
                    'comparable with the paper.', spec.name, split, len(labels), expected, source)
  if not file_order:
    logging.info('%s %s comes in tfds\' fixed order, not the original file order: "the first '
                 'N examples" are not the same images as in Madry\'s code.', spec.name, split)
  return Split(images=images, labels=labels, source=source, partial=partial, file_order=file_order,
               split=split)


def without_holdout(split, holdout):
  """The split without its first `holdout` examples (Madry's MNIST trains on the last 55,000
  of the 60,000 training images); UserError when nothing would be left."""
  if holdout >= len(split):
    raise UserError(f'--train_holdout {holdout} leaves no training data ({len(split)} examples)')
  return dataclasses.replace(split, images=split.images[holdout:], labels=split.labels[holdout:],
                             offset=split.offset + holdout)


def to_model_scale(images, spec):
  """uint8 pixels -> float32 in Madry's scale ([0,1] MNIST, [0,255] CIFAR)."""
  return images.astype(np.float32) * np.float32(spec.pixel_max / 255.0)
