"""Transfer examples crafted on a source model, kept on disk (eval.py --transfer_cache_dir)
so that judging more target models against the same source costs no new crafting.

An entry is keyed by everything the crafted images depend on: the source's weights, the
attack's settings, the seed, the test images and how they are batched, and the attack code
itself. Anything unreadable or of the wrong shape is recrafted, never trusted. Batches are
kept as they are crafted (`<key>.partial/`), so a crafting killed midway resumes at its
first missing batch (each batch's seed depends only on its index).
"""

import hashlib
import json
import os
import shutil

from absl import logging
import numpy as np

from run_support.atomic_io import write_atomic

_ATTACKS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            'attacks')


def _attack_code_sha256():
  """A hash of the attacks package's source: changed attack code never reuses an entry."""
  digest = hashlib.sha256()
  for name in sorted(os.listdir(_ATTACKS_DIR)):
    if name.endswith('.py'):
      with open(os.path.join(_ATTACKS_DIR, name), 'rb') as f:
        digest.update(name.encode() + b'\0' + f.read())
  return digest.hexdigest()


# Hashed once, when the process imports this module beside the attacks it runs: editing
# attacks/ during a long evaluation must not change the keys its later attacks look under.
ATTACK_CODE_SHA256 = _attack_code_sha256()


class TransferCache:
  """Crafted black-box examples per (source, attack, seed, images, batching) in `folder`."""

  def __init__(self, folder):
    self.folder = folder

  def key(self, source_state, config_record, seed, batch_size, examples_sha256):
    """The entry name of one black-box attack run. The source counts by its weights (and
    dataset), not its path; the attack by every setting except its display name."""
    source = {k: source_state.get(k) for k in ('dataset', 'weights_sha256')}
    config = {k: v for k, v in config_record.items() if k not in ('name', 'source')}
    identity = {'source': source, 'config': config, 'seed': seed, 'batch_size': batch_size,
                'examples': examples_sha256, 'attack_code': ATTACK_CODE_SHA256}
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]

  def _path(self, key):
    return os.path.join(self.folder, f'{key}.npz')

  def load(self, key, batch_shapes):
    """The crafted batches of `key` (each [restarts, *batch shape]), or None when absent,
    unreadable, or not of `batch_shapes` (the [restarts, *shape] expected per batch)."""
    path = self._path(key)
    if not os.path.isfile(path):
      return None
    try:
      with np.load(path) as archive:
        batches = [archive[f'batch{i}'] for i in range(len(batch_shapes))]
    except (OSError, KeyError, ValueError) as e:
      logging.warning('transfer cache entry %s is unreadable (%s); recrafting', path, e)
      return None
    if [b.shape for b in batches] != [tuple(s) for s in batch_shapes]:
      logging.warning('transfer cache entry %s has other shapes than this run; recrafting', path)
      return None
    logging.info('crafted examples reused from %s', path)
    return batches

  def save(self, key, batches):
    """Stores the crafted batches of `key` atomically; its partial batches go."""
    os.makedirs(self.folder, exist_ok=True)
    write_atomic(self._path(key),
                 lambda f: np.savez(f, **{f'batch{i}': b for i, b in enumerate(batches)}), 'wb')
    shutil.rmtree(self._partial_dir(key), ignore_errors=True)

  def _partial_dir(self, key):
    return os.path.join(self.folder, f'{key}.partial')

  def _batch_path(self, key, index):
    return os.path.join(self._partial_dir(key), f'batch{index}.npy')

  def save_batch(self, key, index, batch):
    """Keeps batch `index` of an unfinished crafting of `key` (atomically)."""
    os.makedirs(self._partial_dir(key), exist_ok=True)
    write_atomic(self._batch_path(key, index), lambda f: np.save(f, batch), 'wb')

  def load_partial(self, key, batch_shapes):
    """{index: crafted batch} of an unfinished crafting of `key`: the batches kept so far
    that are readable and of their expected shape (the others are crafted again)."""
    kept = {}
    for index, shape in enumerate(batch_shapes):
      path = self._batch_path(key, index)
      try:
        batch = np.load(path) if os.path.isfile(path) else None
      except (OSError, ValueError) as e:
        logging.warning('partial transfer batch %s is unreadable (%s); recrafting', path, e)
        continue
      if batch is not None and batch.shape == tuple(shape):
        kept[index] = batch
    if kept:
      logging.info('resuming a crafting: %d of %d batches kept in %s', len(kept),
                   len(batch_shapes), self._partial_dir(key))
    return kept
