"""The regularizer table: every training regularizer, its settings (train.py's flags and
TrainConfig's fields, with their checks) and its place in the training step. A new
regularizer is one module (its function and a `build(cfg, spec)`) plus one `register`
entry; train.py's flags, the config, its validation, the run identity and the step read
this table. Importable without TensorFlow (builders are imported when a step is built).

Places, in the order the step applies them:
  'inputs'  fn(images, seed) -> images: transforms the clean batch before any adversary
            (seed: a stateless [2] int seed of the run's seed and step);
  'targets' fn(targets) -> targets: rewrites the soft labels of the cross-entropy;
  'logits'  fn(logits, loss_context) -> (share, value, logs): a penalty on the batch logits;
            `share` is this replica's differentiable part, `value` the penalty of the whole
            batch as added to the logged loss, `logs` extra logged values.

Settings are read when training/config.py is imported: register before importing it.
"""

import dataclasses
import importlib

from run_support.tables import add_entry

PLACES = ('inputs', 'targets', 'logits')
# What beta multiplies (regularizers/logit_squeezing.py:squeeze_weight). 'summed_xent': the
# paper's units, beta relative to the batch-summed cross-entropy (Madry's MNIST loss); under
# the mean reduction ||Z||_F is then weighed by beta / B, the same objective divided by B.
# 'batch_loss': beta ||Z||_F added to whatever the reduction gives (under 'mean' a B times
# stronger squeeze).
BETA_UNITS = ('summed_xent', 'batch_loss')


@dataclasses.dataclass(frozen=True)
class Setting:
  """One setting: a TrainConfig field and train.py flag of the default's type."""
  name: str
  default: object
  help: str
  choices: tuple = None    # an enum
  minimum: float = None    # inclusive bounds, checked by training/config.py:validate
  maximum: float = None
  unit: str = ''           # said in the error, e.g. ' (pixel units)'

  def error(self, value):
    """The one-line complaint about `value`, or None when it is valid."""
    if self.choices is not None and value not in self.choices:
      return f'--{self.name} must be one of {", ".join(self.choices)}, got {value}'
    low, high = self.minimum, self.maximum
    if low is not None and high is not None and not low <= value <= high:
      return f'--{self.name} must be in [{low:g}, {high:g}]{self.unit}, got {value}'
    if low is not None and high is None and value < low:
      return f'--{self.name} must be >= {low:g}{self.unit}, got {value}'
    if high is not None and low is None and value > high:
      return f'--{self.name} must be <= {high:g}{self.unit}, got {value}'
    return None


@dataclasses.dataclass(frozen=True)
class Regularizer:
  """A regularizer: where it acts, its settings, and 'module:function' building its step
  function from a resolved TrainConfig and the dataset spec (None when it is off)."""
  name: str
  place: str
  settings: tuple
  builder: str
  summary: str

  def __post_init__(self):
    if self.place not in PLACES:
      raise ValueError(f'regularizer {self.name}: place must be one of {PLACES}, got {self.place!r}')

  def build(self, cfg, spec):
    module, function = self.builder.split(':')
    return getattr(importlib.import_module(module), function)(cfg, spec)


REGULARIZERS = {}


def register(regularizer):
  """Adds a regularizer (ValueError if its name or one of its settings is taken)."""
  taken = {s.name for s in all_settings()}
  clash = [s.name for s in regularizer.settings if s.name in taken]
  if clash:
    raise ValueError(f'regularizer {regularizer.name}: setting {clash[0]!r} is taken')
  return add_entry(REGULARIZERS, regularizer.name, regularizer, 'regularizer')


def all_settings():
  """Every registered setting, in registration order."""
  return [s for r in REGULARIZERS.values() for s in r.settings]


def build_terms(cfg, spec, place):
  """[(name, fn)] of the regularizers at `place` that are on in `cfg`, in table order."""
  built = ((r.name, r.build(cfg, spec)) for r in REGULARIZERS.values() if r.place == place)
  return [(name, fn) for name, fn in built if fn is not None]


# The paper's three, in the order the step applies them.
register(Regularizer(
    'gaussian_noise', 'inputs',
    (Setting('sigma', 0.0, 'Gaussian noise std in pixel units (MNIST [0,1], CIFAR [0,255]).',
             minimum=0.0, unit=' (pixel units)'),
     Setting('clip_noise', False, 'Clip noisy training images to the data range (every paper '
             'flagfile with noise does: docs/assumptions.md).')),
    'regularizers.gaussian_noise:build', 'x + N(0, sigma^2) on every training image'))
register(Regularizer(
    'label_smoothing', 'targets',
    (Setting('alpha', 0.0, 'Label smoothing: y = y_hot - alpha (y_hot - 1/N_c), in [0, 1].',
             minimum=0.0, maximum=1.0),),
    'regularizers.label_smoothing:build', 'y_hot - alpha (y_hot - 1/N_c) as the target'))
register(Regularizer(
    'logit_squeezing', 'logits',
    (Setting('beta', 0.0, 'Logit squeezing: beta * ||Z||_F of the batch logits, >= 0.',
             minimum=0.0),
     Setting('beta_units', 'summed_xent', "summed_xent: the paper's units, beta relative to "
             'the batch-summed cross-entropy (under the mean reduction the term is beta '
             '||Z||_F / B); batch_loss: beta ||Z||_F added to the reduced loss as is.',
             choices=BETA_UNITS)),
    'regularizers.logit_squeezing:build', 'beta ||Z||_F of the batch logit matrix'))
