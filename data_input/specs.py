"""Static facts about the supported datasets (shapes, pixel scale, sizes, archive names,
the paper's attack budgets): the one home of every per-dataset fact."""

import dataclasses

from run_support.errors import UserError


@dataclasses.dataclass(frozen=True)
class AttackBudget:
  """An L-infinity PGD budget in the dataset's pixel units."""
  epsilon: float
  step_size: float
  steps: int


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
  # The paper's white-box PGD (Madry's evaluation budget): the default of eval.py's
  # attacks, the suites and diagnose.py's epsilon.
  paper_attack: AttackBudget
  # Madry's training adversary (config.json; the paper counts CIFAR's as 7 steps).
  madry_train_attack: AttackBudget
  landscape_extent: float   # diagnose.py's loss-landscape half-width (Figures 5, 9: 10 on CIFAR)

  def epsilon_label(self, epsilon):
    """How the field writes epsilon: '0.3' on MNIST, '8/255' on CIFAR's [0, 255] scale."""
    return f'{epsilon:g}/255' if self.pixel_max == 255 else f'{epsilon:g}'


_MNIST_PGD = AttackBudget(epsilon=0.3, step_size=0.01, steps=40)
_CIFAR_PGD = AttackBudget(epsilon=8.0, step_size=2.0, steps=20)
_CIFAR_TRAIN_PGD = AttackBudget(epsilon=8.0, step_size=2.0, steps=7)


SPECS = {
    'mnist': DatasetSpec(
        name='mnist', image_shape=(28, 28, 1), num_classes=10, pixel_max=1.0,
        split_sizes={'train': 60000, 'test': 10000}, tfds_name='mnist',
        tfds_manual_files=('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                           't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
        download_host='storage.googleapis.com', paper_attack=_MNIST_PGD,
        madry_train_attack=_MNIST_PGD, landscape_extent=0.4),
    'cifar10': DatasetSpec(
        name='cifar10', image_shape=(32, 32, 3), num_classes=10, pixel_max=255.0,
        split_sizes={'train': 50000, 'test': 10000}, tfds_name='cifar10',
        tfds_manual_files=('cifar-10-binary.tar.gz',), download_host='www.cs.toronto.edu',
        paper_attack=_CIFAR_PGD, madry_train_attack=_CIFAR_TRAIN_PGD, landscape_extent=10.0),
    'cifar100': DatasetSpec(
        name='cifar100', image_shape=(32, 32, 3), num_classes=100, pixel_max=255.0,
        split_sizes={'train': 50000, 'test': 10000}, tfds_name='cifar100',
        tfds_manual_files=('cifar-100-binary.tar.gz',), download_host='www.cs.toronto.edu',
        paper_attack=_CIFAR_PGD, madry_train_attack=_CIFAR_TRAIN_PGD, landscape_extent=10.0),
}

DATASET_NAMES = tuple(SPECS)


def get_spec(name):
  """The spec of dataset `name`, or a UserError naming the supported ones."""
  try:
    return SPECS[name]
  except KeyError:
    raise UserError(f'unknown dataset {name!r}; choose one of {", ".join(DATASET_NAMES)}') from None
