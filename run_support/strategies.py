"""The names of the tf.distribute strategies train.py and eval.py offer (no TensorFlow here,
so flags are checked before it loads; the strategies themselves: distribution.py)."""

from absl import flags

STRATEGIES = ('default', 'mirrored', 'multi_worker')


def define_strategy_flag(what_is_split):
  flags.DEFINE_enum('strategy', 'default', list(STRATEGIES),
                    'tf.distribute strategy: one device (default), every local device '
                    '(mirrored: GPUs, else logical CPUs), or the workers of TF_CONFIG '
                    f'(multi_worker; only the chief writes). {what_is_split}')
