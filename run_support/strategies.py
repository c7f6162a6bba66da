"""The names of the tf.distribute strategies train.py and eval.py offer (no TensorFlow here,
so flags are checked before it loads; the strategies themselves: distribution.py)."""

from absl import flags

STRATEGIES = ('default', 'mirrored', 'multi_worker')


def define_strategy_flag():
  """--strategy, shared by train.py and eval.py (defined once per process)."""
  if 'strategy' in flags.FLAGS:
    return
  flags.DEFINE_enum('strategy', 'default', list(STRATEGIES),
                    'tf.distribute strategy: one device (default), every local device '
                    '(mirrored: GPUs, else logical CPUs), or the workers of TF_CONFIG '
                    '(multi_worker; only the chief writes). Training: --batch_size stays the '
                    'global batch, each replica takes its slice. Evaluation: each attack '
                    'batch is split across the replicas.')
