"""The paper's evaluation columns as named attack plans (`eval.py --suite`); what differs
per dataset is in its recipe (data_input/specs.py: paper_attack, paper_suites)."""

from attacks import APGDConfig
from attacks import APGDTConfig
from attacks import FABTConfig
from attacks import PGDConfig
from attacks import SquareConfig
from attacks import fgsm
from attacks.config import MADRY_KAPPA
from evaluation.plan import AUTOATTACK
from evaluation.plan import RESTARTS
from evaluation.plan import planned
from evaluation.settings import SUITES

# Table 10: PGD on xent with 1..9 random restarts (the paper's plateau at 9); one chain,
# restart r attacking only what restarts 1..r-1 left, so member r is the accuracy after r.
RESTART_COUNT = 9
# The transfer suite (beyond the paper; the follow-up paper's question): per source model,
# 100-step MI-FGSM (Dong et al. 2018: decay 1, no random start) and 100-step PGD with 5
# random restarts, each on xent and CW.
TRANSFER_STEPS, TRANSFER_MOMENTUM, TRANSFER_RESTARTS = 100, 1.0, 5
_TRANSFER_KINDS = {
    f'mifgsm{TRANSFER_STEPS}': dict(random_start=False, momentum=TRANSFER_MOMENTUM),
    f'pgd{TRANSFER_STEPS}_restarts{TRANSFER_RESTARTS}': dict(restarts=TRANSFER_RESTARTS)}
_TRANSFER_LOSSES = ('xent', 'cw')


def _pgd(name, budget, steps, loss, kappa, random_start=True, restarts=1, momentum=0.0):
  return PGDConfig(name=name, epsilon=budget.epsilon, step_size=budget.step_size, steps=steps,
                   random_start=random_start, loss=loss, kappa=kappa, restarts=restarts,
                   momentum=momentum)


def autoattack_configs(epsilon):
  """AutoAttack's standard version (Croce & Hein 2020), L-infinity: APGD-CE, APGD-T on
  targeted DLR, FAB-T and Square, each with its config's defaults, which are the standard
  version's settings (attacks/config.py, their one home)."""
  return [APGDConfig(name='aa_apgd_ce', epsilon=epsilon, loss='xent'),
          APGDTConfig(name='aa_apgd_t', epsilon=epsilon),
          FABTConfig(name='aa_fab_t', epsilon=epsilon),
          SquareConfig(name='aa_square', epsilon=epsilon)]


def transfer_attack_names():
  """The transfer suite's attacks in plan order, as each source's names end
  ('tr_<source>_<attack>')."""
  return tuple(f'{kind}_{loss}' for loss in _TRANSFER_LOSSES for kind in _TRANSFER_KINDS)


def transfer_plan(spec, sources, kappa=MADRY_KAPPA, budget=None):
  """The transfer suite crafted on each named source model (black-box threat), at
  `budget` (an AttackBudget; default the paper's)."""
  b = budget or spec.paper_attack
  return [planned(_pgd(f'tr_{source}_{kind}_{loss}', b, TRANSFER_STEPS, loss, kappa, **options),
                  'black-box', spec, source=source)
          for source in sources for loss in _TRANSFER_LOSSES
          for kind, options in _TRANSFER_KINDS.items()]


def suite_plan(suite, spec, kappa=MADRY_KAPPA, transfer_sources=(), budget=None):
  """The PlannedAttacks of `suite` for the dataset of `spec` at `budget` (an AttackBudget;
  default the paper's, spec.paper_attack); the transfer suite crafts on each name in
  `transfer_sources`. ValueError for an unknown suite."""
  b, p = budget or spec.paper_attack, spec.paper_suites
  n = b.steps
  white = lambda configs: [planned(c, 'white-box', spec) for c in configs]
  black = lambda configs: [planned(c, 'black-box', spec) for c in configs]
  if suite == 'paper_whitebox':
    attacks = [_pgd(f'pgd{k}_{loss}', b, k, loss, kappa)
               for k in p.whitebox_steps for loss in p.whitebox_losses]
    if p.whitebox_fgsm:
      attacks += [fgsm(f'fgsm_{loss}', b.epsilon, loss, kappa=kappa) for loss in p.whitebox_losses]
    return white(attacks)
  if suite == 'paper_blackbox':
    return black(fgsm(name, b.epsilon, loss, kappa=kappa) if steps == 0 else
                 _pgd(name, b, steps, loss, kappa, random_start=rand)
                 for name, steps, rand, loss in p.blackbox)
  if suite == 'restarts':
    return [planned(_pgd(f'pgd{n}_xent_restart{r}', b, n, 'xent', kappa), 'white-box', spec,
                    chain=RESTARTS, stream=r - 1) for r in range(1, RESTART_COUNT + 1)]
  if suite == 'steps':  # Table 11: PGD on CW with more steps
    return white(_pgd(f'pgd{k}_cw', b, k, 'cw', kappa) for k in p.steps_sweep)
  if suite == 'unbounded':  # Table 9
    return [planned(PGDConfig(name=f'unbounded_pgd{k}_step{s:g}_eps{e:g}', epsilon=e,
                              step_size=s, steps=k, loss='xent', kappa=kappa),
                    'sanity', spec) for k, s, e in p.unbounded_sweep]
  if suite == 'transfer':
    if not transfer_sources:
      raise ValueError('the transfer suite needs source models (--transfer_sources)')
    return transfer_plan(spec, transfer_sources, kappa, b)
  if suite == 'autoattack':
    return [planned(c, 'white-box', spec, chain=AUTOATTACK)
            for c in autoattack_configs(b.epsilon)]
  raise ValueError(f'unknown suite {suite!r}; choose from {", ".join(SUITES)}')
