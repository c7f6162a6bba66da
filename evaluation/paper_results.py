"""The paper's published numbers for a dataset, from configs/paper_results/ (the file its
recipe names, data_input/specs.py: paper_suites.results_file)."""

import json
import os

PAPER_RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             'configs', 'paper_results')


def paper_numbers(spec):
  """The paper's table for the dataset ({'rows': {}} where the project has none)."""
  if spec.paper_suites.results_file is None:
    return {'rows': {}}
  with open(os.path.join(PAPER_RESULTS, spec.paper_suites.results_file)) as f:
    return json.load(f)


def paper_pgd_names(spec):
  """The paper's white-box PGD on xent and on CW, as eval.py names them (and the paper's
  tables key them)."""
  return tuple(f'pgd{spec.paper_attack.steps}_{loss}' for loss in ('xent', 'cw'))
