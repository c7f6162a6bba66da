"""Benchmarks refuse busy cores (or mark their output), so no shared-core figure passes as one."""

import pytest

from bench import idle


def test_busy_cores_stop_a_benchmark_unless_allowed(monkeypatch, capsys):
  monkeypatch.setattr(idle.os, 'cpu_count', lambda: 2)
  monkeypatch.setattr(idle.os, 'getloadavg', lambda: (1.9, 1.5, 1.0))
  with pytest.raises(SystemExit) as exit_info:
    idle.require_idle_machine()
  assert 'load average is 1.90 on 2 cores' in str(exit_info.value)
  assert idle.require_idle_machine(allow_busy=True) is True   # marked as not a benchmark
  monkeypatch.setattr(idle.os, 'getloadavg', lambda: (0.1, 0.4, 1.0))
  assert idle.require_idle_machine() is False
