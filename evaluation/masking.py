"""Gradient-masking alarms over a set of attack results (Athalye et al.; AutoAttack's checks)."""

import numpy as np

_TOLERANCE = 0.01  # accuracy differences below one point are noise at our example counts
# APGD usually beats PGD by a few points; by this much, PGD's figure is not robustness.
_PGD_OVERSTATES = 0.10


def masking_warnings(results, zero_grad_share, data_range):
  """Human-readable warnings; an empty list means no alarm fired. `data_range` is the width
  of the pixel range: an epsilon that large (or inf) makes an attack unbounded."""
  warnings = []
  white = [r for r in results if r.threat == 'white-box']
  black = [r for r in results if r.threat == 'black-box']
  for r in black:
    peers = [w for w in white if w.config['epsilon'] == r.config['epsilon'] and
             w.config['norm'] == r.config['norm']]
    best_white = min(peers, key=lambda w: w.accuracy, default=None)
    if best_white and r.accuracy < best_white.accuracy - _TOLERANCE:
      warnings.append(f'black-box {r.name} ({r.accuracy:.2%}) beats the strongest white-box '
                      f'attack {best_white.name} ({best_white.accuracy:.2%}) of the same budget: '
                      'white-box gradients are likely masked')
  warnings += _best_transfer_beats_white_box(white, black)
  warnings += _pgd_overstates(white)
  warnings += _score_based_beats_gradients(white)
  is_pgd = lambda r: r.config.get('method', 'pgd') == 'pgd'  # APGD-T, FAB, Square have no loss
  for fgsm in (r for r in white if r.config.get('steps') == 1 and is_pgd(r)):
    for pgd in (r for r in white if is_pgd(r)):
      if (pgd.config.get('steps', 1) > 1 and pgd.config['loss'] == fgsm.config['loss'] and
          pgd.config['epsilon'] == fgsm.config['epsilon'] and
          fgsm.accuracy < pgd.accuracy - _TOLERANCE):
        warnings.append(f'FGSM {fgsm.name} ({fgsm.accuracy:.2%}) beats PGD {pgd.name} '
                        f'({pgd.accuracy:.2%}): the iterative attack is failing')
  warnings += _not_monotone(white, 'steps') + _not_monotone(white, 'restarts')
  for r in results:
    if r.threat == 'sanity' and r.config['epsilon'] >= data_range and r.accuracy > _TOLERANCE:
      warnings.append(f'unbounded {r.name} leaves {r.accuracy:.2%} accuracy (expected ~0%)')
  if zero_grad_share > 0:
    warnings.append(f'{zero_grad_share:.2%} of the examples have an exactly zero input '
                    'gradient of the cross-entropy')
  return warnings


def _best_transfer_beats_white_box(white, black):
  """Per budget: the best transfer per example (every black-box attack together) against
  the white-box worst case; one attack alone is compared above."""
  warnings = []
  for budget in sorted({(r.config['epsilon'], r.config['norm']) for r in black}):
    same = lambda rs: [r.correct for r in rs if (r.config['epsilon'], r.config['norm']) == budget]
    transfers, whites = same(black), same(white)
    if len(transfers) < 2 or not whites:
      continue
    transfer = float(np.mean(np.logical_and.reduce(transfers)))
    white_box = float(np.mean(np.logical_and.reduce(whites)))
    if transfer < white_box - _TOLERANCE:
      warnings.append(f'the best transfer per example ({transfer:.2%}, {len(transfers)} black-box '
                      f'attacks) beats the white-box worst case ({white_box:.2%}) at epsilon '
                      f'{budget[0]:g}: white-box gradients are likely masked')
  return warnings


def _pgd_overstates(white):
  """A fixed-step PGD figure far above APGD's (alone or in AutoAttack's chain) of the same
  budget: the flat loss around each point stops small steps, not the stronger attack."""
  warnings = []
  for pgd in (r for r in white if r.config.get('method', 'pgd') == 'pgd'):
    peers = [r for r in white if r.config.get('method') in ('apgd', 'apgd_t') and
             r.config['epsilon'] == pgd.config['epsilon']]
    best = min(peers, key=lambda r: r.accuracy, default=None)
    if best and best.accuracy < pgd.accuracy - _PGD_OVERSTATES:
      which = f'{best.name}{" (AutoAttack chain up to it)" if best.chain else ""}'
      warnings.append(f'{which} ({best.accuracy:.2%}) leaves far less than PGD {pgd.name} '
                      f'({pgd.accuracy:.2%}): the PGD figure overstates robustness (small '
                      'fixed steps stall on a flat loss)')
  return warnings


def _score_based_beats_gradients(white):
  """AutoAttack's tell-tale: the gradient-free Square finds examples the gradient attacks
  of the same budget missed. In the `aa_` chain Square only sees the survivors of APGD."""
  warnings = []
  for square in (r for r in white if r.config.get('method') == 'square'):
    peers = [r for r in white if r.config.get('method', 'pgd') != 'square' and
             r.config['epsilon'] == square.config['epsilon']]
    best = min(peers, key=lambda r: r.accuracy, default=None)
    if best and square.accuracy < best.accuracy - _TOLERANCE:
      warnings.append(f'the score-based {square.name} ({square.accuracy:.2%}) beats every '
                      f'gradient attack of the same budget (best {best.name}, '
                      f'{best.accuracy:.2%}): gradients are likely masked')
  return warnings


def _not_monotone(results, knob):
  """Accuracy should not rise when only `knob` (steps or restarts) grows."""
  groups = {}
  for r in (r for r in results if knob in r.config):
    key = tuple(sorted((k, str(v)) for k, v in r.config.items() if k not in (knob, 'name')))
    groups.setdefault(key, []).append(r)
  warnings = []
  for group in groups.values():
    group.sort(key=lambda r: r.config[knob])
    for weaker, stronger in zip(group, group[1:]):
      if stronger.accuracy > weaker.accuracy + _TOLERANCE:
        warnings.append(f'accuracy rises from {weaker.accuracy:.2%} ({weaker.name}) to '
                        f'{stronger.accuracy:.2%} ({stronger.name}) with more {knob}')
  return warnings
