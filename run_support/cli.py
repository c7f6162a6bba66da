"""Runs an absl entry point so that bad input ends in one line on stderr and exit code 2,
and a failure of the work itself in one line and exit code 1."""

import os
import sys

from absl import app
from absl import flags

from run_support.errors import RunFailure
from run_support.errors import UserError

EXIT_RUN_FAILURE = 1
EXIT_USER_ERROR = 2


def _die(program, message, code=EXIT_USER_ERROR):
  sys.stderr.write(f'{program}: error: {message}\n')
  sys.exit(code)


def _parse_flags_or_die(argv):
  """absl's parser, but a bad flag or flagfile is one line, not a usage dump."""
  program = os.path.basename(argv[0])
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    message = str(e).splitlines()[0] if str(e) else type(e).__name__
    _die(program, message.removeprefix('ERROR:: '))
  except OSError as e:  # e.g. a --flagfile that cannot be read
    _die(program, f'{e.strerror}: {e.filename}')


def run(main):
  """app.run(main) with one-line errors for flag problems, UserError and RunFailure."""
  def guarded_main(argv):  # main's return value (e.g. metrics) is not an exit status
    try:
      main(argv)
    except UserError as e:
      _die(os.path.basename(argv[0]), str(e))
    except RunFailure as e:
      _die(os.path.basename(argv[0]), str(e), EXIT_RUN_FAILURE)
  app.run(guarded_main, flags_parser=_parse_flags_or_die)
