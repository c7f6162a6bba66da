"""Parses `eval.py --attacks` entries such as `pgd100_cw:steps=100,loss=cw,restarts=5`.

`method` (default pgd) decides which keys an entry may use (attacks/registry.py lists them
with their defaults; `registry.help_text()`); a key that does not apply to its method is
an error, never ignored. Every method also takes `threat` (white-box, default, or
black-box: crafted on --blackbox_source). Unset budget keys take the dataset's paper budget
(MNIST eps 0.3, step 0.01, 40 steps; CIFAR eps 8, step 2, 20 steps), an unset `kappa`
eval.py's --kappa, and every other unset key its config's default. eps may be inf for
pgd and fgsm.
"""

from attacks.config import MADRY_KAPPA
from attacks.registry import METHODS
from evaluation.plan import planned
from run_support.errors import UserError

_BOOLS = {'true': True, '1': True, 'yes': True, 'false': False, '0': False, 'no': False}
_THREATS = ('white-box', 'black-box')


def _bool(value):
  try:
    return _BOOLS[value.lower()]
  except KeyError:
    raise ValueError(f'{value!r} is not true or false') from None


def _read(value, kind):
  """A key's text as its config field's type."""
  if kind is bool:
    return _bool(value)
  return kind(value)  # int, float or str; a ValueError names the value


def _config(method, name, values, budget, kappa):
  types = method.field_types()
  fields = {f: getattr(budget, f) for f in method.budget}
  if 'kappa' in method.keys.values():
    fields['kappa'] = kappa
  for key, value in values.items():
    field = method.keys[key]
    fields[field] = _read(value, types[field])
  return method.config(name, fields)


def parse_attack(text, spec, kappa=MADRY_KAPPA, budget=None):
  """One PlannedAttack from `name:key=value,...` for the dataset of `spec`: unset budget
  keys from `budget` (an AttackBudget; default the paper's, spec.paper_attack), unset kappa
  from `kappa`. UserError naming the problem otherwise."""
  name, _, body = text.partition(':')
  name = name.strip()
  if not name or not name.replace('_', '').isalnum():
    raise UserError(f'--attacks entry {text!r}: give a name of letters, digits and _ before ":"')
  values = {}
  for item in filter(None, (part.strip() for part in body.split(','))):
    key, sep, value = item.partition('=')
    if not sep:
      raise UserError(f'--attacks entry {text!r}: {item!r} is not key=value')
    values[key.strip()] = value.strip()
  method_name = values.pop('method', 'pgd')
  threat = values.pop('threat', 'white-box')
  if method_name not in METHODS:
    raise UserError(f'--attacks entry {text!r}: unknown method {method_name!r}; use one of '
                    f'{", ".join(METHODS)}')
  method = METHODS[method_name]
  if threat not in _THREATS:
    raise UserError(f'--attacks entry {text!r}: threat must be white-box or black-box, got {threat!r}')
  unknown = sorted(set(values) - set(method.keys))
  if unknown:
    raise UserError(f'--attacks entry {text!r}: {", ".join(unknown)} does not apply to method '
                    f'{method_name} (its settings: {", ".join(method.keys)}, threat)')
  try:
    config = _config(method, name, values, budget or spec.paper_attack, kappa)
  except (ValueError, TypeError) as e:
    raise UserError(f'--attacks entry {text!r}: {e}') from None
  if threat == 'black-box' and getattr(config, 'early_stop', False):
    raise UserError(f'--attacks entry {text!r}: early_stop stops once the source model is '
                    'fooled, which only weakens a transfer attack')
  if threat == 'black-box' and getattr(config, 'precision', 'float32') != 'float32':
    raise UserError(f'--attacks entry {text!r}: bfloat16 gradients are for white-box attacks '
                    'only (transfer attacks craft in float32)')
  return planned(config, threat, spec)
