"""results.json of an evaluation: load (resumable state), key check, atomic save.

A file belongs to one evaluation setup (dataset, examples, seed), one model state
(dataset, global step and weights hash; not the folder's path, so a clone elsewhere reuses
shipped results) and one set of test examples (a hash of the images and labels in their
order: another data source or order gives other "first N"). Another setup in the same
folder is refused; the same setup measured on another model state or other images (a model
extended in place, data read in another order) is stale: it is moved aside, kept, and
everything is recomputed. A file that does not say which images it measured is stale too.

A file filled by several runs keeps each run's settings and what it measured (`runs`), so
no result is described by the settings of a later run (a result measured again is the last
run's that names it); files written before `runs` existed
hold the last run's `settings` alone, kept as an earlier run that did not record what it
measured.
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


def _images_label(examples):
  if not examples or not examples.get('sha256'):
    return 'unrecorded images'
  return f'images {examples["sha256"][:12]} ({examples.get("which")}, {examples.get("source")})'


def _runs(document):
  """The runs recorded in a stored document, oldest first."""
  if 'runs' in document:
    return list(document['runs'])
  if 'settings' in document:  # written before runs were recorded: its last run alone
    return [{'settings': document['settings'], 'measured': None}]
  return []


class ResultsStore:
  """The results of one setup on one model state and one set of examples in `out_dir`."""

  def __init__(self, out_dir, setup, model_state, examples, writes=True):
    """`examples`: what data_input.loader.Split.describe records (its sha256 decides)."""
    self.out_dir, self.setup, self.writes = out_dir, setup, writes
    self.model_state, self.examples = model_state, examples
    self.path = os.path.join(out_dir, RESULTS_JSON)
    self.loaded_complete = False  # load() found a finished evaluation of this model state
    self.earlier_runs = []  # load(): the runs that measured the results it returns

  def load(self):
    """{name: AttackResult} of the results already measured on this model state and these
    images."""
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
      self._set_aside(_state_label(previous.get('model')), _state_label(self.model_state))
      return {}
    measured = previous.get('examples') or {}
    if measured.get('sha256') != self.examples['sha256']:
      self._set_aside(_images_label(measured), _images_label(self.examples))
      return {}
    try:
      done = {e['name']: AttackResult.from_json(e) for e in previous.get('attacks', [])}
    except (KeyError, TypeError, ValueError) as e:
      raise UserError(f'{self.path} is damaged ({e!r}); move it away to start afresh') from None
    self.loaded_complete = previous.get('complete') is True
    self.earlier_runs = _runs(previous)
    return done

  def _set_aside(self, measured, now):
    kept = os.path.join(self.out_dir, f'results.stale-{time.strftime("%Y%m%d-%H%M%S")}.json')
    if self.writes:
      os.replace(self.path, kept)
    logging.warning('%s measured %s, not %s: recomputing everything; the old file is kept '
                    'as %s', self.path, measured, now, kept)

  def save(self, document, markdown):
    if self.writes:
      os.makedirs(self.out_dir, exist_ok=True)
      write_json_atomic(self.path, document)
      write_text_atomic(os.path.join(self.out_dir, RESULTS_MD), markdown)
