"""Training configuration: Madry's defaults per dataset, validation, flagfile round trip.

Importable without TensorFlow so that bad settings fail before any heavy work starts.
"""

import dataclasses
import os
from typing import Optional

from data_input.specs import get_spec
from regularizers.registry import all_settings
from run_support.errors import UserError
from run_support.precisions import PRECISIONS
from run_support.strategies import STRATEGIES

# training/optimization.py: Madry's piecewise-constant decay, or Wong et al.'s one cycle.
LR_SCHEDULES = ('piecewise', 'cyclic')

# Fields that define what a run computes; a resumed run must agree on all of them (and on
# every regularizer's settings, regularizers/registry.py). train_steps is not one: a
# finished run may be extended (--train_steps larger).
RUN_IDENTITY = ('dataset', 'batch_size', 'depth', 'width', 'seed', 'optimizer', 'learning_rate', 'lr_schedule',
                'lr_decay_fractions', 'lr_decay_factor', 'lr_peak_fraction', 'momentum', 'weight_decay', 'loss_reduction',
                'train_holdout', 'augment', 'adv_train', 'adv_clean_weight', 'adv_epsilon',
                'adv_step_size', 'adv_steps', 'adv_random_start', 'adv_bn_training', 'precision')


@dataclasses.dataclass(frozen=True)
class _RunSettings:
  """Every setting of a training run but the regularizers' (TrainConfig adds theirs). None
  means: Madry's default for the dataset (its recipe in data_input/specs.py)."""
  model_dir: str = ''  # empty: runs/<settings>, see default_model_dir
  dataset: str = 'mnist'
  train_steps: Optional[int] = None
  batch_size: Optional[int] = None
  depth: int = 34  # Madry's WRN-34-10 (the paper writes 28: docs/assumptions.md)
  width: int = 10
  optimizer: Optional[str] = None
  learning_rate: Optional[float] = None
  lr_schedule: str = 'piecewise'  # LR_SCHEDULES
  lr_decay_fractions: Optional[tuple] = None
  lr_decay_factor: float = 0.1
  lr_peak_fraction: float = 0.4  # cyclic: where the rate peaks (Wong's MNIST: 2 of 5 parts)
  momentum: float = 0.9
  weight_decay: Optional[float] = None
  loss_reduction: Optional[str] = None
  train_holdout: Optional[int] = None
  augment: Optional[bool] = None
  # Adversarial training (Eq. 1): clean_weight * L(x) + (1 - clean_weight) * L(x_adv), with
  # x_adv from L-infinity PGD on xent; clean_weight 0 is Madry's 100% adversarial batches.
  adv_train: bool = False
  adv_clean_weight: float = 0.0
  adv_epsilon: Optional[float] = None
  adv_step_size: Optional[float] = None
  adv_steps: Optional[int] = None
  adv_random_start: bool = True
  adv_bn_training: Optional[bool] = None  # attack with BN in training mode (Madry's CIFAR)
  seed: int = 0
  strategy: str = 'default'   # tf.distribute: default, mirrored, multi_worker
  divergence_guard: bool = True
  stop_on_collapse: bool = False  # collapse to chance: a warning unless this is set
  deterministic: bool = False
  jit_compile: bool = False
  precision: str = 'float32'  # PRECISIONS; the exported model is always float32
  data_dir: Optional[str] = None
  manual_dir: Optional[str] = None
  download: bool = True  # tfds may fetch missing data (--nodownload: offline)
  checkpoint_every: int = 1000
  keep_checkpoints: int = 3
  log_every: int = 100
  eval_every: int = 1000
  eval_examples: int = 1000
  final_eval_examples: Optional[int] = None
  eval_batch_size: int = 200

  def resolved(self):
    """A copy with every None replaced by Madry's default for this dataset."""
    spec = get_spec(self.dataset)
    adversary = spec.madry_train_attack
    defaults = dict(dataclasses.asdict(spec.recipe), adv_epsilon=adversary.epsilon,
                    adv_step_size=adversary.step_size, adv_steps=adversary.steps)
    if self.lr_schedule == 'cyclic':  # one cycle has no decays: Madry's do not apply
      defaults['lr_decay_fractions'] = ()
    updates = {k: v for k, v in defaults.items() if getattr(self, k) is None}
    cfg = dataclasses.replace(self, **updates)
    cfg = dataclasses.replace(cfg, lr_decay_fractions=tuple(cfg.lr_decay_fractions))
    return cfg if cfg.model_dir else dataclasses.replace(cfg, model_dir=default_model_dir(cfg))

  def passes_per_example(self):
    """Forward-backward passes through the network per training example per step: one for
    the loss (noise, label smoothing and logit squeezing are free), plus one per attack step
    with adversarial training, plus the clean loss's own when Eq. 1 weighs it (training/step.py
    skips it at weight 0, Madry's 100% adversarial batches)."""
    if not self.adv_train:
      return 1
    return self.adv_steps + 1 + (1 if self.adv_clean_weight > 0 else 0)

  def identity(self):
    """The run-defining settings, for comparing a resumed run with the saved one."""
    names = RUN_IDENTITY + tuple(s.name for s in all_settings())
    return {k: getattr(self, k) for k in names}

  def as_flags(self):
    """`--name=value` lines that reproduce this run through train.py --flagfile."""
    lines = []
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      if value is None:
        continue
      if isinstance(value, tuple):
        value = ','.join(str(v) for v in value)
      lines.append(f'--{field.name}={value}')
    return '\n'.join(lines) + '\n'


# Every setting of a training run: _RunSettings' and each registered regularizer's
# (regularizers/registry.py: alpha, beta, beta_units, sigma, clip_noise, ...).
TrainConfig = dataclasses.make_dataclass(
    'TrainConfig', [(s.name, type(s.default), dataclasses.field(default=s.default))
                    for s in all_settings()],
    bases=(_RunSettings,), frozen=True)
TrainConfig.__module__ = __name__
TrainConfig.__doc__ = """Every setting of a training run, the registered regularizers' included.
  None means: Madry's default for the dataset (its recipe in data_input/specs.py)."""


def legacy_identity(saved):
  """A saved identity with the settings that runs recorded before they existed filled in
  as those runs computed them. beta_units: beta was added to the batch loss as is, which is
  the paper's summed-xent units under the sum reduction (or without squeezing); precision:
  float32; lr_schedule: piecewise."""
  saved = dict(saved)
  saved.setdefault('precision', 'float32')
  saved.setdefault('lr_schedule', 'piecewise')
  saved.setdefault('lr_peak_fraction', TrainConfig.lr_peak_fraction)
  if 'beta_units' not in saved:
    same = saved.get('loss_reduction') == 'sum' or not saved.get('beta')
    saved['beta_units'] = 'summed_xent' if same else 'batch_loss'
  return saved


def _short_count(n):
  """2000000 -> '2M', 160000 -> '160k', 2500 -> '2500' (the paper's way of writing k)."""
  if n % 1000000 == 0:
    return f'{n // 1000000}M'
  return f'{n // 1000}k' if n % 1000 == 0 else str(n)


def default_model_dir(cfg):
  """runs/<dataset>_alpha<a>_beta<b>_sigma<s>[_adv_pgd<n>_eps<e>[_clean<w>]]_k<steps>, named
  like configs/paper/; adversarial training (configs/madry/) gets its own folders."""
  name = f'{cfg.dataset}_alpha{cfg.alpha:g}_beta{cfg.beta:g}_sigma{cfg.sigma:g}'
  if cfg.adv_train:
    name += f'_adv_pgd{cfg.adv_steps}_eps{cfg.adv_epsilon:g}'
    if cfg.adv_clean_weight:
      name += f'_clean{cfg.adv_clean_weight:g}'
  return os.path.join('runs', f'{name}_k{_short_count(cfg.train_steps)}')


def _check(condition, message):
  if not condition:
    raise UserError(message)


def validate(cfg):
  """Raises UserError with one clear sentence for the first invalid setting of a resolved config."""
  for setting in all_settings():
    error = setting.error(getattr(cfg, setting.name))
    _check(error is None, error)
  for name in ('train_steps', 'batch_size', 'checkpoint_every', 'keep_checkpoints', 'log_every',
               'eval_every', 'eval_batch_size'):
    _check(getattr(cfg, name) > 0, f'--{name} must be > 0, got {getattr(cfg, name)}')
  _check(cfg.eval_examples >= 0, f'--eval_examples must be >= 0, got {cfg.eval_examples}')
  _check(cfg.final_eval_examples is None or cfg.final_eval_examples > 0,
         f'--final_eval_examples must be > 0, got {cfg.final_eval_examples}')
  test_size = get_spec(cfg.dataset).split_sizes['test']
  _check(cfg.final_eval_examples is None or cfg.final_eval_examples <= test_size,
         f'--final_eval_examples {cfg.final_eval_examples} exceeds the {test_size} test images '
         f'of {cfg.dataset}')
  _check(cfg.learning_rate > 0, f'--learning_rate must be > 0, got {cfg.learning_rate}')
  _check(0 < cfg.lr_decay_factor <= 1, f'--lr_decay_factor must be in (0, 1], got {cfg.lr_decay_factor}')
  _check(cfg.lr_schedule in LR_SCHEDULES,
         f'--lr_schedule must be one of {", ".join(LR_SCHEDULES)}, got {cfg.lr_schedule}')
  _check(0 < cfg.lr_peak_fraction < 1,
         f'--lr_peak_fraction must be in (0, 1), got {cfg.lr_peak_fraction}')
  _check(not (cfg.lr_schedule == 'cyclic' and cfg.lr_decay_fractions),
         '--lr_decay_fractions applies to --lr_schedule=piecewise only')
  fractions = list(cfg.lr_decay_fractions)
  _check(all(0 < f < 1 for f in fractions) and fractions == sorted(fractions),
         f'--lr_decay_fractions must be increasing fractions in (0, 1), got {fractions}')
  _check(0 <= cfg.momentum < 1, f'--momentum must be in [0, 1), got {cfg.momentum}')
  _check(cfg.weight_decay >= 0, f'--weight_decay must be >= 0, got {cfg.weight_decay}')
  _check(cfg.optimizer in ('adam', 'momentum'), f'--optimizer must be adam or momentum, got {cfg.optimizer}')
  _check(cfg.loss_reduction in ('sum', 'mean'), f'--loss_reduction must be sum or mean, got {cfg.loss_reduction}')
  _check(cfg.train_holdout >= 0, f'--train_holdout must be >= 0, got {cfg.train_holdout}')
  _check(0 <= cfg.adv_clean_weight <= 1,
         f'--adv_clean_weight must be in [0, 1], got {cfg.adv_clean_weight}')
  _check(cfg.adv_epsilon >= 0, f'--adv_epsilon must be >= 0, got {cfg.adv_epsilon}')
  _check(cfg.adv_step_size > 0, f'--adv_step_size must be > 0, got {cfg.adv_step_size}')
  _check(cfg.adv_steps > 0, f'--adv_steps must be > 0, got {cfg.adv_steps}')
  if get_spec(cfg.dataset).architecture == 'wide_resnet':
    _check(cfg.depth >= 10 and (cfg.depth - 4) % 6 == 0,
           f'--depth must be 6n+4 (10, 16, 22, 28, 34, ...), got {cfg.depth}')
    _check(cfg.width >= 1, f'--width must be >= 1, got {cfg.width}')
  _check(not (cfg.jit_compile and cfg.adv_train),
         '--jit_compile does not work with --adv_train: the attack loop has data-dependent '
         'shapes that XLA cannot compile')
  _check(cfg.precision in PRECISIONS,
         f'--precision must be one of {", ".join(PRECISIONS)}, got {cfg.precision}')
  _check(not (cfg.jit_compile and cfg.strategy != 'default'),
         f'--jit_compile works only with --strategy=default, got --strategy={cfg.strategy}')
  _check(cfg.strategy in STRATEGIES,
         f'--strategy must be one of {", ".join(STRATEGIES)}, got {cfg.strategy}')
  _check(not os.path.isfile(cfg.model_dir), f'--model_dir {cfg.model_dir} is a file, not a folder')
  _check(cfg.manual_dir is None or os.path.isdir(cfg.manual_dir),
         f'--manual_dir {cfg.manual_dir} is not a folder')
  return cfg
