"""Expected training time of flagfile rows on a GPU, from their FLOPs: an estimate for users
with GPUs, never a measurement (this project has run none of it on a GPU).

FLOPs are counted analytically (madry_compat/flops.py: 2 x multiply-adds of every
convolution and dense layer for one image's forward pass, F). A training step costs 3F per
image, plus 2F per attack step with adversarial training (bench/step_timing.py's model,
which the CPU benchmarks check against measured speed). Time = FLOPs / (peak x
utilization); the defaults are an A100's dense TF32 peak (156 TFLOP/s; TensorFlow uses
TF32 for float32 matmuls and convolutions on Ampere by default) at 40% utilization, a
typical share for a WideResNet step (this CPU reaches 55-66% of its fp32 matmul peak:
docs/benchmarks.md).

  python -m experiments.gpu_estimate --flagfiles=configs/paper/cifar10_*.cfg \
      --gpu_tflops=156 --utilization=0.4
"""

import glob
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top

from run_support import cli
from run_support.atomic_io import write_json_atomic
from run_support.errors import UserError

FLAGS = flags.FLAGS


def define_flags():
  flags.DEFINE_list('flagfiles', None, 'train.py flagfiles (globs allowed), one row each.')
  flags.DEFINE_float('gpu_tflops', 156.0, 'The GPU\'s peak TFLOP/s in the precision that '
                     'trains (A100: 156 TF32, 312 bf16; H100 SXM: 495 TF32, 989 bf16).')
  flags.DEFINE_float('utilization', 0.4, 'The share of that peak a training step sustains.')
  flags.DEFINE_string('output', None, 'Also write the rows and the assumptions as JSON here.')
  # --flagfiles is checked in main, not marked required: reading each flagfile re-parses
  # the flags (train.config_from_flagfile), and a required flag would fail there.


def flops_per_image_step(forward_flops, cfg):
  """One training image's FLOPs in one step: 3F, plus 2F per attack step."""
  return forward_flops * (3 + (2 * cfg.adv_steps if cfg.adv_train else 0))


def estimate_rows(paths, gpu_tflops, utilization):
  """[{row, steps, batch, forward_gflops, total_pflops, hours}] of each flagfile's run."""
  import train  # pylint: disable=g-import-not-at-top
  from madry_compat import build_model  # pylint: disable=g-import-not-at-top
  from madry_compat.flops import forward_flops  # pylint: disable=g-import-not-at-top
  from data_input.specs import get_spec  # pylint: disable=g-import-not-at-top
  forward = {}
  rows = []
  for path in paths:
    cfg = train.config_from_flagfile(path)
    key = (cfg.dataset, cfg.depth, cfg.width)
    if key not in forward:
      spec = get_spec(cfg.dataset)
      forward[key] = forward_flops(build_model(cfg.dataset, cfg.depth, cfg.width,
                                               cfg.weight_decay, spec.num_classes))
    total = cfg.train_steps * cfg.batch_size * flops_per_image_step(forward[key], cfg)
    rows.append({'row': os.path.basename(path)[:-len('.cfg')], 'steps': cfg.train_steps,
                 'batch_size': cfg.batch_size, 'forward_gflops': forward[key] / 1e9,
                 'total_pflops': total / 1e15,
                 'hours': total / (gpu_tflops * 1e12 * utilization) / 3600})
  return rows


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not FLAGS.flagfiles:
    raise UserError('give --flagfiles=PATH[,PATH...]')
  if not 0 < FLAGS.utilization <= 1 or FLAGS.gpu_tflops <= 0:
    raise UserError('--gpu_tflops must be > 0 and --utilization in (0, 1]')
  paths = []
  for pattern in FLAGS.flagfiles:
    found = sorted(glob.glob(pattern))
    if not found:
      raise UserError(f'--flagfiles: nothing matches {pattern}')
    paths += found
  rows = estimate_rows(paths, FLAGS.gpu_tflops, FLAGS.utilization)
  print(f'ESTIMATE, not a measurement: {FLAGS.gpu_tflops:g} TFLOP/s peak at '
        f'{FLAGS.utilization:.0%} utilization (training only; evaluation adds little)')
  print('| row | steps x batch | forward GFLOP/image | training PFLOP | expected hours |')
  print('|---|---|---|---|---|')
  for r in rows:
    print(f'| {r["row"]} | {r["steps"]:,} x {r["batch_size"]} | {r["forward_gflops"]:.2f} | '
          f'{r["total_pflops"]:,.0f} | {r["hours"]:.1f} |')
  print(f'| all {len(rows)} rows | | | {sum(r["total_pflops"] for r in rows):,.0f} | '
        f'{sum(r["hours"] for r in rows):.1f} |')
  if FLAGS.output:
    write_json_atomic(FLAGS.output, {
        'estimate': 'FLOPs / (peak x utilization); not a measurement, never run on a GPU here',
        'gpu_tflops': FLAGS.gpu_tflops, 'utilization': FLAGS.utilization, 'rows': rows,
        'total_hours': sum(r['hours'] for r in rows)})


if __name__ == '__main__':
  define_flags()
  cli.run(main)
