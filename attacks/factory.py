"""One constructor for every attack method, so evaluation code need not know which is which."""

from attacks.apgd import APGD
from attacks.apgd import APGDT
from attacks.fab import FABT
from attacks.pgd import Attack
from attacks.square import Square

_METHODS = {'pgd': Attack, 'apgd': APGD, 'apgd_t': APGDT, 'fab_t': FABT, 'square': Square}


def make_attack(model, config, clip_range, float32_predict=None):
  """The attack of config's type (attacks/config.py) on `model`; call it as
  attack(images, labels, seed) -> (x_adv, fooled). `float32_predict` (images -> labels of
  the float32 model) confirms early stops of PGD with bfloat16 gradients (attacks/pgd.py)."""
  if config.method == 'pgd' and config.early_stop and config.precision != 'float32':
    return Attack(model, config, clip_range, confirm_with=float32_predict)
  return _METHODS[config.method](model, config, clip_range)
