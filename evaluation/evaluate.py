"""An evaluation run: clean accuracy, then each attack, saved as it finishes (resumable)."""

import dataclasses
import json
import os
import time

from absl import logging

from data_input import loader
from data_input.specs import get_spec
from evaluation import model_io
from madry_compat.checkpoint import load_madry_checkpoint
from evaluation.accuracy import make_predict_fn
from evaluation.attack_spec import parse_attack
from evaluation.masking import masking_warnings
from evaluation.report import markdown_table
from evaluation.report import worst_case
from evaluation.runner import AttackResult
from evaluation.runner import attack_result
from evaluation.runner import clean_result
from evaluation.runner import zero_gradient_share
from evaluation.settings import MADRY_SOURCE
from evaluation.suites import in_autoattack_chain
from evaluation.suites import is_blackbox
from evaluation.suites import suite_attacks
from run_support.atomic_io import write_json_atomic
from run_support.distribution import is_chief
from run_support.distribution import make_strategy
from run_support.atomic_io import write_text_atomic
from run_support.errors import RunFailure
from run_support.errors import UserError

RESULTS_JSON = 'results.json'
RESULTS_MD = 'results.md'


def _dataset(settings):
  if settings.madry_target:
    return settings.dataset
  trained_on = model_io.trained_dataset(settings.model_dir)
  if settings.dataset and trained_on and settings.dataset != trained_on:
    raise UserError(f'--dataset={settings.dataset} but {settings.model_dir} was trained on {trained_on}')
  dataset = settings.dataset or trained_on
  if not dataset:
    raise UserError(f'{settings.model_dir} has no run_config.json: pass --dataset')
  return dataset


def _attack_list(settings, dataset):
  configs = [c for suite in settings.suites for c in suite_attacks(suite, dataset, settings.kappa)]
  configs += [parse_attack(spec, dataset, settings.kappa) for spec in settings.attacks]
  names = [c.name for c in configs]
  duplicates = sorted({n for n in names if names.count(n) > 1})
  if duplicates:
    raise UserError(f'attack names must be unique; repeated: {", ".join(duplicates)}')
  if any(is_blackbox(c) for c in configs) and not settings.blackbox_source:
    raise UserError('black-box attacks (bb_*) need --blackbox_source=DIR, a model to craft them on')
  return configs


def _check_input_shape(model, spec, what):
  shape = tuple(model.input_shape[1:])
  if shape != spec.image_shape:
    raise UserError(f'{what} takes inputs of shape {shape}, but {spec.name} images are {spec.image_shape}')


def _load_previous(path, identity):
  if not os.path.isfile(path):
    return {}
  try:
    with open(path) as f:
      previous = json.load(f)
  except (OSError, ValueError) as e:
    raise UserError(f'{path} is unreadable ({e}); move it away to start afresh') from None
  if previous.get('setup') != identity:
    raise UserError(f'{path} holds results of another evaluation ({previous.get("setup")}); '
                    'use another --output_dir')
  return {e['name']: AttackResult.from_json(e) for e in previous.get('attacks', [])}


def _progress_logger(name, position, total):
  last = [0.0]

  def log(batch, batches, elapsed):
    if batch == batches or elapsed - last[0] >= 10:
      last[0] = elapsed
      eta = elapsed / batch * (batches - batch)
      logging.info('[%d/%d] %s: batch %d/%d, %.0f s elapsed, ETA %.0f s', position, total, name,
                   batch, batches, elapsed, eta)
  return log


def autoattack_summary(results, spec, n):
  """RobustBench-style fields once AutoAttack's chain has run, else None."""
  chain = [r for r in results if in_autoattack_chain(r)]
  if not chain or chain[-1].name != 'aa_square':
    return None
  eps = chain[-1].config['epsilon']
  return {'clean_acc': results[0].accuracy, 'autoattack_acc': chain[-1].accuracy,
          'eps': f'{eps:g}/255' if spec.pixel_max == 255 else f'{eps:g}', 'norm': 'Linf',
          'n_examples': n, 'version': 'standard: ' + ', then '.join(r.name for r in chain),
          'robust_after': {r.name: r.accuracy for r in chain}}


def _load_models(settings, dataset):
  """(target, black-box source or None) as Keras models."""
  if settings.madry_target:
    target = load_madry_checkpoint(settings.madry_path(), dataset)
  else:
    target = model_io.load_trained_model(settings.model_dir)
  source = None
  if settings.blackbox_source == MADRY_SOURCE:
    source = load_madry_checkpoint(settings.madry_path(), dataset)
  elif settings.blackbox_source:
    source = model_io.load_trained_model(settings.blackbox_source, '--blackbox_source')
  return target, source


def evaluate(settings):
  """Runs the evaluation described by validated `settings`; returns the results document
  and its Markdown table. Under multi_worker only the chief writes files."""
  strategy = make_strategy(settings.strategy)  # before any other TensorFlow work
  chief = is_chief(strategy)
  dataset = _dataset(settings)
  settings = dataclasses.replace(settings, dataset=dataset)
  spec = get_spec(dataset)
  with strategy.scope():
    target, source = _load_models(settings, dataset)
  _check_input_shape(target, spec, f'the model at {settings.target_path()}')
  configs = _attack_list(settings, dataset)
  if source is not None:
    _check_input_shape(source, spec, f'--blackbox_source {settings.source_path()}')
  test = loader.load_split(dataset, 'test', settings.data_dir, settings.manual_dir, settings.download)
  n = settings.num_examples or len(test)
  if n > len(test):
    raise UserError(f'--num_examples {n} exceeds the {len(test)} test images available')

  out_dir = settings.resolved_output_dir()
  if chief:
    os.makedirs(out_dir, exist_ok=True)
  identity = settings.identity()
  done = _load_previous(os.path.join(out_dir, RESULTS_JSON), identity)
  predict = make_predict_fn(target)
  started = time.perf_counter()

  def save(results, warnings, zero_grad):
    accuracy, correct = worst_case(results)
    document = {
        'setup': identity,
        'settings': dataclasses.asdict(settings),
        'examples': {'count': n, 'which': f'first {n} test images', 'source': test.source,
                     'partial_split': test.partial, 'file_order': test.file_order},
        'clean_acc': results[0].accuracy,
        'attacks': [r.to_json() for r in results],
        'worst_case': {'accuracy': accuracy, 'correct': ''.join('1' if c else '0' for c in correct),
                       'over': [r.name for r in results]},
        'zero_gradient_share': zero_grad,
        'warnings': warnings,
    }
    autoattack = autoattack_summary(results, spec, n)
    if autoattack:
      document.update(autoattack_acc=autoattack['autoattack_acc'], eps=autoattack['eps'],
                      n_examples=n, autoattack=autoattack)
    markdown = (markdown_table(results, accuracy) + ''.join(f'\n- WARNING: {w}' for w in warnings) +
                ('\n' if warnings else ''))
    if chief:
      write_json_atomic(os.path.join(out_dir, RESULTS_JSON), document)
      write_text_atomic(os.path.join(out_dir, RESULTS_MD), markdown)
    return document, markdown

  results = [done.pop('clean', None) or clean_result(predict, test, spec, n, settings.eval_batch_size)]
  save(results + list(done.values()), [], None)
  source_path = os.path.abspath(settings.source_path()) if settings.blackbox_source else None
  still_robust = results[0].correct  # AutoAttack's chain attacks only these
  for position, config in enumerate(configs, 1):
    previous = done.pop(config.name, None)
    threat = 'black-box' if is_blackbox(config) else 'white-box'
    recorded = dict(dataclasses.asdict(config), source=source_path if threat == 'black-box' else None)
    if previous and previous.config == recorded:
      logging.info('[%d/%d] %s: already done (%.2f%%), skipped', position, len(configs),
                   config.name, 100 * previous.accuracy)
      results.append(previous)
      if in_autoattack_chain(config):
        still_robust = previous.correct
      continue
    crafting = source if threat == 'black-box' else target
    try:
      result = attack_result(predict, crafting, config, threat, test, spec, n,
                             settings.eval_batch_size, settings.seed,
                             _progress_logger(config.name, position, len(configs)),
                             only=still_robust if in_autoattack_chain(config) else None,
                             strategy=strategy)
    except UserError:
      raise
    except Exception as e:  # pylint: disable=broad-except  (one line; finished work kept)
      logging.debug('%s failed', config.name, exc_info=True)  # the traceback: --verbosity=1
      reason = (str(e).strip().splitlines() or [''])[0][:300]
      raise RunFailure(f'attack {config.name} ({config.describe()}) failed: '
                       f'{type(e).__name__}: {reason}; the {len(results)} finished result(s) '
                       f'are kept in {os.path.join(out_dir, RESULTS_JSON)}') from None
    result.config = recorded
    if in_autoattack_chain(config):
      still_robust = result.correct
    sanity = result.sanity
    logging.info('[%d/%d] %s: accuracy %.2f%% in %.1f s | sanity %s: max|x_adv-x|_inf %.4g '
                 '(eps %g), range [%.4g, %.4g], NaN %d', position, len(configs), config.name,
                 100 * result.accuracy, result.seconds, 'ok' if sanity['ok'] else 'FAILED',
                 sanity['max_linf'], config.epsilon, sanity['min'], sanity['max'], sanity['nans'])
    results.append(result)
    save(results + list(done.values()), [], None)
  results += done.values()  # attacks of earlier runs on the same examples are kept
  zero_grad = zero_gradient_share(target, test, spec, n, settings.eval_batch_size)
  warnings = masking_warnings(results[1:], zero_grad, data_range=spec.pixel_max)
  for w in warnings:
    logging.warning('gradient masking? %s', w)
  document, markdown = save(results, warnings, zero_grad)
  logging.info('Evaluation done in %.1f s; wrote %s', time.perf_counter() - started,
               out_dir if chief else 'nothing (not the chief)')
  return document, markdown
