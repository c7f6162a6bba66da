"""An evaluation plan: which attacks run, each with its threat model and chain, explicitly.

threat: 'white-box' (crafted on the target), 'black-box' (crafted on --blackbox_source,
scored on the target) or 'sanity' (an unbounded attack, epsilon >= the data range, that
must reach ~0%; it never enters a worst case). chain: 'autoattack' for the members of
AutoAttack's chain, each of which runs only on the points the earlier ones (and clean
evaluation) left correct; None for attacks that run on every point.
"""

import dataclasses
from typing import Optional

THREATS = ('white-box', 'black-box', 'sanity')
AUTOATTACK = 'autoattack'


@dataclasses.dataclass(frozen=True)
class PlannedAttack:
  config: object               # one of attacks.config's types
  threat: str = 'white-box'
  chain: Optional[str] = None
  source: Optional[str] = None

  def __post_init__(self):
    if self.threat not in THREATS:
      raise ValueError(f'{self.config.name}: threat must be one of {THREATS}, got {self.threat!r}')
    if self.source is not None and self.threat != 'black-box':
      raise ValueError(f'{self.config.name}: only a black-box attack has a source model')

  @property
  def name(self):
    return self.config.name


def planned(config, threat, spec, chain=None, source=None):
  """A PlannedAttack; an attack whose epsilon covers the whole data range is a sanity
  check, whatever threat it was asked for."""
  if config.epsilon >= spec.pixel_max:
    return PlannedAttack(config, 'sanity', chain)
  return PlannedAttack(config, threat, chain, source)
