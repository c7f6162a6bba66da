"""Benchmarks refuse busy cores (or mark their output), so no shared-core figure passes as one."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bench import eval_batch_size
from bench import idle
from bench.step_breakdown import _keras_conv_twin
from conftest import REPO_ROOT
from conftest import needs_mnist
from madry_compat import build_model
from run_support import machine
from run_support.errors import UserError


def test_busy_cores_stop_a_benchmark_unless_allowed(monkeypatch, capsys):
  monkeypatch.setattr(idle.os, 'cpu_count', lambda: 2)
  monkeypatch.setattr(idle.os, 'getloadavg', lambda: (1.9, 1.5, 1.0))
  with pytest.raises(SystemExit) as exit_info:
    idle.require_idle_machine()
  assert 'load average is 1.90 on 2 cores' in str(exit_info.value)
  assert idle.require_idle_machine(allow_busy=True) is True   # marked as not a benchmark
  monkeypatch.setattr(idle.os, 'getloadavg', lambda: (0.1, 0.4, 1.0))
  assert idle.require_idle_machine() is False


def test_a_busy_run_records_that_it_is_no_benchmark(monkeypatch, capsys):
  monkeypatch.setattr(idle.os, 'cpu_count', lambda: 2)
  monkeypatch.setattr(idle.os, 'getloadavg', lambda: (1.9, 1.5, 1.0))
  run = idle.BenchRun(allow_busy=True)
  monkeypatch.setattr(idle.os, 'getloadavg', lambda: (0.2, 1.1, 1.0))
  record = run.record()
  assert record['benchmark'] is False
  assert record['load_average_at_start'] == [1.9, 1.5, 1.0]
  assert record['load_average_at_end'] == [0.2, 1.1, 1.0]
  assert record['machine'] == dict(machine.machine_record(), tensorflow=tf.__version__)
  run.warn_if_busy()
  assert 'NOT A BENCHMARK' in capsys.readouterr().out


def test_a_benchmarks_json_starts_with_its_run_record(monkeypatch, tmp_path):
  monkeypatch.setattr(idle.os, 'getloadavg', lambda: (0.1, 0.2, 0.3))
  run = idle.BenchRun()
  out = tmp_path / 'new_folder' / 'bench.json'
  run.save(str(out), {'results': [1, 2], 'repeats': 3})
  doc = json.loads(out.read_text())
  assert doc == {**run.record(), 'results': [1, 2], 'repeats': 3}
  assert doc['benchmark'] is True and doc['load_average_at_start'] == [0.1, 0.2, 0.3]


def test_madry_tf1_peer_computes_our_model_and_attacks_within_the_ball():
  """The TF1-graph peer (bench/madry_tf1.py) must be the same network as ours, or the
  speed comparison compares different work."""
  from bench.madry_tf1 import MadryMnistTF1  # pylint: disable=g-import-not-at-top
  from madry_compat.mnist_cnn import TF1_LAYER_ORDER  # pylint: disable=g-import-not-at-top
  model = build_model('mnist')
  peer = MadryMnistTF1()
  peer.set_weights([w for name in TF1_LAYER_ORDER for w in model.get_layer(name).get_weights()])
  rng = np.random.default_rng(0)
  x = rng.random((6, 28, 28, 1), np.float32)
  y = np.arange(6, dtype=np.int64)
  logits = peer.session.run(peer.logits, {peer.x_input: x.reshape(6, 784)})
  np.testing.assert_allclose(logits, model(x).numpy(), rtol=1e-4, atol=1e-4)
  assert peer.num_correct_on(x, y) == int(np.sum(model(x).numpy().argmax(1) == y))
  x_adv = peer.pgd(x, y, rng, steps=3)
  assert np.abs(x_adv - x).max() <= 0.3 + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1
  peer.adversarial_train_step(x, y, rng)  # runs and moves the weights
  assert not np.allclose(peer.session.run(peer.logits, {peer.x_input: x.reshape(6, 784)}), logits)



@pytest.mark.slow  # a benchmark driver (every verdict attack); pytest -m slow
@needs_mnist
def test_attack_seconds_times_every_verdict_attack(two_models, tfds_mnist_dir, tmp_path):
  out = tmp_path / 'seconds.json'
  natural = two_models['natural']
  result = subprocess.run(
      [sys.executable, '-m', 'bench.attack_seconds', f'--model_dirs={natural}',
       f'--source_dir={natural}', f'--data_dir={tfds_mnist_dir}', '--num_examples=4',
       '--repeats=2', '--allow_busy', f'--output={out}'],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  doc = json.loads(out.read_text())
  names = [r['attack'] for r in doc['results']]
  assert names == ['pgd40_xent', 'pgd40_cw', 'aa_apgd_ce', 'aa_apgd_t', 'aa_fab_t', 'aa_square',
                   'tr_mifgsm100_xent', 'tr_pgd100_one_restart_xent']
  assert all(len(r['all_repeats']) == 2 and 0 <= r['accuracy'] <= 1 for r in doc['results'])
  assert '| pgd40_xent |' in result.stdout


@pytest.mark.slow  # a benchmark driver (minutes of TF1-graph and attack jobs); pytest -m slow
@needs_mnist
def test_vs_madry_times_every_job_and_scores_bfloat16_attacks_in_float32(two_models,
                                                                         tfds_mnist_dir,
                                                                         tmp_path):
  out = tmp_path / 'vs_madry.json'
  result = subprocess.run(
      [sys.executable, '-m', 'bench.vs_madry', f'--model_dir={two_models["natural"]}',
       f'--data_dir={tfds_mnist_dir}', '--repeats=1', '--train_steps=1', '--adv_train_steps=1',
       '--eval_images=10', '--eval_batch_size=10', '--batch_sizes=10', '--nolibrary_peers',
       '--allow_busy', f'--output={out}'], cwd=REPO_ROOT, capture_output=True, text=True,
      timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  doc = json.loads(out.read_text())
  jobs = {r['label']: r for r in doc['results']}
  assert 'ours, PGD-40 adversarial training, bfloat16' in jobs
  for label in ('ours, PGD-40, final iterate, bfloat16 gradients',
                'ours, PGD-40, early stop, bfloat16 gradients'):
    assert 0 <= jobs[label]['robust_accuracy'] <= 1
  assert doc['benchmark'] is False or doc['load_average_at_start'][0] <= 0.5
  assert {r['peer'] for r in doc['ratios']} >= {"Madry's loop (TF1 graph), natural"}


@needs_mnist
def test_eval_batch_size_rates_each_batch_against_the_peer(two_models, tfds_mnist_dir, tmp_path):
  out = tmp_path / 'batch.json'
  result = subprocess.run(
      [sys.executable, '-m', 'bench.eval_batch_size', f'--model_dir={two_models["natural"]}',
       '--dataset=mnist', f'--data_dir={tfds_mnist_dir}', '--batch_sizes=20,200', '--steps=2',
       '--repeats=2', '--allow_busy', f'--output={out}'],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = {r['batch_size']: r for r in json.loads(out.read_text())['results']}
  assert rows[200]['vs_peer'] == 1.0 and rows[20]['passes_per_second'] > 0
  assert rows[20]['vs_peer'] == pytest.approx(
      rows[20]['passes_per_second'] / rows[200]['passes_per_second'])
  assert all(len(r['all_repeats']) == 2 for r in rows.values())
  for wrong in (['20', '100'], ['200', '0'], ['200', 'big']):  # no peer, not positive, not a number
    with pytest.raises(UserError, match='--batch_sizes must'):
      eval_batch_size.batch_sizes(wrong)


def test_step_breakdown_compares_the_same_network_with_keras_convs():
  ours = build_model('mnist')
  twin = _keras_conv_twin(ours)
  assert [type(l).__name__ for l in twin.layers if 'conv' in l.name] == ['Conv2D', 'Conv2D']
  assert [type(l).__name__ for l in ours.layers if 'conv' in l.name] == ['BiasAddConv2D'] * 2
  x = np.random.default_rng(0).random((4, 28, 28, 1), np.float32)
  np.testing.assert_allclose(twin(x).numpy(), ours(x).numpy(), rtol=1e-5, atol=1e-5)


def test_wrn_budget_counts_each_rows_images_at_its_step_kinds_speed(monkeypatch):
  from bench import wrn_budget  # pylint: disable=g-import-not-at-top
  from training.config import TrainConfig  # pylint: disable=g-import-not-at-top
  monkeypatch.chdir(REPO_ROOT)
  rows = wrn_budget.study_rows('configs/cifar10_subset')
  kinds = {name: wrn_budget.step_kind(cfg) for name, cfg in rows.items()}
  assert kinds['madry_adv_pgd7'] == 'PGD-7' and kinds['fast_fgsm_rs'] == 'PGD-1'
  assert kinds['alpha0.95_sigma20'] == kinds['natural'] == 'natural-cost'
  # By hand: two rows of 3,600 steps x 100 images, at 100 and 50 images/s: 1 h + 2 h.
  two = {'a': TrainConfig(train_steps=3600, batch_size=100),
         'b': TrainConfig(train_steps=3600, batch_size=100, adv_train=True, adv_steps=7)}
  assert wrn_budget.study_hours(two, {'natural-cost': 100.0, 'PGD-7': 50.0}) == pytest.approx(3.0)


def test_the_machine_record_names_the_cpu_and_its_speed_relevant_extensions(monkeypatch):
  lines = ['processor\t: 0', 'model name\t: AMD EPYC', 'flags\t\t: fpu sse avx avx2 fma',
           'processor\t: 1', 'model name\t: AMD EPYC', 'flags\t\t: fpu sse avx avx2 fma']
  monkeypatch.setattr(machine, '_cpuinfo_lines', lambda: lines)
  monkeypatch.setattr(machine.os, 'cpu_count', lambda: 2)
  machine.machine_record.cache_clear()
  try:
    record = machine.machine_record()
  finally:
    machine.machine_record.cache_clear()  # later tests see the real machine
  assert (record['cpu'], record['cpus'], record['simd']) == ('AMD EPYC', 2, ['avx2'])
  assert machine.machine_label(record) == 'AMD EPYC, 2 cores, avx2'
  assert machine.machine_label({'cpu': 'arm', 'cpus': 4, 'simd': []}) == 'arm, 4 cores'
