"""One configuration type per attack method. Every field means something for its method,
and an unsupported value is a ValueError naming it: no setting is ever silently ignored
or replaced by another.

Each config says which loss the attack actually optimizes (`loss_optimized`), which is
what results files record.
"""

import dataclasses
import math
from typing import ClassVar

from run_support.precisions import PRECISIONS

# The margin of Madry's CW loss (his mnist_challenge / cifar10_challenge code); the first
# author's later code used 0. The one home of this default.
MADRY_KAPPA = 50.0
NORMS = ('linf', 'l2')
PGD_LOSSES = ('xent', 'cw')
APGD_LOSSES = ('xent', 'dlr')
# PGD target rules: none (untargeted), next ((y + 1) mod N), random (a uniformly drawn
# wrong class, from the attack seed).
PGD_TARGETS = ('none', 'next', 'random')


def _fail(name, message):
  raise ValueError(f'{name}: {message}')


def _check_counts(c, *fields):
  for field in fields:
    value = getattr(c, field)
    if not isinstance(value, int) or value < 1:
      _fail(c.name, f'{field} must be a whole number >= 1, got {value}')


def _check_budget(c, finite_linf_only):
  if not c.epsilon >= 0:
    _fail(c.name, f'epsilon must be >= 0 (or inf), got {c.epsilon}')
  if finite_linf_only and math.isinf(c.epsilon):
    _fail(c.name, f'{c.method} needs a finite epsilon')
  _check_counts(c, 'restarts')


def _eps(epsilon):
  return 'inf' if math.isinf(epsilon) else f'{epsilon:g}'


def _restarts(restarts):
  return f', {restarts} restarts' if restarts > 1 else ''


@dataclasses.dataclass(frozen=True)
class PGDConfig:
  """L-infinity or L2 PGD (FGSM is its one-step case, see `fgsm`) on cross-entropy or
  Madry's CW margin loss. epsilon = inf: only the data range bounds it."""
  method: ClassVar[str] = 'pgd'
  name: str
  epsilon: float
  step_size: float
  steps: int
  random_start: bool = True
  loss: str = 'xent'
  norm: str = 'linf'
  restarts: int = 1
  kappa: float = MADRY_KAPPA   # CW margin
  target: str = 'none'         # PGD_TARGETS
  model_training: bool = False  # call the model with training=True (Madry's CIFAR adv. training)
  early_stop: bool = False     # a point stops once an iterate fools it (that iterate kept)
  momentum: float = 0.0        # MI-FGSM decay (Dong et al. 2018); 0 is plain PGD
  # The precision of the model the gradients come from (bfloat16: its mixed_bfloat16 twin,
  # same weights); the caller scores x_adv on the float32 model either way.
  precision: str = 'float32'

  def __post_init__(self):
    _check_budget(self, finite_linf_only=False)
    if self.precision not in PRECISIONS:
      _fail(self.name, f'precision must be one of {PRECISIONS}, got {self.precision!r}')
    if not 0 <= self.momentum <= 10:
      _fail(self.name, f'momentum must be in [0, 10], got {self.momentum}')
    if self.norm not in NORMS:
      _fail(self.name, f'norm must be one of {NORMS}, got {self.norm!r}')
    if self.loss not in PGD_LOSSES:
      _fail(self.name, f'PGD optimizes one of {PGD_LOSSES}, got loss={self.loss!r} (DLR is '
            "APGD's loss: method=apgd)")
    if not (self.step_size >= 0 and math.isfinite(self.step_size)):
      _fail(self.name, f'step size must be a finite number >= 0, got {self.step_size}')
    _check_counts(self, 'steps')
    if self.kappa < 0:
      _fail(self.name, f'kappa must be >= 0, got {self.kappa}')
    if self.target not in PGD_TARGETS:
      _fail(self.name, f'target must be one of {PGD_TARGETS}, got {self.target!r}')

  @property
  def targeted(self):
    return self.target != 'none'

  @property
  def loss_optimized(self):
    loss = f'cw (kappa {self.kappa:g})' if self.loss == 'cw' else 'xent'
    return f'{loss}, targeted ({self.target})' if self.targeted else loss

  def describe(self):
    start = ', random start' if self.random_start else ''
    stop = ', stops at the first fooling iterate' if self.early_stop else ''
    stop += ', bfloat16 gradients' if self.precision == 'bfloat16' else ''
    kind = 'FGSM' if self.steps == 1 and not self.random_start else f'{self.steps}-step PGD'
    if self.momentum:
      kind = f'{self.steps}-step MI-FGSM (momentum {self.momentum:g})'
    return (f'{kind} {self.norm} on {self.loss_optimized} (eps {_eps(self.epsilon)}, step '
            f'{self.step_size:g}{start}{_restarts(self.restarts)}{stop})')


@dataclasses.dataclass(frozen=True)
class APGDConfig:
  """Untargeted APGD (Croce & Hein 2020), L-infinity, on cross-entropy (APGD-CE) or DLR;
  each restart attacks the points no earlier restart fooled."""
  method: ClassVar[str] = 'apgd'
  name: str
  epsilon: float
  steps: int = 100
  loss: str = 'xent'
  restarts: int = 1
  model_training: bool = False
  norm: ClassVar[str] = 'linf'

  def __post_init__(self):
    _check_budget(self, finite_linf_only=True)
    if self.loss not in APGD_LOSSES:
      _fail(self.name, f'APGD optimizes one of {APGD_LOSSES}, got loss={self.loss!r}')
    _check_counts(self, 'steps')

  @property
  def loss_optimized(self):
    return self.loss

  def describe(self):
    return (f'APGD-{"CE" if self.loss == "xent" else "DLR"} linf, {self.steps} iterations '
            f'(eps {_eps(self.epsilon)}{_restarts(self.restarts)})')


@dataclasses.dataclass(frozen=True)
class APGDTConfig:
  """Targeted APGD on the targeted DLR loss (APGD-T), L-infinity: for each of the `targets`
  highest-ranked wrong classes of the clean prediction in turn, on the points still
  robust; `restarts` random starts per target class."""
  method: ClassVar[str] = 'apgd_t'
  name: str
  epsilon: float
  steps: int = 100
  targets: int = 9
  restarts: int = 1
  model_training: bool = False
  norm: ClassVar[str] = 'linf'
  loss_optimized: ClassVar[str] = 'dlr_targeted'

  def __post_init__(self):
    _check_budget(self, finite_linf_only=True)
    _check_counts(self, 'steps', 'targets')

  def describe(self):
    return (f'APGD-T linf on targeted DLR over the top {self.targets} wrong classes, '
            f'{self.steps} iterations (eps {_eps(self.epsilon)}{_restarts(self.restarts)})')


@dataclasses.dataclass(frozen=True)
class SquareConfig:
  """The score-based Square attack (Andriushchenko et al. 2020), L-infinity, on the margin
  z_y - max_{i != y} z_i; needs no gradients."""
  method: ClassVar[str] = 'square'
  name: str
  epsilon: float
  queries: int = 5000
  p_init: float = 0.8
  rescale_schedule: bool = False  # AutoAttack's standard version: the schedule as written
  norm: ClassVar[str] = 'linf'
  restarts: ClassVar[int] = 1
  loss_optimized: ClassVar[str] = 'margin'

  def __post_init__(self):
    _check_budget(self, finite_linf_only=True)
    _check_counts(self, 'queries')
    if not 0 < self.p_init <= 1:
      _fail(self.name, f'p_init must be in (0, 1], got {self.p_init}')

  def describe(self):
    schedule = ', schedule rescaled' if self.rescale_schedule else ''
    return (f'Square linf on the margin, {self.queries} queries, p_init {self.p_init:g}'
            f'{schedule} (eps {_eps(self.epsilon)})')


@dataclasses.dataclass(frozen=True)
class FABTConfig:
  """Targeted FAB (Croce & Hein 2020), L-infinity, as AutoAttack's standard version: the
  top `targets` wrong classes in turn, `steps` iterations each, one restart from the image
  itself; alpha_max, eta (overshoot) and beta (backward step) as the reference code."""
  method: ClassVar[str] = 'fab_t'
  name: str
  epsilon: float
  steps: int = 100
  targets: int = 9
  alpha_max: float = 0.1
  eta: float = 1.05
  beta: float = 0.9
  model_training: bool = False
  norm: ClassVar[str] = 'linf'
  restarts: ClassVar[int] = 1
  loss_optimized: ClassVar[str] = 'minimal distance to the target boundary z_t - z_y'

  def __post_init__(self):
    _check_budget(self, finite_linf_only=True)
    _check_counts(self, 'steps', 'targets')
    if not 0 <= self.alpha_max <= 1:
      _fail(self.name, f'alpha_max must be in [0, 1], got {self.alpha_max}')
    if not self.eta >= 1:
      _fail(self.name, f'eta must be >= 1, got {self.eta}')
    if not 0 < self.beta <= 1:
      _fail(self.name, f'beta must be in (0, 1], got {self.beta}')

  def describe(self):
    return (f'FAB-T linf over the top {self.targets} wrong classes, {self.steps} iterations '
            f'(eps {_eps(self.epsilon)})')



def config_record(config):
  """What results files store of an attack: method, every field, the loss it optimizes."""
  record = dataclasses.asdict(config)
  if record.get('precision') == 'float32':  # absent, as before the field, so earlier results
    del record['precision']                 # and cached transfer examples stay valid
  record.update(method=config.method, norm=config.norm, restarts=config.restarts,
                loss_optimized=config.loss_optimized)
  return record


def fgsm(name, epsilon, loss='xent', **kwargs):
  """FGSM: one signed step of size epsilon from the clean image, no random start."""
  return PGDConfig(name=name, epsilon=epsilon, step_size=epsilon, steps=1, random_start=False,
                   loss=loss, **kwargs)
