"""The 95% Wilson interval and the interval of a difference, against hand-computed and
published values."""

import pytest

from evaluation.intervals import difference_interval
from evaluation.intervals import format_interval
from evaluation.intervals import wilson_interval


def test_wilson_interval_matches_hand_computed_values():
  # 50 of 100: centre 0.5, half-width 1.96 * sqrt(0.0025 + 0.96/40000) / 1.0384 = 0.0948
  low, high = wilson_interval(50, 100)
  assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
  # 0 of 1,000: [0, 3.8416 / 1003.8416] = [0, 0.00383]
  assert wilson_interval(0, 1000) == pytest.approx((0.0, 0.003827), abs=1e-6)
  low, high = wilson_interval(1000, 1000)
  assert high == 1.0 and low == pytest.approx(1 - 0.003827, abs=1e-6)


def test_interval_narrows_with_n_and_formats_in_percent():
  assert (wilson_interval(500, 1000)[1] - wilson_interval(500, 1000)[0]
          < wilson_interval(50, 100)[1] - wilson_interval(50, 100)[0])
  assert format_interval(50, 100) == '50.0% [40.4, 59.6]'


def test_results_table_shows_each_accuracy_with_its_interval():
  import numpy as np  # pylint: disable=g-import-not-at-top
  from evaluation.report import markdown_table  # pylint: disable=g-import-not-at-top
  from evaluation.runner import AttackResult  # pylint: disable=g-import-not-at-top
  clean = AttackResult('clean', 'clean', None, 'no attack', {}, np.array([True] * 50 + [False] * 50),
                       1.0, {'ok': True})
  table = markdown_table([clean], [{'threat': 'white-box', 'epsilon': 0.3, 'norm': 'linf',
                                    'correct': '1' * 50 + '0' * 50, 'over': ['x']}], [])
  assert '| clean | clean | no attack | 50.00% [40.4, 59.6] |' in table
  assert '| white-box | 0.3 linf | **50.00% [40.4, 59.6]** | x |' in table


def test_difference_interval_matches_newcombes_published_values():
  # Newcombe (1998), Statistics in Medicine 17:873, method 10, his examples 56/70 - 48/80 and
  # 0/10 - 0/10 (where the normal approximation would give a single point).
  low, high = difference_interval(48, 80, 56, 70)
  assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
  low, high = difference_interval(0, 10, 0, 10)
  assert (round(low, 4), round(high, 4)) == (-0.2775, 0.2775)
