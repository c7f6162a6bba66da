"""Atomic file writes: a crash never leaves a half-written result or config behind."""

import json
import os
import tempfile


def write_atomic(path, write, mode='w'):
  """Calls write(file) on a temporary file beside `path` (opened in `mode`), then renames
  it to `path` atomically."""
  folder = os.path.dirname(os.path.abspath(path))
  fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.')
  try:
    with os.fdopen(fd, mode) as f:
      write(f)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def write_text_atomic(path, text):
  """Writes `text` to `path` through a temporary file and an atomic rename."""
  write_atomic(path, lambda f: f.write(text))


def write_json_atomic(path, obj):
  """Writes `obj` as indented JSON, atomically."""
  write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + '\n')


def save_keras_model_atomic(model, path):
  """Saves a Keras model to `path` (a .keras file) through a temporary file."""
  folder = os.path.dirname(os.path.abspath(path))
  tmp = os.path.join(folder, '.tmp-' + os.path.basename(path))
  try:
    model.save(tmp)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise
