"""The finished batches of a white-box attack that was cut off (a kill, the end of a
sitting), kept beside results.json so that the rerun resumes at the first missing batch
instead of starting the attack over (FAB-T on a robust CIFAR model runs for hours).

One file per attack, `<output_dir>/unfinished/<attack name>.json`, rewritten atomically
after each batch and removed once the attack's result is in results.json. It is keyed by
everything a batch's outcome depends on: the target's weights, the images, the attack's
settings, the seed, the batching, which points the attack was given (a chain's later
members attack only what the earlier ones left) and the attack code. A file under another
key is ignored and replaced, never trusted. Each batch's seed depends only on its index
(evaluation.runner), so a resumed attack measures what an uninterrupted one would.
Black-box attacks need none of this: their crafting resumes in the transfer cache.
"""

import hashlib
import json
import os

from absl import logging
import numpy as np

from evaluation.transfer_cache import ATTACK_CODE_SHA256
from run_support.atomic_io import write_json_atomic
from run_support.run_files import UNFINISHED_SUBDIR


class AttackProgress:
  """The unfinished attacks of one results folder, for one model state and image set."""

  def __init__(self, out_dir, model_state, examples_sha256, writes=True):
    self.folder = os.path.join(out_dir, UNFINISHED_SUBDIR)
    self.model = {k: model_state.get(k) for k in ('dataset', 'global_step', 'weights_sha256')}
    self.examples_sha256, self.writes = examples_sha256, writes

  def _path(self, name):
    return os.path.join(self.folder, f'{name}.json')

  def attempt(self, name, config_record, seed, batch_size, only):
    """The batch log of attack `name` run with these settings on the points `only` (None:
    all): the batches an earlier, cut-off run finished are in its `kept`."""
    only_sha = None if only is None else hashlib.sha256(
        np.packbits(np.asarray(only, bool)).tobytes()).hexdigest()
    identity = {'model': self.model, 'examples': self.examples_sha256, 'seed': seed,
                'config': config_record, 'batch_size': batch_size, 'only': only_sha,
                'attack_code': ATTACK_CODE_SHA256}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return _BatchLog(self, name, key[:32])

  def discard(self, name):
    """Forgets attack `name`'s batches (its result is stored now)."""
    path = self._path(name)
    if self.writes and os.path.isfile(path):
      os.remove(path)
      if not os.listdir(self.folder):
        os.rmdir(self.folder)


class _BatchLog:
  """One attack's finished batches: {index: {'correct', 'sanity', 'seconds'}}."""

  def __init__(self, progress, name, key):
    self.progress, self.name, self.key = progress, name, key
    self.kept = self._load()

  def _load(self):
    path = self.progress._path(self.name)  # pylint: disable=protected-access
    if not os.path.isfile(path):
      return {}
    try:
      with open(path) as f:
        stored = json.load(f)
      batches = {int(i): dict(b, correct=np.array([c == '1' for c in b['correct']], bool))
                 for i, b in stored['batches'].items()} if stored.get('key') == self.key else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
      logging.warning('%s is unreadable (%s); the attack starts over', path, e)
      return {}
    if not batches:
      logging.warning('%s belongs to another model state, image set or attack setting; '
                      'the attack starts over', path)
    else:
      logging.info('%s: resuming with %d finished batches from %s', self.name, len(batches), path)
    return batches

  def save(self, index, correct, sanity, seconds):
    """Keeps batch `index`'s outcome (per-example correctness, sanity state, seconds)."""
    self.kept[index] = {'correct': np.asarray(correct, bool), 'sanity': sanity,
                        'seconds': seconds}
    if not self.progress.writes:
      return
    os.makedirs(self.progress.folder, exist_ok=True)
    batches = {str(i): dict(b, correct=''.join('1' if c else '0' for c in b['correct']))
               for i, b in sorted(self.kept.items())}
    write_json_atomic(self.progress._path(self.name),  # pylint: disable=protected-access
                      {'key': self.key, 'batches': batches})
