"""Benchmark: which WideResNet a study's rows can afford. For each candidate depth-width, the
training speed of every kind of step the study's rows take (natural-cost rows share one:
label smoothing, squeezing and noise are free; each adversarial training its own), then the
hours all rows take at their flagfiles' steps and batch size on this machine, and the
largest network (forward FLOPs) that fits the budget.

  python -m bench.wrn_budget --study=configs/cifar10_subset --sizes=10-1,10-2,16-2,10-4 \
      --budget_hours=10

Run from the repository's root (the study's flagfiles nest). Prints a Markdown table and
writes --output JSON; the rows' own depth and width are replaced by each candidate's.
"""

import dataclasses
import glob
import os
import statistics

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

from bench.idle import BenchRun
from bench.idle import define_idle_flag
from bench.step_timing import step_bench
import train

flags.DEFINE_string('study', 'configs/cifar10_subset', 'Folder of the study\'s row flagfiles.')
flags.DEFINE_list('sizes', ['10-1', '10-2', '16-2', '10-4'], 'Candidate WRN depth-width pairs.')
flags.DEFINE_float('budget_hours', 10.0, 'Training hours all rows may take together.')
flags.DEFINE_integer('repeats', 3, 'Timed repeats per step; medians are reported.')
flags.DEFINE_float('seconds', 4.0, 'Rough length of one timed repeat.')
flags.DEFINE_string('output', 'bench/results/wrn_budget.json', 'JSON results.')
define_idle_flag()
FLAGS = flags.FLAGS


def step_kind(cfg):
  """What a row's training step costs like: its adversary, or none."""
  if not cfg.adv_train:
    return 'natural-cost'
  return f'PGD-{cfg.adv_steps}' + (' + clean' if cfg.adv_clean_weight > 0 else '')


def study_rows(folder):
  """{row name: resolved TrainConfig} of every flagfile in `folder`."""
  paths = sorted(glob.glob(os.path.join(folder, '*.cfg')))
  if not paths:
    raise SystemExit(f'wrn_budget: error: no flagfile (*.cfg) in {folder}')
  return {os.path.basename(p)[:-len('.cfg')]: train.config_from_flagfile(p) for p in paths}


def parse_size(text):
  try:
    depth, width = (int(v) for v in text.split('-'))
  except ValueError:
    raise SystemExit(f'wrn_budget: error: --sizes entries are depth-width, got {text!r}') from None
  return depth, width


def study_hours(rows, rates):
  """Hours all rows take: each row's images (steps x batch) at its step kind's images/s."""
  return sum(cfg.train_steps * cfg.batch_size / rates[step_kind(cfg)]
             for cfg in rows.values()) / 3600


def main(argv):
  del argv
  sizes = [parse_size(s) for s in FLAGS.sizes]
  run = BenchRun(FLAGS.allow_busy)
  rows = study_rows(FLAGS.study)
  kinds = {}
  for cfg in rows.values():  # one representative config per kind of step
    kinds.setdefault(step_kind(cfg), cfg)
  benches = {(size, kind): step_bench(dataclasses.replace(cfg, depth=size[0], width=size[1]),
                                      f'WRN-{size[0]}-{size[1]} {kind}', FLAGS.seconds)
             for size in sizes for kind, cfg in kinds.items()}
  for _ in range(FLAGS.repeats):  # round-robin, so drifts in load hit every step alike
    for bench in benches.values():
      bench.time_once()
  results = []
  for size in sizes:
    rates = {kind: statistics.median(benches[size, kind].rates) for kind in kinds}
    results.append(dict(depth=size[0], width=size[1],
                        forward_mflops=benches[size, 'natural-cost'].forward_flops / 1e6
                        if 'natural-cost' in kinds else None,
                        images_per_sec=rates,
                        all_repeats={k: benches[size, k].rates for k in kinds},
                        study_hours=study_hours(rows, rates)))
  fitting = [r for r in results if r['study_hours'] <= FLAGS.budget_hours]
  chosen = max(fitting, key=lambda r: (r['forward_mflops'] or 0)) if fitting else None
  run.warn_if_busy()
  print(f'rows ({FLAGS.study}): ' + ', '.join(
      f'{name} ({step_kind(cfg)}, {cfg.train_steps} x {cfg.batch_size})' for name, cfg in rows.items()))
  print('| WRN | forward MFLOP/image | ' + ' | '.join(f'{k} images/s' for k in kinds) +
        ' | all rows, hours |')
  print('|---|---|' + '---|' * len(kinds) + '---|')
  for r in results:
    mark = ' (chosen)' if r is chosen else ''
    print(f'| {r["depth"]}-{r["width"]}{mark} | {r["forward_mflops"]:.0f} | ' +
          ' | '.join(f'{r["images_per_sec"][k]:.1f}' for k in kinds) +
          f' | {r["study_hours"]:.1f} |')
  run.save(FLAGS.output, {'study': FLAGS.study, 'budget_hours': FLAGS.budget_hours,
      'repeats': FLAGS.repeats,
      'rows': {name: dict(kind=step_kind(cfg), train_steps=cfg.train_steps,
                          batch_size=cfg.batch_size) for name, cfg in rows.items()},
      'results': results,
      'chosen': None if chosen is None else f'{chosen["depth"]}-{chosen["width"]}'})


if __name__ == '__main__':
  app.run(main)
