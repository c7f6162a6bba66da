"""Deterministic, resumable training batches and in-order evaluation batches.

The training batch of step s is a pure function of (seed, s): shuffling is a per-epoch
permutation seeded by (seed, epoch) with batches running across epoch boundaries as in
Madry's `multiple_passes` reader, and CIFAR augmentation is seeded by (seed, step). A run
resumed at step s therefore sees exactly the data an uninterrupted run would.
"""

import numpy as np

from data_input.loader import to_model_scale

CIFAR_PAD = 2  # Madry pads 32x32 to 36x36 (resize_image_with_crop_or_pad), then crops 32x32.
_SHUFFLE_KEY, _AUGMENT_KEY = 0, 1


def pad_crop_flip(images, rng, pad=CIFAR_PAD):
  """Madry's CIFAR augmentation on a uint8 NHWC batch: zero-pad, random crop, random flip."""
  n, h, w, _ = images.shape
  padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  dy = rng.integers(0, 2 * pad + 1, size=n)
  dx = rng.integers(0, 2 * pad + 1, size=n)
  flip = rng.random(n) < 0.5
  out = np.empty_like(images)
  for i in range(n):
    crop = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    out[i] = crop[:, ::-1] if flip[i] else crop
  return out


class TrainBatches:
  """Training batches of a fixed size; `batch(step)` depends only on (seed, step)."""

  def __init__(self, split, spec, batch_size, seed, augment):
    self._images = split.images
    self._labels = split.labels
    self._spec = spec
    self._batch_size = batch_size
    self._seed = seed
    self._augment = augment
    self._perms = {}

  def _permutation(self, epoch):
    if epoch not in self._perms:
      self._perms = {e: p for e, p in self._perms.items() if e >= epoch - 1}
      rng = np.random.default_rng([self._seed, _SHUFFLE_KEY, epoch])
      self._perms[epoch] = rng.permutation(len(self._labels))
    return self._perms[epoch]

  def indices(self, step):
    """Dataset indices of the examples in the batch of `step`."""
    n = len(self._labels)
    positions = step * self._batch_size + np.arange(self._batch_size)
    epochs, offsets = np.divmod(positions, n)
    return np.array([self._permutation(e)[o] for e, o in zip(epochs, offsets)])

  def batch(self, step):
    """(images float32 in model scale, labels int64) for training step `step`."""
    idx = self.indices(step)
    images = self._images[idx]
    if self._augment:
      images = pad_crop_flip(images, np.random.default_rng([self._seed, _AUGMENT_KEY, step]))
    return to_model_scale(images, self._spec), self._labels[idx]

  def iterate(self, start_step, end_step):
    """The batches of steps [start_step, end_step), as numpy arrays.

    Plain numpy on purpose: a tf.data.from_generator pipeline measured here slowed the
    compiled MNIST step that followed from ~11 to ~5 steps/s on 2 CPU cores.
    """
    for step in range(start_step, end_step):
      yield self.batch(step)


def eval_batches(split, spec, batch_size, num_examples=None):
  """The first `num_examples` examples of `split` in file order, in model scale, batched."""
  n = len(split) if num_examples is None else num_examples
  for start in range(0, n, batch_size):
    stop = min(start + batch_size, n)
    yield to_model_scale(split.images[start:stop], spec), split.labels[start:stop]
