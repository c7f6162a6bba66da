"""tf.distribute for training and evaluation: which strategy, which worker writes, and
attacks split across replicas.

Every worker computes the same global batch for a step (batches are a pure function of
seed and step) and each replica trains on (or attacks) its slice of it, so the data
order, and hence the run, does not depend on how many devices or workers share the work.
"""

import json
import os
import shutil

import tensorflow as tf

from run_support.errors import UserError
from run_support.strategies import STRATEGIES



def _tf_config():
  raw = os.environ.get('TF_CONFIG', '')
  try:
    config = json.loads(raw) if raw else {}
    cluster, task = config.get('cluster', {}), config.get('task', {})
    task_type, task_index = task['type'], int(task['index'])
    if not cluster.get(task_type) or task_index >= len(cluster[task_type]):
      raise KeyError('task')
  except (ValueError, KeyError, TypeError, AttributeError):
    raise UserError('--strategy=multi_worker needs TF_CONFIG, e.g. {"cluster": {"worker": '
                    '["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}; '
                    f'got {raw!r}') from None
  return cluster, task_type, task_index


def make_strategy(name):
  """The tf.distribute strategy `name` (create it before any other TensorFlow work)."""
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':  # every local GPU; without GPUs every logical CPU device
    devices = tf.config.list_logical_devices('GPU') or tf.config.list_logical_devices('CPU')
    return tf.distribute.MirroredStrategy([d.name for d in devices])
  if name == 'multi_worker':
    _tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()
  raise UserError(f'--strategy must be one of {", ".join(STRATEGIES)}, got {name!r}')


def is_distributed(strategy):
  return strategy.num_replicas_in_sync > 1 or isinstance(
      strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
  """True on the one worker that writes results (always, without multi_worker)."""
  if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    return True
  cluster, task_type, task_index = _tf_config()
  if 'chief' in cluster:
    return task_type == 'chief'
  return task_type == 'worker' and task_index == 0


def checkpoint_dir(base, strategy):
  """Where this worker saves: `base` on the chief; a scratch folder on the others (every
  worker must take part in saving distributed variables, only the chief's copy is kept)."""
  if is_chief(strategy):
    return base
  _, task_type, task_index = _tf_config()
  return os.path.join(base, f'.{task_type}_{task_index}_scratch')


def remove_scratch(path, base):
  if path != base:
    shutil.rmtree(path, ignore_errors=True)


def replicated_attack(strategy, attack):
  """attack(x, y, seed) with the batch (the same on every worker) split among the replicas
  and the adversarial batch gathered back on every worker."""
  replicas = strategy.num_replicas_in_sync

  @tf.function(reduce_retracing=True)
  def run(x, y, seed):
    n = tf.shape(x)[0]
    per_replica = (n + replicas - 1) // replicas
    pad = per_replica * replicas - n  # repeat the last example to fill the last replica
    x_all = tf.concat([x, tf.repeat(x[-1:], pad, axis=0)], 0)
    y_all = tf.concat([y, tf.repeat(y[-1:], pad, axis=0)], 0)

    def replica_attack():
      start = tf.distribute.get_replica_context().replica_id_in_sync_group * per_replica
      x_adv, fooled = attack(x_all[start:start + per_replica], y_all[start:start + per_replica],
                             seed=seed)
      return x_adv, tf.cast(fooled, tf.int32)

    x_adv, fooled = strategy.run(replica_attack)
    return (strategy.gather(x_adv, axis=0)[:n],
            tf.cast(strategy.gather(fooled, axis=0)[:n], tf.bool))

  return lambda x, y, seed=0: run(tf.convert_to_tensor(x, tf.float32),
                                  tf.convert_to_tensor(y, tf.int64), tf.constant(seed, tf.int64))
