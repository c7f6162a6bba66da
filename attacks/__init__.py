"""In-graph adversarial attacks: FGSM and PGD (L-infinity and L2) on cross-entropy or
Madry's CW margin loss, with random starts, restarts and targets; APGD-CE, APGD-T on DLR
and the score-based Square attack (Croce & Hein's AutoAttack components), through
`make_attack(model, config, clip_range)`.

  from attacks import AttackConfig, Attack
  pgd40 = AttackConfig(name='pgd40_xent', epsilon=0.3, step_size=0.01, steps=40,
                       random_start=True, loss='xent')
  attack = Attack(model, pgd40, clip_range=(0.0, 1.0))
  x_adv, fooled = attack(images, labels, seed=0)

`fooled[i]` is True when some restart found an adversarial example for example i (the
per-example worst case over restarts); `x_adv[i]` is that example, or the last restart's
iterate when none was found. The loop over steps and restarts is a `tf.while_loop`, and
epsilon, step size, steps and restarts are tensors, so one trace serves every budget.
"""

from attacks.config import AttackConfig
from attacks.config import fgsm
from attacks.factory import make_attack
from attacks.losses import cw_margin_loss
from attacks.losses import dlr_loss
from attacks.losses import xent_loss
from attacks.pgd import Attack
