"""The paper's evaluation columns as named attack plans (`eval.py --suite`), per dataset."""

from attacks import APGDConfig
from attacks import APGDTConfig
from attacks import FABTConfig
from attacks import PGDConfig
from attacks import SquareConfig
from attacks import fgsm
from evaluation.plan import AUTOATTACK
from evaluation.plan import planned
from evaluation.settings import SUITES

INF = float('inf')

# Table 9 (CIFAR): (steps, step size, epsilon) of the unbounded sanity sweep. MNIST has no
# such table; ours grows epsilon past the 0.3 budget up to the whole data range.
_UNBOUNDED = {'cifar': [(30, 2, 50), (40, 2, 60), (50, 3, 100), (50, 4, 150), (100, 4, 150),
                        (200, 2, 255)],
              'mnist': [(40, 0.01, 0.4), (100, 0.01, 0.6), (100, 0.02, 1.0), (200, 0.01, INF)]}
_RESTARTS = (1, 3, 5, 9)  # Table 10 (1..9, plateau at 9), PGD on xent
# The transfer suite (beyond the paper; the follow-up paper's question): per source model,
# 100-step MI-FGSM (Dong et al. 2018: decay 1, no random start) and 100-step PGD with 5
# random restarts, each on xent and CW.
TRANSFER_STEPS, TRANSFER_MOMENTUM, TRANSFER_RESTARTS = 100, 1.0, 5


def _pgd(name, budget, steps, loss, kappa, random_start=True, restarts=1, momentum=0.0):
  return PGDConfig(name=name, epsilon=budget.epsilon, step_size=budget.step_size, steps=steps,
                   random_start=random_start, loss=loss, kappa=kappa, restarts=restarts,
                   momentum=momentum)


def autoattack_configs(epsilon):
  """AutoAttack's standard version (Croce & Hein 2020), L-infinity: APGD-CE, APGD-T on
  targeted DLR over the top 9 wrong classes, FAB-T over the top 9, Square with 5,000
  queries and p_init 0.8; 100 iterations each, one restart."""
  return [APGDConfig(name='aa_apgd_ce', epsilon=epsilon, steps=100, loss='xent'),
          APGDTConfig(name='aa_apgd_t', epsilon=epsilon, steps=100, targets=9),
          FABTConfig(name='aa_fab_t', epsilon=epsilon, steps=100, targets=9),
          SquareConfig(name='aa_square', epsilon=epsilon, queries=5000, p_init=0.8)]


def transfer_plan(spec, sources, kappa=50.0):
  """The transfer suite crafted on each named source model (black-box threat)."""
  b, n = spec.paper_attack, TRANSFER_STEPS
  plan = []
  for source in sources:
    for loss in ('xent', 'cw'):
      configs = (
          _pgd(f'tr_{source}_mifgsm{n}_{loss}', b, n, loss, kappa, random_start=False,
               momentum=TRANSFER_MOMENTUM),
          _pgd(f'tr_{source}_pgd{n}_restarts{TRANSFER_RESTARTS}_{loss}', b, n, loss, kappa,
               restarts=TRANSFER_RESTARTS))
      plan += [planned(c, 'black-box', spec, source=source) for c in configs]
  return plan


def suite_plan(suite, spec, kappa=50.0, transfer_sources=()):
  """The PlannedAttacks of `suite` for the dataset of `spec` (the transfer suite crafts on
  each name in `transfer_sources`); ValueError for an unknown suite."""
  b = spec.paper_attack
  n = b.steps
  white = lambda configs: [planned(c, 'white-box', spec) for c in configs]
  black = lambda configs: [planned(c, 'black-box', spec) for c in configs]
  if suite == 'paper_whitebox':
    if spec.name == 'cifar100':  # Table 5: PGD-7/20/100/200 on xent
      return white(_pgd(f'pgd{k}_xent', b, k, 'xent', kappa) for k in (7, 20, 100, 200))
    attacks = [_pgd(f'pgd{n}_{loss}', b, n, loss, kappa) for loss in ('xent', 'cw')]
    if spec.name == 'cifar10':  # Tables 3/7 add FGSM without random start
      attacks += [fgsm(f'fgsm_{loss}', b.epsilon, loss, kappa=kappa) for loss in ('xent', 'cw')]
    return white(attacks)
  if suite == 'paper_blackbox':
    if spec.name == 'mnist':  # Tables 2/6: FGSM on CW, and PGD-40, from the natural model
      return black([fgsm('bb_fgsm_cw', b.epsilon, 'cw', kappa=kappa)] +
                   [_pgd(f'bb_pgd40_{loss}', b, 40, loss, kappa) for loss in ('xent', 'cw')])
    attacks = []  # Tables 4/8: 7-step PGD with and without random start, FGSM
    for loss in ('xent', 'cw'):
      attacks.append(_pgd(f'bb_pgd7_{loss}', b, 7, loss, kappa, random_start=False))
      attacks.append(_pgd(f'bb_pgd7_rand_{loss}', b, 7, loss, kappa))
      attacks.append(fgsm(f'bb_fgsm_{loss}', b.epsilon, loss, kappa=kappa))
    return black(attacks)
  if suite == 'restarts':
    return white(_pgd(f'pgd{n}_xent_restarts{r}', b, n, 'xent', kappa, restarts=r)
                 for r in _RESTARTS)
  if suite == 'steps':  # Table 11: PGD on CW with more steps
    steps = (40, 100, 400, 1000) if spec.name == 'mnist' else (20, 40, 100, 400, 1000)
    return white(_pgd(f'pgd{k}_cw', b, k, 'cw', kappa) for k in steps)
  if suite == 'unbounded':
    sweep = _UNBOUNDED['mnist' if spec.name == 'mnist' else 'cifar']
    return [planned(PGDConfig(name=f'unbounded_pgd{k}_step{s:g}_eps{e:g}', epsilon=e,
                              step_size=s, steps=k, loss='xent', kappa=kappa),
                    'sanity', spec) for k, s, e in sweep]
  if suite == 'transfer':
    if not transfer_sources:
      raise ValueError('the transfer suite needs source models (--transfer_sources)')
    return transfer_plan(spec, transfer_sources, kappa)
  if suite == 'autoattack':
    return [planned(c, 'white-box', spec, chain=AUTOATTACK)
            for c in autoattack_configs(b.epsilon)]
  raise ValueError(f'unknown suite {suite!r}; choose from {", ".join(SUITES)}')
