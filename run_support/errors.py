"""The one exception type that entry points turn into a single clear line."""


class UserError(Exception):
  """Bad input from the user (flags, files, folders): reported without a traceback."""
