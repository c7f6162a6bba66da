"""Evaluation results: the JSON document (resumable state) and the Markdown table."""

import numpy as np


def worst_case(results):
  """Per example: correct under every attack run (and clean); and its mean."""
  correct = np.logical_and.reduce([r.correct for r in results])
  return float(np.mean(correct)), correct


def markdown_table(results, worst_accuracy):
  lines = ['| attack | threat | description | accuracy | seconds | sanity |',
           '|---|---|---|---|---|---|']
  for r in results:
    sanity = 'ok' if r.sanity.get('ok') else 'FAILED'
    lines.append(f'| {r.name} | {r.threat} | {r.description} | {r.accuracy:.2%} | '
                 f'{r.seconds:.1f} | {sanity} |')
  lines.append(f'| **worst case** | per example, all of the above | | **{worst_accuracy:.2%}** | | |')
  return '\n'.join(lines) + '\n'
