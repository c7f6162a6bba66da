"""The registries' two operations (attacks/registry.py, data_input/specs.py): add a new
entry, look one up with a message naming the choices."""


def add_entry(table, name, entry, what):
  """Adds `entry` under a new `name`; ValueError if the name is taken."""
  if name in table:
    raise ValueError(f'{what} {name!r} is registered already')
  table[name] = entry
  return entry


def lookup(table, name, what, error=ValueError):
  """table[name], or `error` naming the registered choices."""
  try:
    return table[name]
  except KeyError:
    raise error(f'unknown {what} {name!r}; choose one of {", ".join(table)}') from None
