"""Parses `eval.py --attacks` entries such as `pgd100_cw:steps=100,loss=cw,restarts=5`.

Unset keys take the dataset's paper budget (MNIST eps 0.3, step 0.01, 40 steps; CIFAR
eps 8, step 2, 20 steps), random start on, xent, L-infinity, PGD. Keys: eps (a number or
inf), step, steps, rand (true/false), loss (xent/cw/dlr), norm (linf/l2), restarts, kappa,
method (pgd/apgd/square), targets (APGD-T: top-k wrong classes), queries (Square). Names
starting with `bb_` are black-box (crafted on --blackbox_source).
"""

from attacks import AttackConfig
from evaluation.suites import PAPER_BUDGET
from run_support.errors import UserError

_BOOLS = {'true': True, '1': True, 'yes': True, 'false': False, '0': False, 'no': False}


def parse_attack(spec, dataset, kappa):
  """One AttackConfig from `name:key=value,...`; UserError naming the problem otherwise."""
  name, _, body = spec.partition(':')
  name = name.strip()
  if not name or not name.replace('_', '').isalnum():
    raise UserError(f'--attacks entry {spec!r}: give a name of letters, digits and _ before ":"')
  values = dict(PAPER_BUDGET[dataset], rand='true', loss='xent', norm='linf', restarts=1,
                kappa=kappa, method='pgd', targets=0, queries=5000)
  for item in filter(None, (part.strip() for part in body.split(','))):
    key, sep, value = item.partition('=')
    if not sep or key not in values:
      raise UserError(f'--attacks entry {spec!r}: unknown setting {item!r}; use '
                      f'{", ".join(sorted(values))}')
    values[key] = value.strip()
  try:
    rand = _BOOLS[str(values['rand']).lower()]
    return AttackConfig(name=name, epsilon=float(values['eps']), step_size=float(values['step']),
                        steps=int(values['steps']), random_start=rand, loss=values['loss'],
                        norm=values['norm'], restarts=int(values['restarts']),
                        kappa=float(values['kappa']), method=values['method'],
                        targets=int(values['targets']), queries=int(values['queries']))
  except KeyError:
    raise UserError(f'--attacks entry {spec!r}: rand must be true or false') from None
  except ValueError as e:
    raise UserError(f'--attacks entry {spec!r}: {e}') from None
