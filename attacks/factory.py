"""One constructor for every attack method, so evaluation code need not know which is which."""

from attacks.apgd import APGD
from attacks.apgd import APGDT
from attacks.fab import FABT
from attacks.pgd import Attack
from attacks.square import Square

_METHODS = {'pgd': Attack, 'apgd': APGD, 'apgd_t': APGDT, 'fab_t': FABT, 'square': Square}


def make_attack(model, config, clip_range):
  """The attack of config's type (attacks/config.py) on `model`; call it as
  attack(images, labels, seed) -> (x_adv, fooled)."""
  return _METHODS[config.method](model, config, clip_range)
