"""Parses `eval.py --attacks` entries such as `pgd100_cw:steps=100,loss=cw,restarts=5`.

`method` (default pgd) decides which settings an entry may use; a setting that does not
apply to its method is an error, never ignored:

  pgd     eps step steps rand loss(xent|cw) norm(linf|l2) restarts kappa target(none|next|
          random) early_stop momentum (MI-FGSM decay; 0 is PGD) precision (float32|bfloat16:
          the gradients' compute precision; x_adv is scored in float32)
  fgsm    eps loss(xent|cw) norm kappa target
  apgd    eps steps loss(xent|dlr) restarts
  apgd_t  eps steps targets restarts
  fab_t   eps steps targets alpha_max eta beta
  square  eps queries p_init rescale_schedule

Every method also takes `threat` (white-box, default, or black-box: crafted on
--blackbox_source). Unset keys take the dataset's paper budget (MNIST eps 0.3, step 0.01,
40 steps; CIFAR eps 8, step 2, 20 steps), random start on, xent, L-infinity; APGD 100
iterations, FAB-T 100 iterations over 9 targets, Square 5,000 queries and p_init 0.8.
eps may be inf for pgd and fgsm.
"""

from attacks import APGDConfig
from attacks import APGDTConfig
from attacks import FABTConfig
from attacks import PGDConfig
from attacks import SquareConfig
from attacks import fgsm
from evaluation.plan import planned
from run_support.errors import UserError

_BOOLS = {'true': True, '1': True, 'yes': True, 'false': False, '0': False, 'no': False}
_KEYS = {
    'pgd': ('eps', 'step', 'steps', 'rand', 'loss', 'norm', 'restarts', 'kappa', 'target',
            'early_stop', 'momentum', 'precision'),
    'fgsm': ('eps', 'loss', 'norm', 'kappa', 'target'),
    'apgd': ('eps', 'steps', 'loss', 'restarts'),
    'apgd_t': ('eps', 'steps', 'targets', 'restarts'),
    'fab_t': ('eps', 'steps', 'targets', 'alpha_max', 'eta', 'beta'),
    'square': ('eps', 'queries', 'p_init', 'rescale_schedule'),
}
_THREATS = ('white-box', 'black-box')


def _bool(value):
  try:
    return _BOOLS[value.lower()]
  except KeyError:
    raise ValueError(f'{value!r} is not true or false') from None


def _config(method, name, v, spec, kappa):
  budget = spec.paper_attack
  eps = float(v.get('eps', budget.epsilon))
  if method == 'pgd':
    return PGDConfig(name=name, epsilon=eps, step_size=float(v.get('step', budget.step_size)),
                     steps=int(v.get('steps', budget.steps)), random_start=_bool(v.get('rand', 'true')),
                     loss=v.get('loss', 'xent'), norm=v.get('norm', 'linf'),
                     restarts=int(v.get('restarts', 1)), kappa=float(v.get('kappa', kappa)),
                     target=v.get('target', 'none'), early_stop=_bool(v.get('early_stop', 'false')),
                     momentum=float(v.get('momentum', 0.0)),
                     precision=v.get('precision', 'float32'))
  if method == 'fgsm':
    return fgsm(name, eps, v.get('loss', 'xent'), norm=v.get('norm', 'linf'),
                kappa=float(v.get('kappa', kappa)), target=v.get('target', 'none'))
  if method == 'apgd':
    return APGDConfig(name=name, epsilon=eps, steps=int(v.get('steps', 100)),
                      loss=v.get('loss', 'xent'), restarts=int(v.get('restarts', 1)))
  if method == 'apgd_t':
    return APGDTConfig(name=name, epsilon=eps, steps=int(v.get('steps', 100)),
                       targets=int(v.get('targets', 9)), restarts=int(v.get('restarts', 1)))
  if method == 'fab_t':
    return FABTConfig(name=name, epsilon=eps, steps=int(v.get('steps', 100)),
                      targets=int(v.get('targets', 9)), alpha_max=float(v.get('alpha_max', 0.1)),
                      eta=float(v.get('eta', 1.05)), beta=float(v.get('beta', 0.9)))
  return SquareConfig(name=name, epsilon=eps, queries=int(v.get('queries', 5000)),
                      p_init=float(v.get('p_init', 0.8)),
                      rescale_schedule=_bool(v.get('rescale_schedule', 'false')))


def parse_attack(text, spec, kappa=50.0):
  """One PlannedAttack from `name:key=value,...` for the dataset of `spec`; UserError
  naming the problem otherwise."""
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
  method = values.pop('method', 'pgd')
  threat = values.pop('threat', 'white-box')
  if method not in _KEYS:
    raise UserError(f'--attacks entry {text!r}: unknown method {method!r}; use one of '
                    f'{", ".join(_KEYS)}')
  if threat not in _THREATS:
    raise UserError(f'--attacks entry {text!r}: threat must be white-box or black-box, got {threat!r}')
  unknown = sorted(set(values) - set(_KEYS[method]))
  if unknown:
    raise UserError(f'--attacks entry {text!r}: {", ".join(unknown)} does not apply to method '
                    f'{method} (its settings: {", ".join(_KEYS[method])}, threat)')
  try:
    config = _config(method, name, values, spec, kappa)
  except ValueError as e:
    raise UserError(f'--attacks entry {text!r}: {e}') from None
  if threat == 'black-box' and getattr(config, 'early_stop', False):
    raise UserError(f'--attacks entry {text!r}: early_stop stops once the source model is '
                    'fooled, which only weakens a transfer attack')
  if threat == 'black-box' and getattr(config, 'precision', 'float32') != 'float32':
    raise UserError(f'--attacks entry {text!r}: bfloat16 gradients are for white-box attacks '
                    'only (transfer attacks craft in float32)')
  return planned(config, threat, spec)
