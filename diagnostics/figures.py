"""Readable figures of the diagnostics, overlaying several models."""

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from diagnostics.activations import inactive_count

_HISTOGRAMS = (
    ('logit_gap', 'logit gap $z_y - z_{\\bar y}$', 'logit units'),
    ('gradient_gap', 'gradient gap $\\|\\nabla_x z_y - \\nabla_x z_{\\bar y}\\|_1$', 'per pixel unit'),
    ('epsilon_L', '$\\epsilon_L$ (Eq. 4)', 'pixel units'),
    ('cosine', 'cosine of $\\nabla_x z_y$ and $\\nabla_x z_{\\bar y}$', 'cosine'),
    ('grad_true_l1', '$\\|\\nabla_x z_y\\|_1$', 'per pixel unit'),
    ('logits', 'logit values (all classes)', 'logit units'),
)


def histograms(per_model, path, epsilon):
  """One panel per quantity, one histogram per model (Figures 1-4, 6-8)."""
  fig, axes = plt.subplots(2, 3, figsize=(16, 9))
  for ax, (key, title, unit) in zip(axes.flat, _HISTOGRAMS):
    values = [np.ravel(q[key]) for q in per_model.values()]
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0, 1)
    for label, v in zip(per_model, values):
      ax.hist(np.clip(v, lo, hi), bins=50, range=(lo, hi), histtype='step', linewidth=1.5,
              label=label)
    if key == 'epsilon_L':
      ax.axvline(epsilon, color='k', linestyle='--', label=f'attack epsilon {epsilon:g}')
    ax.set_title(title)
    ax.set_xlabel(unit + ' (1st-99th percentile)')
    ax.set_ylabel('examples')
    ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def _sorted_sums(per_model, path, title, label_of):
  fig, ax = plt.subplots(figsize=(8, 5))
  for label, sums in per_model.items():
    ax.plot(np.arange(len(sums)), sums, marker='o' if len(sums) <= 20 else None,
            label=label_of(label, sums))
  ax.set_yscale('symlog')
  ax.set_title(title)
  ax.set_xlabel('neuron (sorted by activity)')
  ax.set_ylabel('sum of |activation|')
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def activity(per_model, path):
  """Sorted summed |activation| of the penultimate neurons (Figure 10)."""
  _sorted_sums(per_model, path, 'penultimate layer: summed |activation| over the test examples',
               lambda label, sums: f'{label}: {inactive_count(sums)} of {len(sums)} inactive '
                                   '(below 1e-6 of the most active)')


def logit_activity(per_model, path):
  """Sorted summed |logit| of the logit-layer neurons (Figure 11)."""
  _sorted_sums(per_model, path, 'logit layer: summed |activation| over the test examples',
               lambda label, sums: label)


def inactive_by_threshold(per_model, thresholds, path):
  """Inactive penultimate neurons against the threshold (a fraction of the most active
  neuron's sum): Figure 10's count depends on a threshold the paper does not give."""
  fig, ax = plt.subplots(figsize=(7, 4.5))
  for label, sums in per_model.items():
    ax.plot(thresholds, [inactive_count(sums, t) for t in thresholds], marker='o', label=label)
  ax.set_xscale('log')
  ax.set_xlabel('threshold (fraction of the most active neuron\'s summed |activation|)')
  ax.set_ylabel(f'inactive penultimate neurons (of {len(next(iter(per_model.values())))})')
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def landscape_grid(values, grid, path, title):
  """Loss surfaces of several images side by side (Figures 5, 9)."""
  n = len(values)
  cols = min(n, 4)
  rows = int(np.ceil(n / cols))
  fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.6 * rows), squeeze=False)
  extent = [grid[0], grid[-1], grid[0], grid[-1]]
  for i, ax in enumerate(axes.flat):
    if i >= n:
      ax.axis('off')
      continue
    image = ax.imshow(values[i].T, origin='lower', extent=extent, cmap='viridis', aspect='auto')
    ax.set_title(f'test image {i}')
    ax.set_xlabel('$\\epsilon_1$ (pixel units)')
    ax.set_ylabel('$\\epsilon_2$ (pixel units)')
    fig.colorbar(image, ax=ax, label='cross-entropy')
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
