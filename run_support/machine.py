"""Which machine a timing was taken on. A run resumed in another sitting, or a results file
filled over several, may hold seconds measured on different CPUs (issue 30's sittings ran on
an AVX-512 machine and on a slower one with AVX2 only), so each timing carries this record."""

import functools
import os
import platform

# The instruction-set extensions that change TensorFlow's CPU speed most (oneDNN kernels).
SPEED_FLAGS = ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16')


def _cpuinfo_lines():
  try:
    with open('/proc/cpuinfo') as f:
      return f.read().splitlines()
  except OSError:  # not Linux
    return []


def _field(lines, name):
  """The first value of `name` in /proc/cpuinfo's lines, or None."""
  for line in lines:
    key, _, value = line.partition(':')
    if key.strip() == name:
      return value.strip()
  return None


@functools.lru_cache(maxsize=None)
def machine_record():
  """{'cpu', 'cpus', 'simd', 'platform'}: the CPU's model name, the cores this process
  sees, which of SPEED_FLAGS it has, and the OS."""
  lines = _cpuinfo_lines()
  flags = set((_field(lines, 'flags') or '').split())
  return {'cpu': _field(lines, 'model name') or platform.processor() or platform.machine(),
          'cpus': os.cpu_count(),
          'simd': [f for f in SPEED_FLAGS if f in flags],
          'platform': platform.platform()}


def machine_label(record):
  """'AMD EPYC, 2 cores, avx2': a machine_record() in one phrase."""
  parts = [str(record.get('cpu')), f'{record.get("cpus")} cores']
  return ', '.join(parts + ['/'.join(record['simd'])] if record.get('simd') else parts)
