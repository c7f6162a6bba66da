"""Benchmark: this project against Madry's own training and attack loops (TF1 graph mode,
bench/madry_tf1.py) and the library peers (cleverhans PGD, IBM ART's PGD and APGD), in
one process, round-robin, on an idle machine; FLOP utilisation against the fp32 and bf16
matmul peaks measured in the same run; and our PGD-40's throughput against the batch size.

  python -m bench.vs_madry --model_dir=models/mnist/alpha0.95_sigma0.3 \
      --manual_dir=../shared/data/mnist --repeats=3

Training runs on real MNIST training batches of 50 (Madry's); attacks on the first
--eval_images test images against the model in --model_dir (a partly robust one, so early
stopping has both kinds of points), each reporting its robust accuracy beside its speed.
Prints Markdown (paste into docs/benchmarks.md) and writes --output JSON.
"""

import dataclasses
import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import flags  # pylint: disable=g-import-not-at-top
import numpy as np
import tensorflow as tf

from attacks import APGDConfig
from attacks import PGDConfig
from attacks import make_attack
from bench.idle import BenchRun
from bench.idle import define_idle_flag
from bench.madry_tf1 import MadryMnistTF1
from bench.peaks import matmul_peak
from data_input import loader
from data_input.pipeline import to_model_scale
from data_input.specs import get_spec
from evaluation.accuracy import make_predict_fn
from evaluation.model_io import load_model_folder
from madry_compat import build_model
from madry_compat.checkpoint import precision_twin
from madry_compat.flops import forward_flops
from madry_compat.mnist_cnn import TF1_LAYER_ORDER
from run_support import cli
from run_support.errors import UserError
from training.config import TrainConfig
from training.step import make_train_step
from training.optimization import build_optimizer

FLAGS = flags.FLAGS
MNIST = get_spec('mnist')
PGD = MNIST.paper_attack  # eps 0.3, step 0.01, 40 steps


def define_flags():
  flags.DEFINE_string('model_dir', None, 'The model the attacks run on (partly robust).')
  flags.DEFINE_string('manual_dir', None, 'Raw MNIST files (as eval.py).')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (as eval.py).')
  flags.DEFINE_integer('repeats', 3, 'Timed repeats of every job, round-robin; medians reported.')
  flags.DEFINE_integer('train_steps', 100, 'Training steps per repeat (batch 50).')
  flags.DEFINE_integer('adv_train_steps', 8, 'PGD-40 adversarial training steps per repeat.')
  flags.DEFINE_integer('eval_images', 1000, 'First N test images for the attacks.')
  flags.DEFINE_integer('eval_batch_size', 200, 'Attack batch size (Madry: 200).')
  flags.DEFINE_list('batch_sizes', ['50', '100', '200', '500', '1000'],
                    'Batch sizes of our PGD-40 throughput curve.')
  flags.DEFINE_bool('library_peers', True, 'Also time cleverhans PGD and ART PGD / APGD '
                    '(pip install -e ".[bench]").')
  flags.DEFINE_string('output', 'bench/results/vs_madry.json', 'JSON results.')
  define_idle_flag()
  flags.mark_flag_as_required('model_dir')


class Job:
  """One timed workload: run() returns (images processed, robust count or None)."""

  def __init__(self, group, label, run, flops_per_image):
    self.group, self.label, self.run, self.flops_per_image = group, label, run, flops_per_image
    self.rates, self.robust = [], None

  def time_once(self):
    start = time.perf_counter()
    images, robust = self.run()
    self.rates.append(images / (time.perf_counter() - start))
    self.robust = robust


def _our_train_job(label, batches, **overrides):
  cfg = TrainConfig(dataset='mnist', model_dir='unused', **overrides).resolved()
  model = build_model('mnist', cfg.depth, cfg.width, cfg.weight_decay, MNIST.num_classes,
                      cfg.precision)
  optimizer = build_optimizer(cfg)
  optimizer.build(model.trainable_variables)
  step = make_train_step(model, optimizer, MNIST, cfg)
  steps = FLAGS.adv_train_steps if cfg.adv_train else FLAGS.train_steps
  f = forward_flops(model)

  def run():
    for i in range(steps):
      out = step(*batches[i % len(batches)])
    float(out['total_loss'])
    return steps * cfg.batch_size, None
  run()  # trace and warm up
  per_image = 3 * f + (2 * f * cfg.adv_steps if cfg.adv_train else 0)
  return Job('training', label, run, per_image)


def _madry_train_run(batches, adversarial):
  peer = MadryMnistTF1()
  rng = np.random.default_rng(0)
  steps = FLAGS.adv_train_steps if adversarial else FLAGS.train_steps
  numpy_batches = [(x.numpy(), y.numpy()) for x, y in batches]

  def run():
    for i in range(steps):
      x, y = numpy_batches[i % len(numpy_batches)]
      if adversarial:
        peer.adversarial_train_step(x, y, rng)
      else:
        peer.train_step(x, y)
    return steps * len(numpy_batches[0][1]), None
  run()
  return run


def _attack_batches(x, y, size):
  return [(x[i:i + size], y[i:i + size]) for i in range(0, len(y), size)]


def _our_attack_job(label, model, config, x, y, batch_size, flops):
  """Our attack of `config`, its gradients from `model` in config.precision (bfloat16: a
  copy with the same weights), every x_adv scored on the float32 `model`."""
  precision = getattr(config, 'precision', 'float32')  # PGD's; the other attacks are float32
  crafting = model if precision == 'float32' else precision_twin(model, 'mnist', precision)
  predict = make_predict_fn(model)
  attack = make_attack(crafting, config, (0.0, 1.0), float32_predict=predict)
  batches = [(tf.constant(a), tf.constant(b)) for a, b in _attack_batches(x, y, batch_size)]

  def run():
    robust = 0
    for i, (xb, yb) in enumerate(batches):
      x_adv, _ = attack(xb, yb, seed=i)
      robust += int(np.sum(predict(x_adv).numpy() == yb.numpy()))
    return len(y), robust
  for xb, yb in {tuple(b[0].shape): b for b in batches}.values():  # trace each batch shape
    predict(attack(xb, yb)[0])
  return Job('attack', label, run, flops)


def _library_jobs(model, x, y, f):
  """cleverhans PGD-40 (in tf.function), ART's PGD-40 and APGD-CE on the same model."""
  from cleverhans.tf2.attacks.projected_gradient_descent import projected_gradient_descent  # pylint: disable=g-import-not-at-top
  try:
    from art.attacks.evasion import AutoProjectedGradientDescent  # pylint: disable=g-import-not-at-top
    from art.attacks.evasion import ProjectedGradientDescent  # pylint: disable=g-import-not-at-top
    from art.estimators.classification import TensorFlowV2Classifier  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise UserError('--library_peers needs IBM ART: pip install -e ".[bench]" '
                    '(or pass --nolibrary_peers)') from None
  predict = make_predict_fn(model)
  size = FLAGS.eval_batch_size

  @tf.function
  def cleverhans_pgd(xb, yb):
    return projected_gradient_descent(model, xb, PGD.epsilon, PGD.step_size, PGD.steps, np.inf,
                                      clip_min=0.0, clip_max=1.0, y=yb, rand_init=True,
                                      sanity_checks=False)

  def cleverhans_run():
    robust = 0
    for xb, yb in _attack_batches(x, y, size):
      x_adv = cleverhans_pgd(tf.constant(xb), tf.constant(yb))
      robust += int(np.sum(predict(x_adv).numpy() == yb))
    return len(y), robust
  cleverhans_pgd(tf.constant(x[:size]), tf.constant(y[:size]))  # trace
  classifier = TensorFlowV2Classifier(
      model, nb_classes=10, input_shape=MNIST.image_shape, clip_values=(0.0, 1.0),
      loss_object=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  art_pgd = ProjectedGradientDescent(classifier, eps=PGD.epsilon, eps_step=PGD.step_size,
                                     max_iter=PGD.steps, num_random_init=1, batch_size=size,
                                     verbose=False)
  art_apgd = AutoProjectedGradientDescent(classifier, eps=PGD.epsilon, eps_step=2 * PGD.epsilon,
                                          max_iter=100, nb_random_init=1, batch_size=size,
                                          loss_type='cross_entropy', verbose=False)

  def art_run(attack):
    def run():
      x_adv = attack.generate(x, y)
      return len(y), int(np.sum(classifier.predict(x_adv).argmax(1) == y))
    return run
  return [Job('attack', 'cleverhans PGD-40 (tf.function)', cleverhans_run, (2 * PGD.steps + 1) * f),
          Job('attack', 'ART ProjectedGradientDescent, PGD-40', art_run(art_pgd),
              (2 * PGD.steps + 1) * f),
          Job('attack', 'ART AutoProjectedGradientDescent, APGD-CE 100 iterations, 1 start',
              art_run(art_apgd), 101 * 2 * f)]


def _jobs(train, x, y, model):
  f = forward_flops(model)
  batches = [(tf.constant(to_model_scale(train.images[i:i + 50], MNIST)),
              tf.constant(train.labels[i:i + 50])) for i in range(0, 50 * 20, 50)]
  jobs = [_our_train_job('ours, natural, fp32', batches),
          _our_train_job('ours, natural, bfloat16', batches, precision='bfloat16')]
  jobs.append(Job('training', "Madry's loop (TF1 graph), natural",
                  _madry_train_run(batches, adversarial=False), 3 * f))
  jobs.append(_our_train_job('ours, PGD-40 adversarial training', batches, adv_train=True))
  jobs.append(_our_train_job('ours, PGD-40 adversarial training, bfloat16', batches,
                             adv_train=True, precision='bfloat16'))
  jobs.append(Job('training', "Madry's loop (TF1 graph), PGD-40 adversarial training",
                  _madry_train_run(batches, adversarial=True), (2 * PGD.steps + 3) * f))
  pgd = PGDConfig(name='pgd40_xent', epsilon=PGD.epsilon, step_size=PGD.step_size,
                  steps=PGD.steps)
  pgd_flops = (2 * PGD.steps + 1) * f
  size = FLAGS.eval_batch_size
  jobs.append(_our_attack_job('ours, PGD-40, final iterate (paper protocol)', model, pgd, x, y,
                              size, pgd_flops))
  jobs.append(_our_attack_job('ours, PGD-40, early stop', model,  # less work: no nominal FLOPs
                              dataclasses.replace(pgd, early_stop=True), x, y, size, None))
  bf16 = dataclasses.replace(pgd, precision='bfloat16')
  jobs.append(_our_attack_job('ours, PGD-40, final iterate, bfloat16 gradients', model, bf16,
                              x, y, size, pgd_flops))
  jobs.append(_our_attack_job('ours, PGD-40, early stop, bfloat16 gradients', model,
                              dataclasses.replace(bf16, early_stop=True), x, y, size, None))
  peer = MadryMnistTF1()
  peer.set_weights([w for name in TF1_LAYER_ORDER for w in model.get_layer(name).get_weights()])
  rng = np.random.default_rng(0)

  def madry_pgd():
    robust = 0
    for xb, yb in _attack_batches(x, y, size):
      robust += peer.num_correct_on(peer.pgd(xb, yb, rng), yb)
    return len(y), robust
  jobs.append(Job('attack', "Madry's pgd_attack loop (TF1 graph), PGD-40", madry_pgd, pgd_flops))
  jobs.append(_our_attack_job('ours, APGD-CE 100 iterations', model,
                              APGDConfig(name='apgd_ce', epsilon=PGD.epsilon), x, y, size,
                              101 * 2 * f))
  if FLAGS.library_peers:
    jobs += _library_jobs(model, x, y, f)
  for batch_size in sorted({int(b) for b in FLAGS.batch_sizes}):
    jobs.append(_our_attack_job(f'ours, PGD-40 final iterate, batch {batch_size}', model, pgd,
                                x, y, batch_size, pgd_flops))
    jobs[-1].group = 'batch size'
  return jobs


def _ratios(results):
  rate = {r['label']: r['images_per_sec'] for r in results}
  pairs = [('ours, natural, fp32', "Madry's loop (TF1 graph), natural"),
           ('ours, natural, bfloat16', "Madry's loop (TF1 graph), natural"),
           ('ours, PGD-40 adversarial training',
            "Madry's loop (TF1 graph), PGD-40 adversarial training"),
           ('ours, PGD-40 adversarial training, bfloat16',
            "Madry's loop (TF1 graph), PGD-40 adversarial training"),
           ('ours, PGD-40, final iterate (paper protocol)',
            "Madry's pgd_attack loop (TF1 graph), PGD-40"),
           ('ours, PGD-40, early stop', "Madry's pgd_attack loop (TF1 graph), PGD-40"),
           ('ours, PGD-40, final iterate, bfloat16 gradients',
            "Madry's pgd_attack loop (TF1 graph), PGD-40"),
           ('ours, PGD-40, early stop, bfloat16 gradients',
            "Madry's pgd_attack loop (TF1 graph), PGD-40"),
           ('ours, PGD-40, final iterate (paper protocol)', 'cleverhans PGD-40 (tf.function)'),
           ('ours, PGD-40, final iterate (paper protocol)', 'ART ProjectedGradientDescent, PGD-40'),
           ('ours, APGD-CE 100 iterations',
            'ART AutoProjectedGradientDescent, APGD-CE 100 iterations, 1 start')]
  return [{'ours': a, 'peer': b, 'ratio': rate[a] / rate[b]} for a, b in pairs
          if a in rate and b in rate]


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments: {" ".join(argv[1:])}')
  run = BenchRun(FLAGS.allow_busy)
  loaded = load_model_folder(FLAGS.model_dir, 'mnist', '--model_dir')
  train = loader.load_split('mnist', 'train', FLAGS.data_dir, FLAGS.manual_dir)
  test = loader.load_split('mnist', 'test', FLAGS.data_dir, FLAGS.manual_dir)
  x = to_model_scale(test.images[:FLAGS.eval_images], MNIST).astype(np.float32)
  y = test.labels[:FLAGS.eval_images].astype(np.int64)
  peak, peak_runs = matmul_peak()
  bf16_peak, bf16_runs = matmul_peak(dtype=tf.bfloat16)
  jobs = _jobs(train, x, y, loaded.model)
  for _ in range(FLAGS.repeats):  # round-robin: a drift in machine load hits every job
    for job in jobs:
      job.time_once()
  results = []
  for job in jobs:
    rate = statistics.median(job.rates)
    gflops = None if job.flops_per_image is None else rate * job.flops_per_image / 1e9
    results.append({'group': job.group, 'label': job.label, 'images_per_sec': rate,
                    'all_repeats': job.rates, 'robust_accuracy':
                    None if job.robust is None else job.robust / len(y),
                    'nominal_gflops_per_sec': gflops,
                    'of_fp32_peak': gflops and gflops / peak,
                    'of_bf16_peak': gflops and gflops / bf16_peak})
  ratios = _ratios(results)
  run.warn_if_busy()
  print(f'matmul peaks: fp32 {peak:.1f}, bf16 {bf16_peak:.1f} GFLOP/s (medians)')
  print('| group | job | images/s (median) | robust accuracy | nominal GFLOP/s | of fp32 / bf16 peak | all repeats |')
  print('|---|---|---|---|---|---|---|')
  for r in results:
    robust = '-' if r['robust_accuracy'] is None else f'{r["robust_accuracy"]:.1%}'
    flops = ('-' if r['nominal_gflops_per_sec'] is None else
             f'{r["nominal_gflops_per_sec"]:.1f} | {r["of_fp32_peak"]:.0%} / {r["of_bf16_peak"]:.0%}')
    print(f'| {r["group"]} | {r["label"]} | {r["images_per_sec"]:.1f} | {robust} | {flops} | '
          f'{", ".join(f"{v:.1f}" for v in r["all_repeats"])} |')
  print('\n| ours | peer | speed ratio |\n|---|---|---|')
  for r in ratios:
    print(f'| {r["ours"]} | {r["peer"]} | {r["ratio"]:.2f}x |')
  run.save(FLAGS.output, {'model': loaded.state(), 'eval_images': FLAGS.eval_images, 'repeats': FLAGS.repeats,
      'matmul_peak_gflops': {'fp32': peak, 'bf16': bf16_peak, 'fp32_runs': peak_runs,
                             'bf16_runs': bf16_runs},
      'results': results, 'ratios': ratios})


if __name__ == '__main__':
  define_flags()
  cli.run(main)
