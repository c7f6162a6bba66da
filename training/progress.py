"""Progress line with throughput and ETA."""

import datetime
import time


class Progress:
  """Measures steps/s since the last report and estimates the time left."""

  def __init__(self, total_steps, start_step, batch_size):
    self._total = total_steps
    self._batch_size = batch_size
    self._last_step = start_step
    self._last_time = time.perf_counter()
    self.steps_per_sec = 0.0

  def update(self, step):
    """Records reaching `step`; returns the progress line."""
    now = time.perf_counter()
    self.steps_per_sec = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_step, self._last_time = step, now
    remaining = (self._total - step) / max(self.steps_per_sec, 1e-9)
    eta = datetime.timedelta(seconds=round(remaining))
    return (f'step {step}/{self._total} ({100.0 * step / self._total:.1f}%) | '
            f'{self.steps_per_sec:.1f} steps/s, {self.steps_per_sec * self._batch_size:.0f} img/s | '
            f'ETA {eta}')
