"""Data input: offline tfds route, raw readers on real and synthetic files, batching."""

import dataclasses
import os
import pickle
import shutil
import socket
import threading
import time

import numpy as np
import pytest

from conftest import CIFAR10_SUBSET_DIR
from conftest import CIFAR10_SUBSET_TEST_COUNTS
from conftest import CIFAR10_SUBSET_TRAIN_COUNTS
from conftest import MNIST_DIR
from conftest import MNIST_TEST_LABEL_COUNTS
from conftest import needs_cifar_subset
from conftest import needs_mnist
from data_input import loader
from data_input import raw_readers
from data_input import tfds_source
from data_input.pipeline import TrainBatches
from data_input.pipeline import eval_batches
from data_input.pipeline import pad_crop_flip
from data_input.specs import get_spec
from run_support.errors import UserError


@needs_mnist
def test_raw_mnist_reader_file_order_and_counts():
  images, labels = raw_readers.read_mnist(MNIST_DIR, 'test')
  assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
  assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
  assert np.bincount(labels).tolist() == MNIST_TEST_LABEL_COUNTS


def test_tfds_offline_route_prepares_mnist(tfds_mnist_dir):
  split = loader.load_split('mnist', 'test', data_dir=tfds_mnist_dir)  # prepared: no manual dir
  assert split.source.startswith('tfds:') and not split.partial
  assert split.images.shape == (10000, 28, 28, 1)
  assert np.bincount(split.labels).tolist() == MNIST_TEST_LABEL_COUNTS
  scaled = loader.to_model_scale(split.images[:100], get_spec('mnist'))
  assert scaled.dtype == np.float32 and scaled.min() == 0.0 and scaled.max() == 1.0


@needs_mnist
def test_raw_files_in_manual_dir_come_first_in_their_own_order(tfds_mnist_dir):
  """With the official files at hand, "the first N" are Madry's (the files' order), even
  where tfds has MNIST prepared in its own fixed order."""
  split = loader.load_split('mnist', 'test', data_dir=tfds_mnist_dir, manual_dir=MNIST_DIR)
  assert split.source.startswith('raw:') and split.file_order
  assert split.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
  prepared = loader.load_split('mnist', 'test', data_dir=tfds_mnist_dir)
  assert not prepared.file_order and prepared.sha256(1000) != split.sha256(1000)


def test_concurrent_first_runs_prepare_the_dataset_once(tmp_path, monkeypatch):
  """Two processes started together used to race on tfds' final rename (FileExistsError);
  now one prepares under a lock and the other finds the dataset prepared."""
  spec = get_spec('mnist')
  version = str(tfds_source.tfds.builder_cls(spec.tfds_name).VERSION)
  calls = []

  class SlowBuilder:
    def download_and_prepare(self, download_config):
      del download_config
      calls.append(1)
      time.sleep(0.3)  # both threads are inside prepare() by now
      target = tmp_path / spec.tfds_name / version
      target.mkdir(parents=True)  # raises if the other thread got here first, as tfds does
      (target / 'dataset_info.json').write_text('{}')

  monkeypatch.setattr(tfds_source, '_builder', lambda spec, data_dir: SlowBuilder())
  errors = []

  def prepare():
    try:
      tfds_source.prepare(spec, str(tmp_path), manual_dir=None)
    except Exception as e:  # pylint: disable=broad-except
      errors.append(e)

  threads = [threading.Thread(target=prepare) for _ in range(2)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  assert not errors and len(calls) == 1
  assert tfds_source.is_prepared(spec, str(tmp_path))


@needs_mnist
def test_corrupted_mnist_copy_fails_fast_with_checksum_error(tmp_path):
  manual = tmp_path / 'manual'
  shutil.copytree(MNIST_DIR, manual)
  path = manual / 't10k-labels-idx1-ubyte.gz'
  data = bytearray(path.read_bytes())
  data[100] ^= 0xFF
  os.chmod(path, 0o644)
  path.write_bytes(bytes(data))
  start = time.monotonic()
  with pytest.raises(UserError, match='checksum'):
    loader.load_split('mnist', 'test', data_dir=str(tmp_path / 'tfds'), manual_dir=str(manual))
  assert time.monotonic() - start < 30


def test_missing_files_fail_fast_naming_them(tmp_path):
  start = time.monotonic()
  with pytest.raises(UserError, match='train-images-idx3-ubyte.gz'):
    loader.load_split('mnist', 'train', data_dir=str(tmp_path / 'tfds'), manual_dir=str(tmp_path))
  with pytest.raises(UserError, match='cifar-10-binary.tar.gz'):
    loader.load_split('cifar10', 'test', data_dir=str(tmp_path / 'tfds'))
  assert time.monotonic() - start < 10


def test_unknown_dataset_and_missing_folder(tmp_path):
  with pytest.raises(UserError, match='unknown dataset'):
    loader.load_split('svhn', 'train')
  with pytest.raises(UserError, match='not a folder'):
    loader.load_split('mnist', 'train', data_dir=str(tmp_path), manual_dir=str(tmp_path / 'nope'))


@needs_cifar_subset
def test_cifar10_subset_binary_reader():
  spec = get_spec('cifar10')
  test = loader.load_split('cifar10', 'test', data_dir='/nonexistent', manual_dir=CIFAR10_SUBSET_DIR)
  assert test.partial and test.file_order and test.source.startswith('raw:')
  assert test.images.shape == (1000, 32, 32, 3)
  assert test.labels[:5].tolist() == [3, 8, 8, 0, 6]
  assert np.bincount(test.labels).tolist() == CIFAR10_SUBSET_TEST_COUNTS
  train = loader.load_split('cifar10', 'train', data_dir='/nonexistent', manual_dir=CIFAR10_SUBSET_DIR)
  assert train.labels[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
  assert np.bincount(train.labels).tolist() == CIFAR10_SUBSET_TRAIN_COUNTS
  scaled = loader.to_model_scale(test.images[:10], spec)
  assert scaled.max() > 200 and scaled.max() <= 255.0


@needs_cifar_subset
def test_cifar100_is_not_read_from_cifar10_files(tmp_path):
  with pytest.raises(UserError, match='no cifar100 data'):
    loader.load_split('cifar100', 'test', data_dir=str(tmp_path), manual_dir=CIFAR10_SUBSET_DIR)


def _synthetic_cifar(n, seed):
  rng = np.random.default_rng(seed)
  images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
  return images, rng.integers(0, 10, size=n)


def test_cifar_pickle_batches_as_madry_ships_them(tmp_path):
  folder = tmp_path / 'cifar10_data'
  folder.mkdir()
  expected = []
  for i in range(1, 3):
    images, labels = _synthetic_cifar(5, i)
    flat = images.transpose(0, 3, 1, 2).reshape(5, -1)  # CHW rows, as the official pickles
    with open(folder / f'data_batch_{i}', 'wb') as f:
      pickle.dump({b'data': flat, b'labels': labels.tolist()}, f)
    expected.append((images, labels))
  images, labels = raw_readers.read_cifar(str(tmp_path), 'cifar10', 'train')
  np.testing.assert_array_equal(images, np.concatenate([e[0] for e in expected]))
  np.testing.assert_array_equal(labels, np.concatenate([e[1] for e in expected]))


def test_cifar100_binary_uses_fine_labels(tmp_path):
  images, fine = _synthetic_cifar(4, 0)
  coarse = (fine + 3) % 20
  records = np.concatenate([coarse[:, None], fine[:, None],
                            images.transpose(0, 3, 1, 2).reshape(4, -1)], axis=1).astype(np.uint8)
  records.tofile(tmp_path / 'test.bin')
  got_images, got_labels = raw_readers.read_cifar(str(tmp_path), 'cifar100', 'test')
  np.testing.assert_array_equal(got_images, images)
  np.testing.assert_array_equal(got_labels, fine)


def test_truncated_or_wrong_raw_files_give_clear_errors(tmp_path):
  np.zeros(3073 * 2 + 10, np.uint8).tofile(tmp_path / 'test_batch.bin')
  with pytest.raises(UserError, match='truncated'):
    raw_readers.read_cifar(str(tmp_path), 'cifar10', 'test')
  (tmp_path / 'bad-idx').write_bytes(b'\x00\x00\x01\x02' + b'\x00' * 20)
  with pytest.raises(UserError, match='not an MNIST IDX'):
    raw_readers.read_idx(str(tmp_path / 'bad-idx'))


def _tiny_split(n=30):
  images, labels = _synthetic_cifar(n, 5)
  return loader.Split(images, labels, 'synthetic', partial=False, file_order=True)


def test_train_batches_are_a_function_of_seed_and_step():
  spec, split = get_spec('cifar10'), _tiny_split()
  a = TrainBatches(split, spec, batch_size=8, seed=1, augment=True)
  b = TrainBatches(split, spec, batch_size=8, seed=1, augment=True)
  for step in (5, 0, 3):  # any order: resuming at step s gives the same batch
    np.testing.assert_array_equal(a.batch(step)[0], b.batch(step)[0])
  assert not np.array_equal(a.batch(1)[0], a.batch(2)[0])
  other_seed = TrainBatches(split, spec, batch_size=8, seed=2, augment=True)
  assert not np.array_equal(a.batch(0)[1], other_seed.batch(0)[1])


def test_every_example_once_per_epoch_across_batch_boundaries():
  batches = TrainBatches(_tiny_split(30), get_spec('cifar10'), batch_size=7, seed=0, augment=False)
  stream = np.concatenate([batches.indices(s) for s in range(9)])  # 63 = 2 epochs + 3
  assert sorted(stream[:30]) == list(range(30))
  assert sorted(stream[30:60]) == list(range(30))
  assert not np.array_equal(stream[:30], stream[30:60])


def test_pad_crop_flip():
  images, _ = _synthetic_cifar(64, 1)
  out = pad_crop_flip(images, np.random.default_rng(0))
  assert out.shape == images.shape and out.dtype == np.uint8
  # Every output is a shift by at most 2 pixels, possibly mirrored, with zero fill.
  padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
  for i in range(64):
    candidates = [padded[i, dy:dy + 32, dx:dx + 32] for dy in range(5) for dx in range(5)]
    assert any(np.array_equal(out[i], c) or np.array_equal(out[i], c[:, ::-1]) for c in candidates)
  assert not np.array_equal(out, images)


def test_eval_batches_cover_first_n_in_order():
  split = _tiny_split(30)
  got = list(eval_batches(split, get_spec('cifar10'), batch_size=8, num_examples=20))
  assert [len(l) for _, l in got] == [8, 8, 4]
  np.testing.assert_array_equal(np.concatenate([l for _, l in got]), split.labels[:20])


def test_download_check_fails_fast_with_one_line_offline(monkeypatch):
  """Downloading is the default; offline it stops within its timeout, naming what to
  provide, also when the name lookup hangs."""
  spec = dataclasses.replace(get_spec('mnist'), download_host='127.0.0.1')  # nothing on 443
  with pytest.raises(UserError, match='127.0.0.1 is unreachable.*--nodownload'):
    loader._check_network(spec, timeout=5.0)
  def hanging_lookup(*unused_args, **unused_kwargs):
    time.sleep(30)
    raise OSError('timed out')  # as a real hung resolver ends, long after the check

  monkeypatch.setattr(socket, 'create_connection', hanging_lookup)
  start = time.monotonic()
  with pytest.raises(UserError, match=r'no answer within 0.5 s'):
    loader._check_network(spec, timeout=0.5)
  assert time.monotonic() - start < 5


def test_nodownload_names_the_files_and_writes_nothing(tmp_path):
  empty = tmp_path / 'empty'
  empty.mkdir()
  with pytest.raises(UserError, match='t10k-images-idx3-ubyte.gz.*downloading is off'):
    loader.load_split('mnist', 'test', data_dir=str(tmp_path / 'tfds'), manual_dir=str(empty),
                      download=False)
  assert sorted(p.name for p in tmp_path.iterdir()) == ['empty']


def test_a_split_without_its_holdout_says_which_images_it_holds():
  from run_support.errors import UserError  # pylint: disable=g-import-not-at-top
  split = loader.Split(np.zeros((10, 2, 2, 1), np.uint8), np.arange(10), 'raw:x', False, True,
                       split='train')
  assert split.describe(3)['which'] == 'first 3 train images'
  rest = loader.without_holdout(split, 4)
  assert len(rest) == 6 and rest.labels[0] == 4 and rest.offset == 4
  assert rest.describe()['which'] == 'train images 5 to 10 (the first 4 held out)'
  assert rest.describe()['sha256'] != split.describe()['sha256']  # the images it holds
  with pytest.raises(UserError, match='leaves no training data'):
    loader.without_holdout(split, 10)


def test_generated_mnist_stand_ins_look_like_mnist_and_are_learnable():
  """What the attack and evaluation tests run on without ../shared/data."""
  from synthetic import synthetic_mnist  # pylint: disable=g-import-not-at-top
  images, labels = synthetic_mnist('test')
  assert images.shape == (1000, 28, 28, 1) and images.dtype == np.uint8
  assert labels.dtype == np.int64 and sorted(set(labels.tolist())) == list(range(10))
  again, _ = synthetic_mnist('test')
  np.testing.assert_array_equal(images, again)  # deterministic
  # Each class's bar row is the brightest row of its images: a nearest-row rule separates them.
  rows = images[..., 0].astype(float).mean(2).argmax(1)
  assert np.mean((rows - 4) // 2 == labels) > 0.95
