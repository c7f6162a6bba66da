"""Evaluation results as a document: worst cases per threat model and budget, AutoAttack's
summary, the results.json document and its Markdown table."""

import numpy as np

from evaluation.intervals import wilson_interval
from evaluation.plan import AUTOATTACK
from run_support.machine import machine_label

# Worst-case groups: each threat model alone, AutoAttack's chain, and all of them together.
ANY = 'any (white-box, black-box, AutoAttack)'


def source_label(state):
  """A recorded source model state as the flags name it: its path, or an ensemble's member
  paths joined by '+'."""
  return '+'.join(m['path'] for m in state.get('members', [state]))


def worst_cases(results):
  """Per (threat model, epsilon, norm): the examples still correct under clean evaluation
  and every attack of that group. Sanity (unbounded) attacks never enter."""
  clean = results[0]
  groups = {}
  for r in results[1:]:
    if r.threat == 'sanity':
      continue
    budget = (r.config['epsilon'], r.config['norm'])
    kind = AUTOATTACK if r.chain == AUTOATTACK else r.threat
    groups.setdefault((kind, *budget), []).append(r)
    groups.setdefault((ANY, *budget), []).append(r)
  cases = []
  for (kind, epsilon, norm), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0] == ANY, kv[0][0])):
    correct = np.logical_and.reduce([clean.correct] + [m.correct for m in members])
    cases.append({'threat': kind, 'epsilon': epsilon, 'norm': norm,
                  'accuracy': float(np.mean(correct)),
                  'correct': ''.join('1' if c else '0' for c in correct),
                  'over': [m.name for m in members]})
  return cases


def autoattack_summary(results, chain_names, spec, n):
  """RobustBench-style fields once every member of AutoAttack's chain has run, else None."""
  chain = {r.name: r for r in results if r.chain == AUTOATTACK}
  if set(chain_names) - set(chain):
    return None
  last = chain[chain_names[-1]]
  return {'clean_acc': results[0].accuracy, 'autoattack_acc': last.accuracy,
          'eps': spec.epsilon_label(last.epsilon), 'norm': 'Linf', 'n_examples': n,
          'version': 'standard: ' + ', then '.join(chain_names),
          'robust_after': {name: chain[name].accuracy for name in chain_names}}


def _with_interval(correct):
  """'43.30% [40.3, 46.4]': accuracy over the per-example outcomes and its 95% interval."""
  n, k = len(correct), int(sum(correct))
  if not n:
    return '-'
  low, high = wilson_interval(k, n)
  return f'{k / n:.2%} [{100 * low:.1f}, {100 * high:.1f}]'


def markdown_table(results, cases, warnings):
  lines = ['| attack | threat | description | accuracy [95% interval] | seconds | sanity |',
           '|---|---|---|---|---|---|']
  for r in results:
    threat = f'{r.threat}, {r.chain} chain' if r.chain else r.threat
    lines.append(f'| {r.name} | {threat} | {r.description} | {_with_interval(r.correct)} | '
                 f'{r.seconds:.1f} | {"ok" if r.sanity.get("ok") else "FAILED"} |')
  if cases:
    lines += ['', '| worst case per example | epsilon | accuracy [95% interval] | over |',
              '|---|---|---|---|']
    lines += [f'| {c["threat"]} | {c["epsilon"]:g} {c["norm"]} | '
              f'**{_with_interval([ch == "1" for ch in c["correct"]])}** | '
              f'{", ".join(c["over"])} |' for c in cases]
  lines += _machines_lines(results)
  cached = [f'{r.name} ({r.cached_batches} batches)' for r in results if r.cached_batches]
  if cached:
    lines.append('- crafted examples taken from the transfer cache, their crafting time not in '
                 f'seconds: {", ".join(cached)}')
  lines += [f'- WARNING: {w}' for w in warnings]
  return '\n'.join(lines) + '\n'


def _machines_lines(results):
  """Where the seconds were measured: one line per machine with the results it timed
  (results filled over several sittings may mix CPUs; older ones recorded none)."""
  timed = {}
  for r in results:
    label = machine_label(r.machine) if r.machine else 'an unrecorded machine'
    timed.setdefault(label, []).append(r.name)
  return [''] + [f'- seconds measured on {label}: {", ".join(names)}'
                 for label, names in timed.items()]


def results_document(context, results, warnings, zero_grad, complete):
  """The results.json document (and its Markdown) for the results so far.

  Args:
    context: dict with setup, model (state), runs (each run's settings and what it
      measured), examples, spec, n, chain_names.
    results: AttackResults, clean first.
    warnings: gradient-masking alarms (strings).
    zero_grad: share of examples with a zero input gradient, or None before it is measured.
    complete: True once every requested attack has finished.

  Returns:
    (document, markdown).
  """
  cases = worst_cases(results)
  document = {
      'complete': complete,
      'setup': context['setup'],
      'model': context['model'],
      'runs': context['runs'],
      'examples': context['examples'],
      'clean_acc': results[0].accuracy,
      'attacks': [r.to_json() for r in results],
      'worst_case': cases,
      'zero_gradient_share': zero_grad,
      'warnings': warnings,
  }
  autoattack = autoattack_summary(results, context['chain_names'], context['spec'], context['n'])
  if autoattack:
    document.update(autoattack_acc=autoattack['autoattack_acc'], eps=autoattack['eps'],
                    n_examples=context['n'], autoattack=autoattack)
  return document, markdown_table(results, cases, warnings)
