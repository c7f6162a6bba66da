"""Every attack method in one table: its config type, how to build it, the keys
`eval.py --attacks` accepts for it (each naming the config field it sets; the value is
read by that field's type and unset fields keep the config's defaults), which fields take
the dataset's paper budget, and whether its batch can be split across replicas.

A new attack is one module (its config dataclass with `method`, `name`, `epsilon`, `norm`,
`restarts`, `loss_optimized`, `describe()`, and its attack class) plus one `register(...)`
entry below. eval.py's help, the --attacks parser, make_attack and the distribution code
all read this table.
"""

import dataclasses
import importlib
from typing import Callable

from attacks.config import APGDConfig
from attacks.config import APGDTConfig
from attacks.config import FABTConfig
from attacks.config import PGDConfig
from attacks.config import SquareConfig
from attacks.config import fgsm
from run_support.tables import add_entry
from run_support.tables import lookup


@dataclasses.dataclass(frozen=True)
class Method:
  """One attack method.

  name: the `method=` value of an --attacks entry.
  config_type: its config dataclass (attacks/config.py or the attack's own module).
  attack_class: 'module:Class' of the attack, called as Class(model, config, clip_range)
    -> attack(images, labels, seed) (imported when first built: this table needs no
    TensorFlow, so entry points can validate flags before importing it).
  keys: --attacks key -> config field it sets.
  budget: config fields whose unset value is the dataset's paper budget (the fields of
    data_input.specs.AttackBudget: epsilon, step_size, steps).
  summary: one line for help texts.
  splits_across_replicas: config -> whether one batch may be split among replicas (true
    for attacks that run as one graph; those that drive loops from Python run whole).
  make: (name, **fields) -> config; default config_type(name=name, **fields).
  """
  name: str
  config_type: type
  attack_class: str
  keys: dict
  budget: tuple
  summary: str
  splits_across_replicas: Callable = lambda config: False
  make: Callable = None

  def config(self, name, fields):
    make = self.make or (lambda n, **f: self.config_type(name=n, **f))
    return make(name, **fields)

  def field_types(self):
    return {f.name: f.type for f in dataclasses.fields(self.config_type)}

  def defaults(self):
    """{key: default} for the keys whose field has a default (budget keys excluded)."""
    fields = {f.name: f for f in dataclasses.fields(self.config_type)}
    out = {}
    for key, field in self.keys.items():
      f = fields[field]
      if field not in self.budget and f.default is not dataclasses.MISSING:
        out[key] = f.default
    return out


METHODS = {}


def register(method):
  """Adds `method` to the table (a new name only)."""
  return add_entry(METHODS, method.name, method, 'attack method')


def get_method(name):
  return lookup(METHODS, name, 'attack method')


def make_attack(model, config, clip_range, float32_predict=None):
  """The attack of config's method on `model`; call it as attack(images, labels, seed) ->
  (x_adv, fooled). `float32_predict` (images -> labels of the float32 model) confirms the
  early stops of an attack whose gradients are not float32 (attacks/pgd.py)."""
  module, _, name = get_method(config.method).attack_class.partition(':')
  attack_class = getattr(importlib.import_module(module), name)
  confirm = getattr(config, 'early_stop', False) and getattr(config, 'precision', 'float32') != 'float32'
  if confirm:
    return attack_class(model, config, clip_range, confirm_with=float32_predict)
  return attack_class(model, config, clip_range)


def help_text():
  """One line per method: its keys and their defaults ('budget': the dataset's)."""
  lines = []
  for m in METHODS.values():
    defaults = m.defaults()
    keys = ' '.join(f'{k}={defaults[k]}' if k in defaults else
                    (f'{k}=budget' if m.keys[k] in m.budget else k) for k in m.keys)
    lines.append(f'{m.name}: {keys} ({m.summary})')
  return '\n'.join(lines)


_PGD_KEYS = {'eps': 'epsilon', 'step': 'step_size', 'steps': 'steps', 'rand': 'random_start',
             'loss': 'loss', 'norm': 'norm', 'restarts': 'restarts', 'kappa': 'kappa',
             'target': 'target', 'early_stop': 'early_stop', 'momentum': 'momentum',
             'precision': 'precision'}

register(Method('pgd', PGDConfig, 'attacks.pgd:Attack', _PGD_KEYS, ('epsilon', 'step_size', 'steps'),
                'PGD / MI-FGSM, linf or l2, on xent or CW', lambda c: True))
register(Method('fgsm', PGDConfig, 'attacks.pgd:Attack',
                {k: _PGD_KEYS[k] for k in ('eps', 'loss', 'norm', 'kappa', 'target')},
                ('epsilon',), 'one signed step of size eps, no random start', lambda c: True,
                make=lambda name, epsilon, **f: fgsm(name, epsilon, **f)))
register(Method('apgd', APGDConfig, 'attacks.apgd:APGD',
                {'eps': 'epsilon', 'steps': 'steps', 'loss': 'loss', 'restarts': 'restarts'},
                ('epsilon',), 'APGD-CE / APGD-DLR', lambda c: c.restarts == 1))
register(Method('apgd_t', APGDTConfig, 'attacks.apgd:APGDT',
                {'eps': 'epsilon', 'steps': 'steps', 'targets': 'targets', 'restarts': 'restarts'},
                ('epsilon',), 'APGD-T on targeted DLR'))
register(Method('fab_t', FABTConfig, 'attacks.fab:FABT',
                {'eps': 'epsilon', 'steps': 'steps', 'targets': 'targets',
                 'alpha_max': 'alpha_max', 'eta': 'eta', 'beta': 'beta'},
                ('epsilon',), 'targeted FAB'))
register(Method('square', SquareConfig, 'attacks.square:Square',
                {'eps': 'epsilon', 'queries': 'queries', 'p_init': 'p_init',
                 'rescale_schedule': 'rescale_schedule'},
                ('epsilon',), 'score-based Square, no gradients'))
