"""The exception types that entry points turn into a single clear line."""


class UserError(Exception):
  """Bad input from the user (flags, files, folders): reported without a traceback."""


class RunFailure(Exception):
  """Work that failed for a reason other than bad input (e.g. an attack that crashed inside
  TensorFlow): one line naming what failed and what was kept; exit code 1."""
