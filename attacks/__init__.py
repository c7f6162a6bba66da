"""In-graph adversarial attacks, each with its own config type (attacks/config.py): FGSM
and PGD (L-infinity and L2) on cross-entropy or Madry's CW margin loss, with random
starts, restarts and targets; APGD-CE / APGD-DLR, APGD-T on targeted DLR, FAB-T and the
score-based Square attack (Croce & Hein's AutoAttack components), through
`make_attack(model, config, clip_range)`.

  from attacks import PGDConfig, make_attack
  pgd40 = PGDConfig(name='pgd40_xent', epsilon=0.3, step_size=0.01, steps=40)
  attack = make_attack(model, pgd40, clip_range=(0.0, 1.0))
  x_adv, fooled = attack(images, labels, seed=0)

`fooled[i]` is True when the attack found an adversarial example for example i (over
restarts, the per-example worst case); `x_adv[i]` is that example, or the last iterate
when none was found. PGD's loops over steps and restarts are `tf.while_loop`s with the
budget as tensors, so one trace serves every budget.
"""

from attacks.config import APGDConfig
from attacks.config import APGDTConfig
from attacks.config import FABTConfig
from attacks.config import MADRY_KAPPA
from attacks.config import PGDConfig
from attacks.config import SquareConfig
from attacks.config import config_record
from attacks.config import fgsm
from attacks.registry import make_attack

# Imported on first use (PEP 562): the configs and the registry need no TensorFlow, so the
# entry points can validate their flags before paying for it.
_LAZY = {'Attack': 'attacks.pgd', 'cw_margin_loss': 'attacks.losses',
         'dlr_loss': 'attacks.losses', 'xent_loss': 'attacks.losses'}


def __getattr__(name):
  if name in _LAZY:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(_LAZY[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
