"""95% confidence intervals for accuracies measured on n examples (binomial)."""

import math

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson_interval(correct, n, z=Z95):
  """(low, high) of the Wilson score interval for `correct` successes out of `n`: well
  behaved at 0% and 100%, where robust accuracies often sit (the normal approximation
  would give an empty or negative interval there)."""
  if n <= 0:
    return (float('nan'), float('nan'))
  p = correct / n
  centre = (p + z * z / (2 * n)) / (1 + z * z / n)
  half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
  return (max(0.0, centre - half), min(1.0, centre + half))


def difference_interval(correct1, n1, correct2, n2, z=Z95):
  """(low, high) of p2 - p1 for two independent binomial samples: Newcombe's hybrid score
  interval (1998, method 10), built from the two Wilson intervals, so that it stays
  sensible at 0% and 100% (the normal approximation collapses to a point there)."""
  p1, p2 = correct1 / n1, correct2 / n2
  low1, high1 = wilson_interval(correct1, n1, z)
  low2, high2 = wilson_interval(correct2, n2, z)
  difference = p2 - p1
  return (difference - math.sqrt((p2 - low2) ** 2 + (high1 - p1) ** 2),
          difference + math.sqrt((high2 - p2) ** 2 + (p1 - low1) ** 2))


def format_interval(correct, n, digits=1):
  """'12.3% [10.4, 14.5]': the accuracy and its 95% Wilson interval, in percent."""
  low, high = wilson_interval(correct, n)
  return f'{100 * correct / n:.{digits}f}% [{100 * low:.{digits}f}, {100 * high:.{digits}f}]'
