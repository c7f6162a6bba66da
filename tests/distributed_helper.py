"""Runs train.py's or eval.py's real main in a fresh process with N logical CPU devices
(tf.distribute tests need them before TensorFlow starts; a pytest process is too late).

  PYTHONPATH=. python tests/distributed_helper.py <logical_cpus> train|eval --flag=value ...

train uses the first 2,000 training and 100 test images of ../shared/data/mnist read raw.
"""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import tensorflow as tf  # pylint: disable=g-import-not-at-top

from absl import flags  # pylint: disable=g-import-not-at-top


def main():
  logical_cpus, program, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
  cpu = tf.config.list_physical_devices('CPU')[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)
  if program == 'train':
    from conftest import MNIST_DIR  # pylint: disable=g-import-not-at-top
    from data_input import loader  # pylint: disable=g-import-not-at-top
    from data_input import raw_readers  # pylint: disable=g-import-not-at-top
    import train  # pylint: disable=g-import-not-at-top
    from training.loop import TrainData  # pylint: disable=g-import-not-at-top
    images, labels = raw_readers.read_mnist(MNIST_DIR, 'train')
    test_images, test_labels = raw_readers.read_mnist(MNIST_DIR, 'test')
    data = TrainData(train=loader.Split(images[:2000], labels[:2000], 'raw', False, True),
                     test=loader.Split(test_images[:100], test_labels[:100], 'raw', False, True))
    flags.FLAGS(['train.py', *args])
    train.main(['train.py'], data_override=data)
  else:
    import eval as eval_main  # pylint: disable=g-import-not-at-top
    flags.FLAGS(['eval.py', *args])
    eval_main.main(['eval.py'])


if __name__ == '__main__':
  main()
