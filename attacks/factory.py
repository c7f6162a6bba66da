"""One constructor for every attack method, so evaluation code need not know which is which."""

from attacks.apgd import APGD
from attacks.pgd import Attack
from attacks.square import Square

_METHODS = {'pgd': Attack, 'apgd': APGD, 'square': Square}


def make_attack(model, config, clip_range):
  """The attack config.method names, on `model`; call it as attack(images, labels, seed)."""
  return _METHODS[config.method](model, config, clip_range)
