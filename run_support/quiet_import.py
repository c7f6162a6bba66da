"""Imports TensorFlow without its C++ start-up chatter on stderr.

On a machine without CUDA, `import tensorflow` prints 'Could not find cuda drivers ...'
twice through C++ logging that TF_CPP_MIN_LOG_LEVEL does not reach; entry points promise
one clear line on stderr for bad input, so that chatter is captured and dropped (and
replayed if the import itself fails).
"""

import os
import sys
import tempfile


def import_tensorflow_quietly():
  if 'tensorflow' in sys.modules:
    return
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      import tensorflow  # pylint: disable=g-import-not-at-top,unused-import
    except BaseException:
      os.dup2(saved, 2)
      captured.seek(0)
      sys.stderr.write(captured.read().decode(errors='replace'))
      raise
    finally:
      os.dup2(saved, 2)
      os.close(saved)
