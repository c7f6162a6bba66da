"""eval.py end to end on real MNIST with two quickly trained models, resumption, bad input,
and the gradient-masking alarms."""

import json
import os

import numpy as np
import pytest

from attacks import APGDConfig
from attacks import APGDTConfig
from attacks import PGDConfig
from attacks import config_record
from data_input.specs import get_spec
from conftest import MNIST_DIR
from conftest import needs_mnist
from conftest import run_main
from conftest import two_models_data
import eval as eval_main
from evaluation.attack_spec import parse_attack
from evaluation.masking import masking_warnings
from evaluation.runner import AttackResult
from run_support.errors import RunFailure
from run_support.machine import machine_label
from run_support.machine import machine_record


def _strict_json(text):
  """Parses JSON as the standard defines it: no Infinity or NaN (Python writes them)."""
  def refuse(constant):
    raise ValueError(f'{constant} is not JSON')
  return json.loads(text, parse_constant=refuse)


def _results(out_dir):
  with open(os.path.join(out_dir, 'results.json')) as f:
    return _strict_json(f.read())


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
    assert entry['machine'] == machine_record()  # where its seconds were measured
  assert by_name['pgd40_xent']['sanity']['max_linf'] <= 0.3 + 1e-6
  assert doc['complete'] is True and doc['model']['global_step'] == 150
  assert len(doc['model']['weights_sha256']) == 64
  cases = {(c['threat'], c['epsilon']): c for c in doc['worst_case']}
  assert set(cases) == {('white-box', 0.3), ('black-box', 0.3),
                        ('any (white-box, black-box, AutoAttack)', 0.3)}
  bits = lambda names: np.logical_and.reduce(
      [np.array(list(by_name[n]['correct'])) == '1' for n in ['clean', *names]])
  white = ['pgd40_xent', 'pgd40_cw', 'pgd10_cw_restarts']
  black = ['bb_fgsm_cw', 'bb_pgd40_xent', 'bb_pgd40_cw']
  assert cases[('white-box', 0.3)]['accuracy'] == pytest.approx(np.mean(bits(white)))
  assert cases[('black-box', 0.3)]['accuracy'] == pytest.approx(np.mean(bits(black)))
  worst = cases[('any (white-box, black-box, AutoAttack)', 0.3)]
  assert worst['accuracy'] == pytest.approx(np.mean(bits(white + black)))
  assert 'zero_gradient_share' in doc and isinstance(doc['warnings'], list)
  markdown = open(os.path.join(out, 'results.md')).read()
  assert '| pgd40_xent | white-box |' in markdown
  assert f'- seconds measured on {machine_label(machine_record())}: clean, ' in markdown
  # Transfer from the natural model is weaker than white-box PGD on the target itself.
  assert by_name['bb_pgd40_cw']['accuracy'] >= by_name['pgd40_cw']['accuracy']

  # Rerun, in full or asking for part: every attack is reused, nothing recomputed, and the
  # stored files stay byte for byte (order, and the runs that measured them).
  stored = {name: open(os.path.join(out, name), 'rb').read() for name in ('results.json', 'results.md')}
  run_main(eval_main, args)
  run_main(eval_main, [a.replace('paper_whitebox,paper_blackbox', 'paper_whitebox') for a in args
                       if not a.startswith(('--attacks', '--blackbox'))])
  assert {name: open(os.path.join(out, name), 'rb').read() for name in stored} == stored
  # Another attack on the same examples is added; earlier results are kept, not redone.
  run_main(eval_main, [a for a in args if not a.startswith(('--suite', '--attacks', '--blackbox'))]
           + ['--suite=', '--attacks=extra_fgsm:steps=1,step=0.3,rand=false'])
  extended = _results(out)
  assert [a['name'] for a in extended['attacks']][:2] == ['clean', 'extra_fgsm']
  assert {a['name'] for a in extended['attacks']} == set(names) | {'extra_fgsm'}
  # Each run that measured something keeps its own settings: the first run's source and
  # suites still describe the attacks it measured, the last run's only its extra attack.
  first, *_, last = extended['runs']
  assert first['measured'] == names and last['measured'] == ['extra_fgsm']
  assert first['settings']['blackbox_source'] == two_models['natural']
  assert last['settings']['blackbox_source'] is None and last['settings']['suites'] == []
  assert extended['worst_case'][-1]['accuracy'] <= worst['accuracy']
  # Another setup in the same output folder is refused, and the results stay.
  with pytest.raises(eval_main.UserError, match='another evaluation'):
    run_main(eval_main, [a.replace('--num_examples=100', '--num_examples=50') for a in args])
  assert _results(out)['examples']['count'] == 100


def test_natural_model_falls_to_zero_under_pgd(two_models, tfds_mnist_dir, tmp_path):
  out = str(tmp_path / 'eval')
  run_main(eval_main, [f'--model_dir={two_models["natural"]}', f'--data_dir={tfds_mnist_dir}',
                          '--num_examples=25', f'--output_dir={out}', '--suite=unbounded',
                          '--attacks=pgd40:steps=40'])
  by_name = {a['name']: a for a in _results(out)['attacks']}
  assert by_name['pgd40']['accuracy'] < 0.05
  assert by_name['unbounded_pgd200_step0.008_eps1']['accuracy'] == 0.0


def test_attack_spec_defaults_follow_the_dataset():
  mnist = parse_attack('a:loss=cw,restarts=5', get_spec('mnist'), 50.0)
  c = mnist.config
  assert (c.epsilon, c.step_size, c.steps, c.restarts, mnist.threat) == (0.3, 0.01, 40, 5, 'white-box')
  cifar = parse_attack('b:eps=inf,rand=false,norm=l2', get_spec('cifar10'), 0.0)
  c = cifar.config
  assert c.epsilon == float('inf') and not c.random_start and c.norm == 'l2'
  assert c.kappa == 0.0 and c.steps == 20 and cifar.threat == 'sanity'  # unbounded


@pytest.mark.parametrize('text,words', [
    ('x:loss=dlr', "PGD optimizes one of ('xent', 'cw'), got loss='dlr'"),
    ('x:method=apgd,loss=cw', "APGD optimizes one of ('xent', 'dlr'), got loss='cw'"),
    ('x:method=apgd,targets=9,loss=xent', 'targets does not apply to method apgd'),
    ('x:method=apgd_t,loss=xent', 'loss does not apply to method apgd_t'),
    ('x:method=square,loss=xent', 'loss does not apply to method square'),
    ('x:method=square,restarts=2', 'restarts does not apply to method square'),
    ('x:method=apgd,kappa=0', 'kappa does not apply to method apgd'),
    ('x:method=fgsm,steps=3', 'steps does not apply to method fgsm'),
    ('x:target=least', "target must be one of ('none', 'next', 'random')"),
    ('x:method=pgd,restarts=0', 'restarts must be a whole number >= 1'),
    ('x:threat=grey-box', 'threat must be white-box or black-box'),
    ('x:method=apgd,eps=inf', 'apgd needs a finite epsilon'),
])
def test_an_option_that_does_not_apply_is_an_error_not_a_substitution(text, words):
  with pytest.raises(eval_main.UserError) as error:
    parse_attack(text, get_spec('mnist'))
  assert words in str(error.value) and '\n' not in str(error.value)


def test_results_record_the_loss_each_method_optimizes():
  spec = get_spec('mnist')
  optimized = {text: config_record(parse_attack(text, spec).config)['loss_optimized']
               for text in ('a:loss=cw', 'b:target=next', 'c:method=apgd', 'd:method=apgd,loss=dlr',
                            'e:method=apgd_t', 'f:method=square', 'g:method=fgsm,loss=cw,kappa=0')}
  assert optimized == {'a:loss=cw': 'cw (kappa 50)', 'b:target=next': 'xent, targeted (next)',
                       'c:method=apgd': 'xent', 'd:method=apgd,loss=dlr': 'dlr',
                       'e:method=apgd_t': 'dlr_targeted', 'f:method=square': 'margin',
                       'g:method=fgsm,loss=cw,kappa=0': 'cw (kappa 0)'}
  assert parse_attack('h:method=apgd,restarts=5', spec).config.restarts == 5
  assert parse_attack('i:threat=black-box', spec).threat == 'black-box'


def _result(name, accuracy, threat='white-box', **config):
  base = dict(name=name, epsilon=0.3, step_size=0.01, steps=40, random_start=True, loss='xent')
  cfg = PGDConfig(**{**base, **config})
  correct = np.arange(100) < round(accuracy * 100)
  return AttackResult(name, threat, None, '', config_record(cfg), correct, 1.0, {'ok': True})


def test_masking_alarms():
  healthy = [_result('pgd40', 0.50), _result('pgd100', 0.48, steps=100),
             _result('fgsm', 0.70, steps=1, step_size=0.3, random_start=False),
             _result('bb', 0.80, threat='black-box')]
  assert masking_warnings(healthy, 0.0, data_range=1.0) == []
  masked = [_result('pgd40', 0.50), _result('pgd100', 0.60, steps=100),
            _result('fgsm', 0.30, steps=1, step_size=0.3, random_start=False),
            _result('bb', 0.20, threat='black-box'),
            _result('unbounded', 0.10, threat='sanity', epsilon=float('inf'))]
  text = ' | '.join(masking_warnings(masked, 0.25, data_range=1.0))
  for expected in ('black-box bb', 'FGSM fgsm', 'more steps', 'unbounded unbounded',
                   'zero input gradient'):
    assert expected in text
  # Two transfer attacks, each weaker than white-box alone, together break more per example.
  first, second = _result('bb1', 0.55, threat='black-box'), _result('bb2', 0.55, threat='black-box')
  second.correct = second.correct[::-1]  # correct on the last 55 instead of the first 55
  together = masking_warnings([_result('pgd40', 0.50), first, second], 0.0, data_range=1.0)
  assert len(together) == 1 and 'best transfer per example (10.00%' in together[0]
  # APGD far below PGD of the same budget (the label-smoothing signature); a few points is normal.
  apgd = lambda accuracy: AttackResult('aa_apgd_ce', 'white-box', 'autoattack', '',
                                       config_record(APGDConfig(name='aa_apgd_ce', epsilon=0.3)),
                                       np.arange(100) < round(accuracy * 100), 1.0, {'ok': True})
  assert masking_warnings([_result('pgd40', 0.43), apgd(0.40)], 0.0, data_range=1.0) == []
  overstated = masking_warnings([_result('pgd40', 0.43), apgd(0.014)], 0.0, data_range=1.0)
  assert len(overstated) == 1 and 'overstates robustness' in overstated[0]
  # CIFAR's paper suite has FGSM beside AutoAttack, whose APGD-T optimizes no named loss: FGSM
  # is held against the PGDs only.
  apgd_t = AttackResult('aa_apgd_t', 'white-box', 'autoattack', '',
                        config_record(APGDTConfig(name='aa_apgd_t', epsilon=0.3)),
                        np.arange(100) < 40, 1.0, {'ok': True})
  fgsm = _result('fgsm', 0.45, steps=1, step_size=0.3, random_start=False)
  assert masking_warnings([_result('pgd40', 0.50), fgsm, apgd_t], 0.0, data_range=1.0) == [
      'FGSM fgsm (45.00%) beats PGD pgd40 (50.00%): the iterative attack is failing']


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
  sources = [a['config']['source'] for a in attacks[1:]]
  assert all(s['path'] == str(madry_dir) and s['kind'] == 'madry_tf1' for s in sources)
  # The same weights at another path (a clone elsewhere) are the same model: reused.
  import shutil  # pylint: disable=g-import-not-at-top
  moved = tmp_path / 'elsewhere' / 'ls'
  shutil.copytree(two_models['ls'], moved)
  shutil.copytree(out, tmp_path / 'bb_moved')
  run_main(eval_main, [f'--model_dir={moved}', '--dataset=mnist',
                       f'--data_dir={tfds_mnist_dir}', '--num_examples=50',
                       '--blackbox_source=madry_ckpt', f'--madry_ckpt_dir={madry_dir}',
                       '--suite=paper_blackbox', f'--output_dir={tmp_path / "bb_moved"}'])
  assert [a['seconds'] for a in _results(str(tmp_path / 'bb_moved'))['attacks']] == \
      [a['seconds'] for a in attacks]
  target_out = str(tmp_path / 'target')
  run_main(eval_main, [f'--madry_ckpt_dir={madry_dir}', '--dataset=mnist',
                          f'--data_dir={tfds_mnist_dir}', '--num_examples=50', '--suite=',
                          '--attacks=pgd10:steps=10,step=0.05', f'--output_dir={target_out}'])
  doc = _results(target_out)
  assert doc['model']['path'] == str(madry_dir) and doc['clean_acc'] > 0.8
  assert doc['attacks'][1]['accuracy'] < 0.2
  # diagnose.py takes a Madry checkpoint folder beside train.py folders.
  import diagnose  # pylint: disable=g-import-not-at-top
  diag = tmp_path / 'diag'
  run_main(diagnose, [f'--model_dirs={madry_dir},{two_models["ls"]}', '--dataset=mnist',
                         f'--data_dir={tfds_mnist_dir}', '--num_examples=20',
                         '--landscape_examples=1', '--landscape_points=3', f'--output_dir={diag}'])
  labels = sorted(json.load(open(diag / 'diagnostics.json'))['models'])
  assert labels[1] == 'natural' and labels[0].startswith('ls (alpha 0.2')


def test_no_attack_reports_clean_accuracy(two_models, tfds_mnist_dir, tmp_path, capsys):
  out = str(tmp_path / 'clean')
  run_main(eval_main, [f'--model_dir={two_models["natural"]}', f'--data_dir={tfds_mnist_dir}',
                       '--num_examples=50', '--suite=', f'--output_dir={out}'])
  doc = _results(out)
  assert [a['name'] for a in doc['attacks']] == ['clean'] and doc['complete']
  assert doc['clean_acc'] == doc['attacks'][0]['correct'].count('1') / 50 > 0.8
  assert '| clean | clean |' in capsys.readouterr().out


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
    # The correct-only medians are the medians of the correctly classified images' values.
    examples = model['per_example']
    assert sum(examples['correct']) / 60 == pytest.approx(model['clean_accuracy'])
    gaps = [g for g, c in zip(examples['logit_gap'], examples['correct']) if c]
    assert model['summary_correct']['logit_gap']['median'] == pytest.approx(np.median(gaps), abs=1e-5)
    assert min(gaps) >= 0  # a correctly classified image's true logit is the largest
  pngs = sorted(p.name for p in out.glob('*.png'))
  assert {'histograms.png', 'penultimate_activity.png', 'logit_activity.png',
          'inactive_by_threshold.png'} <= set(pngs) and len(pngs) == 8  # + 2 x 2 landscapes
  assert all((out / p).stat().st_size > 10000 for p in pngs)


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
  doc = _results(out)
  assert [a['name'] for a in doc['attacks']] == ['clean', 'first'] and doc['complete'] is False


def test_an_attack_cut_off_midway_resumes_at_its_first_missing_batch(
    two_models, tfds_mnist_dir, tmp_path, monkeypatch):
  """Killed in its third batch of five, a rerun attacks only batches 3 to 5 and records what
  an uninterrupted run does; the batches of another setting are never reused."""
  from evaluation import runner  # pylint: disable=g-import-not-at-top
  real, calls = runner.make_attack, []

  def counted(*args, kill_at=None, **kwargs):
    attack = real(*args, **kwargs)

    def run(x, y, seed):
      calls.append(seed)
      if len(calls) == kill_at:
        raise KeyboardInterrupt  # as a stopped sitting would
      return attack(x, y, seed=seed)
    return run

  def evaluate(out, kill_at=None, steps=3):
    calls.clear()
    monkeypatch.setattr(runner, 'make_attack',
                        lambda *a, **k: counted(*a, kill_at=kill_at, **k))
    run_main(eval_main, [f'--model_dir={two_models["ls"]}', f'--data_dir={tfds_mnist_dir}',
                         '--num_examples=50', '--eval_batch_size=10', '--suite=',
                         f'--output_dir={out}', f'--attacks=p:steps={steps}'])
    return {a['name']: a for a in _results(out)['attacks']}

  out = tmp_path / 'eval'
  with pytest.raises(KeyboardInterrupt):
    evaluate(out, kill_at=3)
  assert os.listdir(out / 'unfinished') == ['p.json']
  first_seeds = calls[:2]
  resumed = evaluate(out)['p']
  assert calls[0] not in first_seeds and len(calls) == 3  # batches 3, 4 and 5 only
  assert resumed['resumed_batches'] == 2 and not os.path.exists(out / 'unfinished')
  whole = evaluate(tmp_path / 'whole')['p']
  assert len(calls) == 5 and 'resumed_batches' not in whole
  assert resumed['correct'] == whole['correct'] and resumed['sanity'] == whole['sanity']
  with pytest.raises(KeyboardInterrupt):
    evaluate(tmp_path / 'steps', kill_at=3)
  assert 'resumed_batches' not in evaluate(tmp_path / 'steps', steps=4)['p']  # started over
  assert len(calls) == 5


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


@needs_mnist
def test_results_of_another_model_state_are_set_aside_and_recomputed(two_models, tfds_mnist_dir,
                                                                     tmp_path):
  import shutil  # pylint: disable=g-import-not-at-top
  import train  # pylint: disable=g-import-not-at-top
  model_dir = str(tmp_path / 'natural')
  shutil.copytree(two_models['natural'], model_dir)
  out = str(tmp_path / 'eval')
  args = [f'--model_dir={model_dir}', f'--data_dir={tfds_mnist_dir}', '--num_examples=50',
          '--suite=', f'--output_dir={out}', '--attacks=p:steps=5']
  run_main(eval_main, args)
  before = _results(out)
  # The same folder, extended by 10 steps: another model state.
  run_main(train, [f'--flagfile={model_dir}/flags.cfg', '--train_steps=160', '--eval_examples=0',
                   f'--model_dir={model_dir}'], data_override=two_models_data())
  run_main(eval_main, args)
  after = _results(out)
  assert before['model']['global_step'] == 150 and after['model']['global_step'] == 160
  assert before['model']['weights_sha256'] != after['model']['weights_sha256']
  stale = [f for f in os.listdir(out) if f.startswith('results.stale-')]
  assert len(stale) == 1
  assert json.load(open(os.path.join(out, stale[0]))) == before  # the old file, kept whole
  assert after['complete'] and [a['seconds'] for a in after['attacks']] != \
      [a['seconds'] for a in before['attacks']]


def test_unbounded_attacks_never_enter_a_worst_case(two_models, tfds_mnist_dir, tmp_path):
  out = str(tmp_path / 'eval')
  run_main(eval_main, [f'--model_dir={two_models["ls"]}', f'--data_dir={tfds_mnist_dir}',
                       '--num_examples=30', '--suite=unbounded', f'--output_dir={out}',
                       '--attacks=pgd5:steps=5'])
  doc = _results(out)
  by_name = {a['name']: a for a in doc['attacks']}
  assert by_name['unbounded_pgd200_step0.008_eps1']['threat'] == 'sanity'
  assert by_name['unbounded_pgd200_step0.008_eps1']['accuracy'] == 0.0
  for case in doc['worst_case']:
    assert case['over'] == ['pgd5'] and case['accuracy'] == pytest.approx(
        by_name['pgd5']['accuracy'] if by_name['clean']['correct'] == '1' * 30 else case['accuracy'])
  assert doc['worst_case'] and all(c['accuracy'] > 0 for c in doc['worst_case'])


def test_an_attack_with_no_example_left_records_standard_json_without_a_pixel_range():
  from data_input.loader import Split  # pylint: disable=g-import-not-at-top
  from evaluation.accuracy import make_predict_fn  # pylint: disable=g-import-not-at-top
  from evaluation.plan import planned  # pylint: disable=g-import-not-at-top
  from evaluation.runner import attack_result  # pylint: disable=g-import-not-at-top
  from madry_compat import build_model  # pylint: disable=g-import-not-at-top
  spec = get_spec('mnist')
  model = build_model('mnist')
  split = Split(np.full((4, 28, 28, 1), 128, np.uint8), np.zeros(4, np.int64), 'test', False,
                False)
  pgd = PGDConfig(name='p', epsilon=0.3, step_size=0.01, steps=2)
  # as in an AutoAttack chain whose earlier attacks broke every example
  result = attack_result(make_predict_fn(model), model, planned(pgd, 'white-box', spec), None,
                         split, spec, 4, 2, seed=0, only=np.zeros(4, bool))
  assert result.accuracy == 0.0 and result.sanity['ok']
  assert result.sanity['min'] is None and result.sanity['max'] is None
  assert _strict_json(json.dumps(result.to_json()))['sanity']['min'] is None


def test_an_attack_does_not_keep_its_model_alive():
  import gc  # pylint: disable=g-import-not-at-top
  import weakref  # pylint: disable=g-import-not-at-top
  from attacks import APGDConfig, SquareConfig, make_attack  # pylint: disable=g-import-not-at-top
  from madry_compat import build_model  # pylint: disable=g-import-not-at-top
  x, y = np.zeros((2, 28, 28, 1), np.float32), np.array([0, 1])
  refs = []
  for config in (PGDConfig(name='p', epsilon=0.1, step_size=0.01, steps=2),
                 APGDConfig(name='a', epsilon=0.1, steps=2),
                 SquareConfig(name='s', epsilon=0.1, queries=3)):
    model = build_model('mnist')
    make_attack(model, config, (0.0, 1.0))(x, y)
    refs.append(weakref.ref(model))
    del model
  gc.collect()
  assert [r() for r in refs] == [None, None, None]


def test_early_stop_flag_is_recorded_and_never_weaker(two_models, tfds_mnist_dir, tmp_path):
  docs = {}
  for flag in ('--noearly_stop', '--early_stop'):
    out = str(tmp_path / flag)
    run_main(eval_main, [f'--model_dir={two_models["natural"]}', f'--data_dir={tfds_mnist_dir}',
                         '--num_examples=40', '--suite=paper_whitebox', f'--output_dir={out}', flag])
    docs[flag] = {a['name']: a for a in _results(out)['attacks']}
  for name in ('pgd40_xent', 'pgd40_cw'):
    final, early = docs['--noearly_stop'][name], docs['--early_stop'][name]
    assert final['config']['early_stop'] is False and early['config']['early_stop'] is True
    assert 'first fooling iterate' in early['description']
    assert all(e <= f for e, f in zip(early['correct'], final['correct']))  # '0' < '1'


def test_bfloat16_gradients_are_recorded_and_never_mistaken_for_float32(two_models,
                                                                      tfds_mnist_dir, tmp_path):
  out = str(tmp_path / 'eval')
  args = [f'--model_dir={two_models["natural"]}', f'--data_dir={tfds_mnist_dir}',
          '--num_examples=20', '--suite=paper_whitebox', f'--output_dir={out}']
  run_main(eval_main, args)
  fp32 = {a['name']: a for a in _results(out)['attacks']}
  assert 'precision' not in fp32['pgd40_xent']['config']  # as before the setting existed
  run_main(eval_main, args + ['--attack_precision=bfloat16'])  # same folder: not reused
  bf16 = {a['name']: a for a in _results(out)['attacks']}
  for name in ('pgd40_xent', 'pgd40_cw'):
    assert bf16[name]['config']['precision'] == 'bfloat16', name
    assert 'bfloat16 gradients' in bf16[name]['description']
  assert bf16['clean']['correct'] == fp32['clean']['correct']  # scored on the float32 model
  run_main(eval_main, args + ['--attack_precision=bfloat16', '--early_stop'])  # confirmed stops
  both = {a['name']: a for a in _results(out)['attacks']}['pgd40_xent']['config']
  assert both['precision'] == 'bfloat16' and both['early_stop'] is True


def test_table9_sweep_is_the_papers_pattern_in_mnist_units():
  """Steps as the paper's; step sizes 2/255, 3/255, 4/255 of the range; epsilons the same
  fraction of the way from the budget to the whole range: (50 - 8) / 247 of 0.7 above 0.3
  is 0.419 for the first, and the last covers the whole range (a sanity check)."""
  sweep = get_spec('mnist').paper_suites.unbounded_sweep
  assert [k for k, _, _ in sweep] == [30, 40, 50, 50, 100, 200]
  assert [s for _, s, _ in sweep] == [0.008, 0.008, 0.012, 0.016, 0.016, 0.008]
  assert [e for _, _, e in sweep] == [0.42, 0.45, 0.56, 0.7, 0.7, 1.0]
  assert get_spec('mnist').paper_suites.steps_sweep == (20, 40, 100, 400, 1000)


def test_restarts_chain_reports_the_accuracy_after_each_restart(two_models, tfds_mnist_dir,
                                                                tmp_path):
  """Table 10 from one chain: restart r attacks only what restarts 1..r-1 left, so accuracy
  never rises along it; restart 1 is the paper's PGD-40 on xent itself (same seed stream),
  and each later restart draws its own random start (recorded as its stream)."""
  out = str(tmp_path / 'eval')
  eps = 0.1 if os.path.isdir(MNIST_DIR) else 0.04  # the generated stand-ins break sooner
  run_main(eval_main, [f'--model_dir={two_models["ls"]}', f'--data_dir={tfds_mnist_dir}',
                       '--num_examples=60', '--suite=paper_whitebox,restarts',
                       f'--epsilon={eps}', f'--output_dir={out}'])
  by_name = {a['name']: a for a in _results(out)['attacks']}
  chain = [by_name[f'pgd40_xent_restart{r}'] for r in range(1, 10)]
  assert all(a['chain'] == 'restarts' for a in chain)
  assert chain[0]['correct'] == by_name['pgd40_xent']['correct']
  assert 'stream' not in chain[0]['config'] and chain[8]['config']['stream'] == 8
  accuracies = [a['accuracy'] for a in chain]
  assert accuracies[0] > 0.05  # at this eps the chain has points left to attack
  assert accuracies == sorted(accuracies, reverse=True)
  for earlier, later in zip(chain, chain[1:]):  # a point lost stays lost
    assert all(l <= e for e, l in zip(earlier['correct'], later['correct']))
