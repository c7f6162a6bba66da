"""results.json of an evaluation: load (resumable state), key check, atomic save.

A file belongs to one evaluation setup (dataset, examples, seed) and one model state
(dataset, global step and weights hash; not the folder's path, so a clone elsewhere reuses
shipped results). Another setup in the same folder is refused; the
same setup measured on another model state (a model extended or retrained in place) is
stale: it is moved aside, kept, and everything is recomputed.
"""

import json
import os
import time

from absl import logging

from evaluation.model_io import same_model_state
from evaluation.runner import AttackResult
from run_support.atomic_io import write_json_atomic
from run_support.atomic_io import write_text_atomic
from run_support.errors import UserError
from run_support.run_files import RESULTS_JSON
from run_support.run_files import RESULTS_MD


def _state_label(state):
  if not state:
    return 'an unrecorded model state'
  return f'step {state.get("global_step")}, weights {str(state.get("weights_sha256"))[:12]}'


class ResultsStore:
  """The results of one setup on one model state in `out_dir`."""

  def __init__(self, out_dir, setup, model_state, writes=True):
    self.out_dir, self.setup, self.model_state, self.writes = out_dir, setup, model_state, writes
    self.path = os.path.join(out_dir, RESULTS_JSON)

  def load(self):
    """{name: AttackResult} of the results already measured on this model state."""
    if not os.path.isfile(self.path):
      return {}
    try:
      with open(self.path) as f:
        previous = json.load(f)
    except (OSError, ValueError) as e:
      raise UserError(f'{self.path} is unreadable ({e}); move it away to start afresh') from None
    if previous.get('setup') != self.setup:
      raise UserError(f'{self.path} holds results of another evaluation ({previous.get("setup")}); '
                      'use another --output_dir')
    if not same_model_state(previous.get('model'), self.model_state):
      self._set_aside(previous.get('model'))
      return {}
    try:
      return {e['name']: AttackResult.from_json(e) for e in previous.get('attacks', [])}
    except (KeyError, TypeError, ValueError) as e:
      raise UserError(f'{self.path} is damaged ({e!r}); move it away to start afresh') from None

  def _set_aside(self, old_state):
    kept = os.path.join(self.out_dir, f'results.stale-{time.strftime("%Y%m%d-%H%M%S")}.json')
    if self.writes:
      os.replace(self.path, kept)
    logging.warning('%s measured %s, not this model (%s): recomputing everything; the old '
                    'file is kept as %s', self.path, _state_label(old_state),
                    _state_label(self.model_state), kept)

  def save(self, document, markdown):
    if self.writes:
      os.makedirs(self.out_dir, exist_ok=True)
      write_json_atomic(self.path, document)
      write_text_atomic(os.path.join(self.out_dir, RESULTS_MD), markdown)
