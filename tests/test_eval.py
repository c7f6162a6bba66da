"""eval.py end to end on real MNIST with two quickly trained models, resumption, bad input,
and the gradient-masking alarms."""

import json
import os

import numpy as np
import pytest

from attacks import AttackConfig
from conftest import needs_mnist
from conftest import run_main
import eval as eval_main
from evaluation.attack_spec import parse_attack
from evaluation.masking import masking_warnings
from evaluation.runner import AttackResult
from run_support.errors import RunFailure


def _results(out_dir):
  with open(os.path.join(out_dir, 'results.json')) as f:
    return json.load(f)


@needs_mnist
def test_whitebox_and_blackbox_end_to_end_and_resume(two_models, tfds_mnist_dir, tmp_path):
  out = str(tmp_path / 'eval')
  args = [f'--model_dir={two_models["ls"]}', f'--data_dir={tfds_mnist_dir}', '--num_examples=100',
          '--eval_batch_size=50', '--suite=paper_whitebox,paper_blackbox',
          f'--blackbox_source={two_models["natural"]}', f'--output_dir={out}',
          '--attacks=pgd10_cw_restarts:steps=10,loss=cw,restarts=3']
  run_main(eval_main, args)
  doc = _results(out)
  names = [a['name'] for a in doc['attacks']]
  assert names == ['clean', 'pgd40_xent', 'pgd40_cw', 'bb_fgsm_cw', 'bb_pgd40_xent', 'bb_pgd40_cw',
                   'pgd10_cw_restarts']
  assert doc['examples']['count'] == 100 and doc['clean_acc'] > 0.8
  by_name = {a['name']: a for a in doc['attacks']}
  assert by_name['bb_pgd40_xent']['threat'] == 'black-box'
  for entry in doc['attacks']:
    assert len(entry['correct']) == 100 and entry['sanity']['ok'] and entry['seconds'] >= 0
    assert entry['accuracy'] == pytest.approx(entry['correct'].count('1') / 100)
  assert by_name['pgd40_xent']['sanity']['max_linf'] <= 0.3 + 1e-6
  worst = doc['worst_case']
  assert worst['accuracy'] <= min(a['accuracy'] for a in doc['attacks'])
  assert worst['accuracy'] == pytest.approx(
      np.mean(np.logical_and.reduce([np.array(list(a['correct'])) == '1' for a in doc['attacks']])))
  assert 'zero_gradient_share' in doc and isinstance(doc['warnings'], list)
  assert '| pgd40_xent | white-box |' in open(os.path.join(out, 'results.md')).read()
  # Transfer from the natural model is weaker than white-box PGD on the target itself.
  assert by_name['bb_pgd40_cw']['accuracy'] >= by_name['pgd40_cw']['accuracy']

  # Rerun: every attack is reused, nothing recomputed.
  mtime_before = [a['seconds'] for a in doc['attacks']]
  run_main(eval_main, args)
  assert [a['seconds'] for a in _results(out)['attacks']] == mtime_before
  # Another attack on the same examples is added; earlier results are kept, not redone.
  run_main(eval_main, [a for a in args if not a.startswith(('--suite', '--attacks'))] +
              ['--suite=', '--attacks=extra_fgsm:steps=1,step=0.3,rand=false'])
  extended = _results(out)
  assert [a['name'] for a in extended['attacks']][:2] == ['clean', 'extra_fgsm']
  assert {a['name'] for a in extended['attacks']} == set(names) | {'extra_fgsm'}
  assert extended['worst_case']['accuracy'] <= worst['accuracy']
  # Another setup in the same output folder is refused, and the results stay.
  with pytest.raises(eval_main.UserError, match='another evaluation'):
    run_main(eval_main, [a.replace('--num_examples=100', '--num_examples=50') for a in args])
  assert _results(out)['examples']['count'] == 100


@needs_mnist
def test_natural_model_falls_to_zero_under_pgd(two_models, tfds_mnist_dir, tmp_path):
  out = str(tmp_path / 'eval')
  run_main(eval_main, [f'--model_dir={two_models["natural"]}', f'--data_dir={tfds_mnist_dir}',
                          '--num_examples=100', f'--output_dir={out}', '--suite=unbounded',
                          '--attacks=pgd40:steps=40'])
  by_name = {a['name']: a for a in _results(out)['attacks']}
  assert by_name['pgd40']['accuracy'] < 0.05
  assert by_name['unbounded_pgd200_step0.01_epsinf']['accuracy'] == 0.0


def test_attack_spec_defaults_follow_the_dataset():
  mnist = parse_attack('a:loss=cw,restarts=5', 'mnist', 50.0)
  assert (mnist.epsilon, mnist.step_size, mnist.steps, mnist.restarts) == (0.3, 0.01, 40, 5)
  cifar = parse_attack('b:eps=inf,rand=false,norm=l2', 'cifar10', 0.0)
  assert cifar.epsilon == float('inf') and not cifar.random_start and cifar.norm == 'l2'
  assert cifar.kappa == 0.0 and cifar.steps == 20


def _result(name, accuracy, threat='white-box', **config):
  base = dict(name=name, epsilon=0.3, step_size=0.01, steps=40, random_start=True, loss='xent')
  cfg = AttackConfig(**{**base, **config})
  correct = np.arange(100) < round(accuracy * 100)
  import dataclasses  # pylint: disable=g-import-not-at-top
  return AttackResult(name, threat, '', dataclasses.asdict(cfg), correct, 1.0, {'ok': True})


def test_masking_alarms():
  healthy = [_result('pgd40', 0.50), _result('pgd100', 0.48, steps=100),
             _result('fgsm', 0.70, steps=1, step_size=0.3, random_start=False),
             _result('bb', 0.80, threat='black-box')]
  assert masking_warnings(healthy, 0.0, data_range=1.0) == []
  masked = [_result('pgd40', 0.50), _result('pgd100', 0.60, steps=100),
            _result('fgsm', 0.30, steps=1, step_size=0.3, random_start=False),
            _result('bb', 0.20, threat='black-box'),
            _result('unbounded', 0.10, epsilon=float('inf'))]
  text = ' | '.join(masking_warnings(masked, 0.25, data_range=1.0))
  for expected in ('black-box bb', 'FGSM fgsm', 'more steps', 'unbounded unbounded',
                   'zero input gradient'):
    assert expected in text


@needs_mnist
def test_madry_checkpoint_as_blackbox_source_and_as_target(two_models, tfds_mnist_dir, tmp_path):
  import keras  # pylint: disable=g-import-not-at-top
  from madry_compat.checkpoint import save_madry_checkpoint  # pylint: disable=g-import-not-at-top
  natural = keras.models.load_model(os.path.join(two_models['natural'], 'model.keras'))
  madry_dir = tmp_path / 'models' / 'natural'
  save_madry_checkpoint(natural, str(madry_dir / 'checkpoint-99900'))
  out = str(tmp_path / 'bb')
  run_main(eval_main, [f'--model_dir={two_models["ls"]}', '--dataset=mnist',
                          f'--data_dir={tfds_mnist_dir}', '--num_examples=50',
                          '--blackbox_source=madry_ckpt', f'--madry_ckpt_dir={madry_dir}',
                          '--suite=paper_blackbox', f'--output_dir={out}'])
  attacks = _results(out)['attacks']
  assert [a['threat'] for a in attacks[1:]] == ['black-box'] * 3
  assert all(a['config']['source'] == str(madry_dir) for a in attacks[1:])
  target_out = str(tmp_path / 'target')
  run_main(eval_main, [f'--madry_ckpt_dir={madry_dir}', '--dataset=mnist',
                          f'--data_dir={tfds_mnist_dir}', '--num_examples=50', '--suite=',
                          '--attacks=pgd10:steps=10,step=0.05', f'--output_dir={target_out}'])
  doc = _results(target_out)
  assert doc['setup']['model_dir'] == str(madry_dir) and doc['clean_acc'] > 0.8
  assert doc['attacks'][1]['accuracy'] < 0.2
  # diagnose.py takes a Madry checkpoint folder beside train.py folders.
  import diagnose  # pylint: disable=g-import-not-at-top
  diag = tmp_path / 'diag'
  run_main(diagnose, [f'--model_dirs={madry_dir},{two_models["ls"]}', '--dataset=mnist',
                         f'--data_dir={tfds_mnist_dir}', '--num_examples=20',
                         '--landscape_examples=1', '--landscape_points=3', f'--output_dir={diag}'])
  labels = sorted(json.load(open(diag / 'diagnostics.json'))['models'])
  assert labels[1] == 'natural' and labels[0].startswith('ls (alpha 0.2')


@needs_mnist
def test_diagnose_end_to_end(two_models, tfds_mnist_dir, tmp_path):
  import diagnose  # pylint: disable=g-import-not-at-top
  out = tmp_path / 'diag'
  run_main(diagnose, [f'--model_dirs={two_models["natural"]},{two_models["ls"]}',
                         f'--data_dir={tfds_mnist_dir}', '--num_examples=60',
                         '--landscape_examples=2', '--landscape_points=5', f'--output_dir={out}'])
  doc = json.load(open(out / 'diagnostics.json'))
  assert len(doc['models']) == 2 and doc['epsilon'] == 0.3
  for model in doc['models'].values():
    assert len(model['per_example']['epsilon_L']) == 60
    assert 0 <= model['table1']['predicted_accuracy'] <= 1
    assert model['penultimate_neurons'] == 1024
  pngs = sorted(p.name for p in out.glob('*.png'))
  assert 'histograms.png' in pngs and 'penultimate_activity.png' in pngs and len(pngs) == 6
  assert all((out / p).stat().st_size > 10000 for p in pngs)


@needs_mnist
def test_a_crashing_attack_ends_in_one_line_and_keeps_finished_results(
    two_models, tfds_mnist_dir, tmp_path, monkeypatch):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from evaluation import evaluate as evaluate_module  # pylint: disable=g-import-not-at-top
  real = evaluate_module.attack_result

  def crash_on_second(target, crafting, config, *args, **kwargs):
    if config.name == 'second':
      raise tf.errors.InvalidArgumentError(None, None, 'input depth must be evenly divisible\nmore')
    return real(target, crafting, config, *args, **kwargs)

  monkeypatch.setattr(evaluate_module, 'attack_result', crash_on_second)
  out = str(tmp_path / 'eval')
  with pytest.raises(RunFailure) as failure:
    run_main(eval_main, [f'--model_dir={two_models["natural"]}', f'--data_dir={tfds_mnist_dir}',
                         '--num_examples=20', '--suite=', f'--output_dir={out}',
                         '--attacks=first:steps=2', '--attacks=second:steps=2'])
  message = str(failure.value)
  assert '\n' not in message and 'attack second' in message and 'InvalidArgumentError' in message
  assert [a['name'] for a in _results(out)['attacks']] == ['clean', 'first']


def test_run_failure_is_one_line_with_exit_code_1(capsys, monkeypatch):
  from absl import app  # pylint: disable=g-import-not-at-top
  from run_support import cli  # pylint: disable=g-import-not-at-top

  def main(argv):
    raise RunFailure('attack x failed: boom; the 2 finished result(s) are kept in out')

  monkeypatch.setattr(app, 'run', lambda fn, flags_parser: fn(['eval.py']))
  with pytest.raises(SystemExit) as exit_info:
    cli.run(main)
  assert exit_info.value.code == 1
  assert capsys.readouterr().err == ('eval.py: error: attack x failed: boom; the 2 finished '
                                     'result(s) are kept in out\n')
