"""Benchmarks are figures only on an idle machine: refuse (or mark) a run on busy cores."""

import os
import sys

from absl import flags
import tensorflow as tf

from run_support.atomic_io import write_json_atomic
from run_support.machine import machine_record

# A 1-minute load average above this share of the cores means something else is running.
BUSY_SHARE = 0.25


def require_idle_machine(allow_busy=False):
  """True when the cores are busy and `allow_busy` lets the run go on (its output must then
  be marked as not a benchmark); exits with one line when they are busy otherwise."""
  load = os.getloadavg()[0]
  cores = os.cpu_count() or 1
  busy = load > BUSY_SHARE * cores
  if busy and not allow_busy:
    sys.exit(f'{os.path.basename(sys.argv[0])}: error: the 1-minute load average is {load:.2f} '
             f'on {cores} cores: something else is running, so timings would be wrong. Stop it '
             'and wait a minute, or pass --allow_busy to get output marked as not a benchmark')
  return busy


def define_idle_flag():
  """--allow_busy, for every benchmark script."""
  flags.DEFINE_bool('allow_busy', False, 'Run even when the load average says the cores are '
                    'busy (the output is then marked as not a benchmark).')


class BenchRun:
  """One benchmark run: refuses busy cores at its start (unless `allow_busy`) and records
  the conditions it ran under, so its output says whether it is a figure."""

  def __init__(self, allow_busy=False):
    self.busy = require_idle_machine(allow_busy)
    self._start_load = os.getloadavg()

  def warn_if_busy(self):
    if self.busy:
      print('NOT A BENCHMARK: the cores were busy (see load_average_at_start)')

  def record(self):
    """The fields every benchmark's JSON starts with: whether it is one, the load averages
    (1, 5, 15 min) before and after, and the machine."""
    return {'benchmark': not self.busy, 'load_average_at_start': list(self._start_load),
            'load_average_at_end': list(os.getloadavg()),
            'machine': dict(machine_record(), tensorflow=tf.__version__)}

  def save(self, path, fields):
    """Writes `fields` after `record()` to the JSON file `path` (atomically, making its
    folder), so every benchmark's output starts with the conditions it ran under."""
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    write_json_atomic(path, {**self.record(), **fields})
