"""Static facts about the supported datasets (shapes, pixel scale, sizes, archive names)."""

import dataclasses

from run_support.errors import UserError


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  name: str
  image_shape: tuple
  num_classes: int
  pixel_max: float          # Madry's scale: MNIST [0, 1], CIFAR [0, 255].
  split_sizes: dict         # Full official sizes per split.
  tfds_name: str
  tfds_manual_files: tuple  # Archives tfds' builder reads from a manual dir.
  download_host: str        # Probed before a download so offline runs fail fast.


SPECS = {
    'mnist': DatasetSpec(
        name='mnist', image_shape=(28, 28, 1), num_classes=10, pixel_max=1.0,
        split_sizes={'train': 60000, 'test': 10000}, tfds_name='mnist',
        tfds_manual_files=('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                           't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
        download_host='storage.googleapis.com'),
    'cifar10': DatasetSpec(
        name='cifar10', image_shape=(32, 32, 3), num_classes=10, pixel_max=255.0,
        split_sizes={'train': 50000, 'test': 10000}, tfds_name='cifar10',
        tfds_manual_files=('cifar-10-binary.tar.gz',), download_host='www.cs.toronto.edu'),
    'cifar100': DatasetSpec(
        name='cifar100', image_shape=(32, 32, 3), num_classes=100, pixel_max=255.0,
        split_sizes={'train': 50000, 'test': 10000}, tfds_name='cifar100',
        tfds_manual_files=('cifar-100-binary.tar.gz',), download_host='www.cs.toronto.edu'),
}

DATASET_NAMES = tuple(SPECS)


def get_spec(name):
  """The spec of dataset `name`, or a UserError naming the supported ones."""
  try:
    return SPECS[name]
  except KeyError:
    raise UserError(f'unknown dataset {name!r}; choose one of {", ".join(DATASET_NAMES)}') from None
