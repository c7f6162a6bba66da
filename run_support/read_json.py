"""Reading the project's JSON files (results, metrics, run configs) so that a missing or
broken file is one clear line naming it and what writes it, never a traceback."""

import json

from run_support.errors import UserError


def read_json(path, hint):
  """The JSON in `path`; UserError naming the file and `hint` (what writes it, or what to
  run first) when it is missing or unreadable."""
  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError:
    raise UserError(f'{path} is missing: {hint}') from None
  except (OSError, ValueError) as e:
    raise UserError(f'{path} is unreadable ({e}): {hint}') from None
