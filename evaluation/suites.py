"""The paper's evaluation columns as named attack lists (`eval.py --suite`), per dataset.

Every attack is white-box unless its name starts with `bb_` (crafted on the black-box
source model, scored on the target). Attacks named `aa_` form AutoAttack's chain: each
runs only on the examples the earlier ones (and clean evaluation) left correct, so the
accuracy of the last is AutoAttack's robust accuracy.
"""

from attacks import AttackConfig
from attacks import fgsm
from evaluation.settings import SUITES

INF = float('inf')

# Madry's attack budgets in the paper's units (also the defaults of --attacks and diagnose.py).
PAPER_BUDGET = {'mnist': dict(eps=0.3, step=0.01, steps=40),
                'cifar10': dict(eps=8.0, step=2.0, steps=20),
                'cifar100': dict(eps=8.0, step=2.0, steps=20)}

# Table 9 (CIFAR): (steps, step size, epsilon) of the unbounded sanity sweep. MNIST has no
# such table; ours grows epsilon past the 0.3 budget up to the whole data range.
_UNBOUNDED = {'cifar': [(30, 2, 50), (40, 2, 60), (50, 3, 100), (50, 4, 150), (100, 4, 150),
                        (200, 2, 255)],
              'mnist': [(40, 0.01, 0.4), (100, 0.01, 0.6), (100, 0.02, 1.0), (200, 0.01, INF)]}
_RESTARTS = (1, 3, 5, 9)  # Table 10 (1..9, plateau at 9), PGD on xent
AUTOATTACK_PREFIX = 'aa_'
# AutoAttack's standard version (Croce & Hein 2020): APGD-CE, APGD-T on DLR over the top 9
# wrong classes, Square with 5,000 queries; 100 iterations each, one restart.
_AUTOATTACK = (dict(name='aa_apgd_ce', method='apgd', loss='xent'),
               dict(name='aa_apgd_t', method='apgd', loss='dlr', targets=9),
               dict(name='aa_square', method='square', loss='xent', queries=5000))


def is_blackbox(config):
  return config.name.startswith('bb_')


def in_autoattack_chain(config):
  return config.name.startswith(AUTOATTACK_PREFIX)


def _pgd(name, eps, step, steps, loss, kappa, random_start=True, restarts=1):
  return AttackConfig(name=name, epsilon=eps, step_size=step, steps=steps,
                      random_start=random_start, loss=loss, kappa=kappa, restarts=restarts)


def suite_attacks(suite, dataset, kappa=50.0):
  """The attack configs of `suite` for `dataset`; ValueError for an unknown suite."""
  b = PAPER_BUDGET[dataset]
  eps, step, n = b['eps'], b['step'], b['steps']
  if suite == 'paper_whitebox':
    if dataset == 'cifar100':  # Table 5: PGD-7/20/100/200 on xent
      return [_pgd(f'pgd{k}_xent', eps, step, k, 'xent', kappa) for k in (7, 20, 100, 200)]
    attacks = [_pgd(f'pgd{n}_{loss}', eps, step, n, loss, kappa) for loss in ('xent', 'cw')]
    if dataset == 'cifar10':  # Tables 3/7 add FGSM without random start
      attacks += [fgsm(f'fgsm_{loss}', eps, loss, kappa=kappa) for loss in ('xent', 'cw')]
    return attacks
  if suite == 'paper_blackbox':
    if dataset == 'mnist':  # Tables 2/6: FGSM on CW, and PGD-40, from the natural model
      return [fgsm('bb_fgsm_cw', eps, 'cw', kappa=kappa)] + [
          _pgd(f'bb_pgd40_{loss}', eps, step, 40, loss, kappa) for loss in ('xent', 'cw')]
    attacks = []  # Tables 4/8: 7-step PGD with and without random start, FGSM
    for loss in ('xent', 'cw'):
      attacks.append(_pgd(f'bb_pgd7_{loss}', eps, step, 7, loss, kappa, random_start=False))
      attacks.append(_pgd(f'bb_pgd7_rand_{loss}', eps, step, 7, loss, kappa))
      attacks.append(fgsm(f'bb_fgsm_{loss}', eps, loss, kappa=kappa))
    return attacks
  if suite == 'restarts':
    return [_pgd(f'pgd{n}_xent_restarts{r}', eps, step, n, 'xent', kappa, restarts=r)
            for r in _RESTARTS]
  if suite == 'steps':  # Table 11: PGD on CW with more steps
    steps = (40, 100, 400, 1000) if dataset == 'mnist' else (20, 40, 100, 400, 1000)
    return [_pgd(f'pgd{k}_cw', eps, step, k, 'cw', kappa) for k in steps]
  if suite == 'unbounded':
    sweep = _UNBOUNDED['mnist' if dataset == 'mnist' else 'cifar']
    return [_pgd(f'unbounded_pgd{k}_step{s:g}_eps{e:g}', e, s, k, 'xent', kappa)
            for k, s, e in sweep]
  if suite == 'autoattack':
    return [AttackConfig(epsilon=eps, step_size=0.0, steps=100, random_start=True, **a)
            for a in _AUTOATTACK]
  raise ValueError(f'unknown suite {suite!r}; choose from {", ".join(SUITES)}')
