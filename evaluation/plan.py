"""An evaluation plan: which attacks run, each with its threat model and chain, explicitly.

threat: 'white-box' (crafted on the target), 'black-box' (crafted on --blackbox_source,
scored on the target) or 'sanity' (an unbounded attack, epsilon >= the data range, that
must reach ~0%; it never enters a worst case). chain: the members of a chain each run only
on the points the earlier members left correct: 'autoattack' for AutoAttack's (whose first
member runs on the points clean evaluation left correct), 'restarts' for Table 10's
restarts, one member per restart (the first on every point, as the plain attack); None for
attacks that run on every point. stream: which independent random stream the attack draws from
(restart r of the restarts chain uses stream r - 1; every other attack stream 0).
"""

import dataclasses
from typing import Optional

THREATS = ('white-box', 'black-box', 'sanity')
AUTOATTACK = 'autoattack'
RESTARTS = 'restarts'


@dataclasses.dataclass(frozen=True)
class PlannedAttack:
  config: object               # one of attacks.config's types
  threat: str = 'white-box'
  chain: Optional[str] = None
  source: Optional[str] = None
  stream: int = 0

  def __post_init__(self):
    if self.threat not in THREATS:
      raise ValueError(f'{self.config.name}: threat must be one of {THREATS}, got {self.threat!r}')
    if self.source is not None and self.threat != 'black-box':
      raise ValueError(f'{self.config.name}: only a black-box attack has a source model')

  @property
  def name(self):
    return self.config.name


def planned(config, threat, spec, chain=None, source=None, stream=0):
  """A PlannedAttack; an attack whose epsilon covers the whole data range is a sanity
  check, whatever threat it was asked for."""
  if config.epsilon >= spec.pixel_max:
    return PlannedAttack(config, 'sanity', chain, stream=stream)
  return PlannedAttack(config, threat, chain, source, stream)
