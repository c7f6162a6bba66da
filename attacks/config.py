"""What an attack is: norm, budget, steps, start, restarts, loss, target mode."""

import dataclasses
import math

NORMS = ('linf', 'l2')
LOSSES = ('xent', 'cw', 'dlr')
METHODS = ('pgd', 'apgd', 'square')


@dataclasses.dataclass(frozen=True)
class AttackConfig:
  """An attack and its budget. method 'pgd' (FGSM is 1-step PGD), 'apgd' (Croce & Hein's
  step-size schedule; `targets` > 0 makes it APGD-T over that many top classes) or 'square'
  (score-based, `queries` model calls). epsilon = inf: only the data range bounds it."""
  name: str
  epsilon: float
  step_size: float
  steps: int
  random_start: bool
  loss: str = 'xent'
  norm: str = 'linf'
  restarts: int = 1
  kappa: float = 50.0          # CW margin (Madry's 50; the first author's later code used 0)
  targeted: bool = False       # targets must then be passed to the attack
  model_training: bool = False  # call the model with training=True (Madry's CIFAR adv. training)
  method: str = 'pgd'
  targets: int = 0             # APGD-T: attack each of the top-`targets` wrong classes in turn
  queries: int = 5000          # Square: model queries per example
  early_stop: bool = False     # PGD: a point stops once an iterate fools it (that iterate kept)

  def __post_init__(self):
    if self.norm not in NORMS:
      raise ValueError(f'{self.name}: norm must be one of {NORMS}, got {self.norm!r}')
    if self.loss not in LOSSES:
      raise ValueError(f'{self.name}: loss must be one of {LOSSES}, got {self.loss!r}')
    if not self.epsilon >= 0:
      raise ValueError(f'{self.name}: epsilon must be >= 0 (or inf), got {self.epsilon}')
    if not (self.step_size >= 0 and math.isfinite(self.step_size)):
      raise ValueError(f'{self.name}: step size must be a finite number >= 0, got {self.step_size}')
    if self.steps < 1 or self.restarts < 1:
      raise ValueError(f'{self.name}: steps and restarts must be >= 1')
    if self.kappa < 0:
      raise ValueError(f'{self.name}: kappa must be >= 0, got {self.kappa}')
    if self.method not in METHODS:
      raise ValueError(f'{self.name}: method must be one of {METHODS}, got {self.method!r}')
    if self.loss == 'dlr' and self.method == 'square':
      raise ValueError(f'{self.name}: Square uses the margin loss; drop loss=dlr')
    if self.method != 'pgd' and (self.norm != 'linf' or math.isinf(self.epsilon)):
      raise ValueError(f'{self.name}: {self.method} is implemented for finite L-infinity budgets')
    if self.targets < 0 or self.queries < 1:
      raise ValueError(f'{self.name}: targets must be >= 0 and queries >= 1')

  def describe(self):
    """A short human description for tables."""
    eps = 'inf' if math.isinf(self.epsilon) else f'{self.epsilon:g}'
    if self.method == 'square':
      return f'Square {self.norm} margin, {self.queries} queries (eps {eps})'
    if self.method == 'apgd':
      kind = f'APGD-T {self.loss} over {self.targets} targets' if self.targets else f'APGD {self.loss}'
      return f'{kind}, {self.steps} iterations (eps {eps})'
    start = ', random start' if self.random_start else ''
    restarts = f', {self.restarts} restarts' if self.restarts > 1 else ''
    return (f'{self.steps}-step {self.norm} {self.loss} (eps {eps}, step {self.step_size:g}'
            f'{start}{restarts})')


def fgsm(name, epsilon, loss='xent', **kwargs):
  """FGSM: one signed step of size epsilon from the clean image, no random start."""
  return AttackConfig(name=name, epsilon=epsilon, step_size=epsilon, steps=1, random_start=False,
                      loss=loss, **kwargs)
