"""Generated stand-ins for MNIST when ../shared/data is absent: the same shapes, dtype and
range (uint8 28x28x1, labels 0-9), learnable in a few steps (each class is a faint bar at
its own height over pixel noise) and attackable at small epsilons (the bar stands only
about 0.45-0.65 above the noise), so the attack and evaluation tests run on a clean clone too."""

import numpy as np

SIZES = {'train': 6000, 'test': 1000}


def synthetic_mnist(split):
  """(uint8 images [N, 28, 28, 1], int64 labels [N]) for 'train' or 'test', deterministic."""
  n = SIZES[split]
  rng = np.random.default_rng({'train': 1, 'test': 2}[split])
  labels = np.arange(n, dtype=np.int64) % 10
  rng.shuffle(labels)
  images = rng.random((n, 28, 28, 1)) * 110
  for i, label in enumerate(labels):
    row = 4 + 2 * label
    start = rng.integers(2, 10)
    images[i, row, start:start + 14, 0] += 110 + 50 * rng.random()
  return np.clip(images, 0, 255).astype(np.uint8), labels
