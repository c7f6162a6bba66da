"""The supported datasets, one recipe each (shapes, pixel scale, sizes, archive names, raw
format, Madry's architecture and training settings, the paper's attack budgets and
columns): the one home of every per-dataset fact."""

import dataclasses

from run_support.errors import UserError
from run_support.tables import add_entry
from run_support.tables import lookup


@dataclasses.dataclass(frozen=True)
class AttackBudget:
  """An L-infinity PGD budget in the dataset's pixel units."""
  epsilon: float
  step_size: float
  steps: int


@dataclasses.dataclass(frozen=True)
class TrainingRecipe:
  """Madry's training settings for a dataset (mnist_challenge / cifar10_challenge
  config.json and train.py): train.py's defaults for every unset flag."""
  optimizer: str
  learning_rate: float
  lr_decay_fractions: tuple   # fractions of train_steps after which the rate decays
  batch_size: int
  loss_reduction: str         # of the batch cross-entropy: 'sum' (MNIST) or 'mean' (CIFAR)
  weight_decay: float
  train_steps: int
  train_holdout: int          # first N training images held out (Madry's 55k MNIST split)
  augment: bool               # Madry's CIFAR pad-crop-flip
  adv_bn_training: bool       # the training attack runs batch norm in training mode


@dataclasses.dataclass(frozen=True)
class PaperSuites:
  """The paper's evaluation columns for a dataset (eval.py's paper suites)."""
  whitebox_steps: tuple       # PGD step counts of the white-box columns
  whitebox_losses: tuple      # the losses each is run on
  whitebox_fgsm: bool         # FGSM without random start on each loss too (CIFAR-10)
  blackbox: tuple             # (name, steps (0: FGSM), random start, loss), in table order
  steps_sweep: tuple          # Table 11: PGD-on-CW step counts
  unbounded_sweep: tuple      # Table 9: (steps, step size, epsilon) of the sanity sweep
  results_file: str = None    # the paper's numbers, configs/paper_results/<file> (None: none)


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """A dataset's recipe: what it is, how it is read, which architecture and training
  settings Madry used on it, and the paper's attacks on it. A new dataset is one spec here
  plus, if its files have a new format, one reader in data_input/raw_readers.py."""
  name: str
  image_shape: tuple
  num_classes: int
  pixel_max: float          # Madry's scale: MNIST [0, 1], CIFAR [0, 255].
  split_sizes: dict         # Full official sizes per split.
  tfds_name: str
  tfds_manual_files: tuple  # Archives tfds' builder reads from a manual dir.
  download_host: str        # Probed before a download so offline runs fail fast.
  raw_format: str           # data_input.raw_readers.READERS: how its raw files are read
  architecture: str         # madry_compat.models.ARCHITECTURES: Madry's network for it
  recipe: TrainingRecipe
  # The paper's white-box PGD (Madry's evaluation budget): the default of eval.py's
  # attacks, the suites and diagnose.py's epsilon.
  paper_attack: AttackBudget
  paper_suites: PaperSuites
  # Madry's training adversary (config.json; the paper counts CIFAR's as 7 steps).
  madry_train_attack: AttackBudget
  landscape_extent: float   # diagnose.py's loss-landscape half-width (Figures 5, 9: 10 on CIFAR)
  curve_epsilons: tuple     # robustness-vs-epsilon curves' points besides the paper's epsilon

  def epsilon_label(self, epsilon):
    """How the field writes epsilon: '0.3' on MNIST, '8/255' on CIFAR's [0, 255] scale."""
    return f'{epsilon:g}/255' if self.pixel_max == 255 else f'{epsilon:g}'


_MNIST_PGD = AttackBudget(epsilon=0.3, step_size=0.01, steps=40)
_CIFAR_PGD = AttackBudget(epsilon=8.0, step_size=2.0, steps=20)
_CIFAR_TRAIN_PGD = AttackBudget(epsilon=8.0, step_size=2.0, steps=7)

_MNIST_RECIPE = TrainingRecipe(
    optimizer='adam', learning_rate=1e-4, lr_decay_fractions=(), batch_size=50,
    loss_reduction='sum', weight_decay=0.0, train_steps=100000, train_holdout=5000,
    augment=False, adv_bn_training=False)
_CIFAR_RECIPE = TrainingRecipe(
    optimizer='momentum', learning_rate=0.1, lr_decay_fractions=(0.5, 0.75), batch_size=128,
    loss_reduction='mean', weight_decay=2e-4, train_steps=80000, train_holdout=0,
    augment=True, adv_bn_training=True)

# Tables 4/8: 7-step PGD with and without a random start, and FGSM, on each loss.
_CIFAR_BLACKBOX = tuple(entry for loss in ('xent', 'cw') for entry in (
    (f'bb_pgd7_{loss}', 7, False, loss), (f'bb_pgd7_rand_{loss}', 7, True, loss),
    (f'bb_fgsm_{loss}', 0, False, loss)))
# Table 9's unbounded sweep (CIFAR, [0, 255]): (steps, step size, epsilon).
_CIFAR_UNBOUNDED = ((30, 2, 50), (40, 2, 60), (50, 3, 100), (50, 4, 150), (100, 4, 150),
                    (200, 2, 255))


def _unbounded_for(pixel_max, budget):
  """Table 9's pattern in another dataset's units: the same step counts, step sizes scaled
  by the data range (2/255 of it, ...), and each epsilon the same fraction of the way from
  the paper's budget to the whole range as on CIFAR (8 -> 255), so the sweep starts above
  the budget and ends at the whole range. On MNIST (budget 0.3 of 1): epsilons 0.42, 0.45,
  0.56, 0.70, 0.70, 1 with steps 0.008, 0.012, 0.016."""
  cifar_budget, cifar_range = 8.0, 255.0
  way = lambda e: (e - cifar_budget) / (cifar_range - cifar_budget)
  return tuple((k, round(s / cifar_range * pixel_max, 3),
                round(budget + way(e) * (pixel_max - budget), 2)) for k, s, e in _CIFAR_UNBOUNDED)


# Table 11: PGD on CW with more steps.
_STEPS_SWEEP = (20, 40, 100, 400, 1000)

SPECS = {
    'mnist': DatasetSpec(
        name='mnist', image_shape=(28, 28, 1), num_classes=10, pixel_max=1.0,
        split_sizes={'train': 60000, 'test': 10000}, tfds_name='mnist',
        tfds_manual_files=('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
                           't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
        download_host='storage.googleapis.com', raw_format='mnist_idx',
        architecture='mnist_cnn', recipe=_MNIST_RECIPE, paper_attack=_MNIST_PGD,
        paper_suites=PaperSuites(
            whitebox_steps=(40,), whitebox_losses=('xent', 'cw'), whitebox_fgsm=False,
            # Tables 2/6: FGSM on CW, and PGD-40, from the natural model
            blackbox=(('bb_fgsm_cw', 0, False, 'cw'), ('bb_pgd40_xent', 40, True, 'xent'),
                      ('bb_pgd40_cw', 40, True, 'cw')),
            steps_sweep=_STEPS_SWEEP, unbounded_sweep=_unbounded_for(1.0, _MNIST_PGD.epsilon),
            results_file='mnist_table6.json'),
        madry_train_attack=_MNIST_PGD, landscape_extent=0.4, curve_epsilons=(0.1, 0.2, 0.4)),
    'cifar10': DatasetSpec(
        name='cifar10', image_shape=(32, 32, 3), num_classes=10, pixel_max=255.0,
        split_sizes={'train': 50000, 'test': 10000}, tfds_name='cifar10',
        tfds_manual_files=('cifar-10-binary.tar.gz',), download_host='www.cs.toronto.edu',
        raw_format='cifar', architecture='wide_resnet', recipe=_CIFAR_RECIPE,
        paper_attack=_CIFAR_PGD,
        paper_suites=PaperSuites(  # Tables 3/7 add FGSM without random start
            whitebox_steps=(20,), whitebox_losses=('xent', 'cw'), whitebox_fgsm=True,
            blackbox=_CIFAR_BLACKBOX, steps_sweep=_STEPS_SWEEP,
            unbounded_sweep=_CIFAR_UNBOUNDED, results_file='cifar10_table3.json'),
        madry_train_attack=_CIFAR_TRAIN_PGD, landscape_extent=10.0,
        curve_epsilons=(2.0, 4.0, 16.0)),
    'cifar100': DatasetSpec(
        name='cifar100', image_shape=(32, 32, 3), num_classes=100, pixel_max=255.0,
        split_sizes={'train': 50000, 'test': 10000}, tfds_name='cifar100',
        tfds_manual_files=('cifar-100-binary.tar.gz',), download_host='www.cs.toronto.edu',
        raw_format='cifar', architecture='wide_resnet', recipe=_CIFAR_RECIPE,
        paper_attack=_CIFAR_PGD,
        paper_suites=PaperSuites(  # Table 5: PGD-7/20/100/200 on xent
            whitebox_steps=(7, 20, 100, 200), whitebox_losses=('xent',), whitebox_fgsm=False,
            blackbox=_CIFAR_BLACKBOX, steps_sweep=_STEPS_SWEEP,
            unbounded_sweep=_CIFAR_UNBOUNDED),
        madry_train_attack=_CIFAR_TRAIN_PGD, landscape_extent=10.0,
        curve_epsilons=(2.0, 4.0, 16.0)),
}


def dataset_names():
  """The registered datasets, in registration order."""
  return tuple(SPECS)


def register(spec):
  """Adds a dataset recipe (a new name only)."""
  return add_entry(SPECS, spec.name, spec, 'dataset')


def get_spec(name):
  """The spec of dataset `name`, or a UserError naming the supported ones."""
  return lookup(SPECS, name, 'dataset', UserError)
