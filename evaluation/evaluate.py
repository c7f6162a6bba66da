"""An evaluation run: clean accuracy, then each planned attack, saved as it finishes
(resumable, tied to the model state it measured)."""

import dataclasses

from absl import logging

from data_input import loader
from data_input.specs import get_spec
from evaluation.accuracy import make_predict_fn
from evaluation.attack_progress import AttackProgress
from evaluation.attack_spec import parse_attack
from evaluation.masking import masking_warnings
from evaluation.model_io import load_model_folder
from evaluation.model_io import load_source
from evaluation.plan import AUTOATTACK
from evaluation.report import results_document
from evaluation.runner import attack_result
from evaluation.runner import clean_result
from evaluation.runner import recorded_config
from evaluation.runner import zero_gradient_share
from evaluation.store import ResultsStore
from evaluation.suites import autoattack_configs
from evaluation.suites import suite_plan
from evaluation.transfer_cache import TransferCache
from madry_compat.checkpoint import precision_twin
from run_support.distribution import is_chief
from run_support.distribution import make_strategy
from run_support.errors import RunFailure
from run_support.errors import UserError


def evaluate(settings, target=None, test=None):
  """Runs the evaluation described by validated `settings`; returns the results document
  and its Markdown table. Under multi_worker only the chief writes files.

  `target` (a model_io.LoadedModel) is evaluated instead of the model settings name, and
  `test` (a data_input.loader.Split) replaces the dataset's test split: how
  evaluation.benchmark evaluates any Keras classifier on any examples."""
  strategy = make_strategy(settings.strategy)  # before any other TensorFlow work
  with strategy.scope():
    target, sources = _load_models(settings, target)
  spec = get_spec(target.dataset)
  settings = dataclasses.replace(settings, dataset=target.dataset)
  plan = _plan(settings, spec, sources)
  test, n = _test_images(settings, spec, test)
  context = _context(settings, spec, target, test, n)
  store = ResultsStore(settings.resolved_output_dir(), context['setup'], context['model'],
                       context['examples'], writes=is_chief(strategy))
  done = store.load()  # results of this setup on this model state and these images, if any
  this_run = {'settings': dataclasses.asdict(settings), 'measured': []}
  context['runs'] = store.earlier_runs + [this_run]
  predict = make_predict_fn(target.model)
  with strategy.scope():
    crafting = _CraftingModels(target, plan)
  cache = TransferCache(settings.transfer_cache_dir) if settings.transfer_cache_dir else None
  progress = AttackProgress(store.out_dir, context['model'], context['examples']['sha256'],
                            writes=store.writes)
  clean = done.pop('clean', None)
  if clean is None:
    clean = clean_result(predict, test, spec, n, settings.eval_batch_size)
    this_run['measured'].append(clean.name)
  results = [clean]
  # Per chain, the points its members so far left correct. AutoAttack's starts from those
  # clean evaluation left (its standard); the restarts chain's first member runs on every
  # point like a plain attack, so restart 1 is the paper's PGD itself.
  still_robust = {AUTOATTACK: results[0].correct}
  marked_unfinished = False  # the stored file says complete: false while an attack runs
  for position, planned in enumerate(plan, 1):
    source = sources.get(planned.source) if planned.threat == 'black-box' else None
    result = _reuse(done.pop(planned.name, None), planned, source, position, len(plan))
    if result is None:
      if not marked_unfinished:  # later attacks find it so, saved after the one before
        store.save(*results_document(context, results + list(done.values()), [], None, False))
        marked_unfinished = True
      this_run['measured'].append(planned.name)
      result = _run(planned, position, len(plan), predict, crafting, source, test, spec, n,
                    settings, still_robust.get(planned.chain), strategy, store.path, cache,
                    progress)
      store.save(*results_document(context, results + [result] + list(done.values()), [],
                                   None, False))
      progress.discard(planned.name)  # stored now: its finished batches are history
    if planned.chain:
      still_robust[planned.chain] = result.correct
    results.append(result)
  results += done.values()  # attacks of earlier runs on the same model state are kept
  zero_grad = zero_gradient_share(target.model, test, spec, n, settings.eval_batch_size)
  warnings = masking_warnings(results[1:], zero_grad, data_range=spec.pixel_max)
  for w in warnings:
    logging.warning('gradient masking? %s', w)
  document, markdown = results_document(context, results, warnings, zero_grad, True)
  if not this_run['measured'] and store.loaded_complete:
    # A rerun that only reads: the stored file (and the runs that measured it) stays byte
    # for byte.
    logging.info('Evaluation done; every result was already in %s, left unchanged', store.path)
    return document, markdown
  store.save(document, markdown)
  logging.info('Evaluation done; wrote %s', store.path if store.writes else 'nothing (not the chief)')
  return document, markdown


def _reuse(previous, planned, source, position, total):
  """The earlier result of this very attack (same config, same source model), or None."""
  source_state = source.state() if source else None
  if previous is None or previous.config != recorded_config(planned, source_state):
    return None
  logging.info('[%d/%d] %s: already done (%.2f%%), skipped', position, total, planned.name,
               100 * previous.accuracy)
  return previous


def _load_models(settings, target=None):
  """(target, sources) as evaluation.model_io.LoadedModel; sources maps None to
  --blackbox_source and each --transfer_sources name to its model (or ensemble). A given
  `target` is used as it is."""
  target = target or load_model_folder(
      settings.target_path(), settings.dataset,
      '--madry_ckpt_dir' if settings.madry_target else '--model_dir')
  sources = {}
  if settings.blackbox_source:
    sources[None] = load_source(settings.source_folders(), target.dataset, '--blackbox_source')
  for name, folders in settings.transfer_source_folders.items():
    sources[name] = load_source(folders, target.dataset, f'--transfer_sources {name}')
  spec = get_spec(target.dataset)
  named = [(target, f'the model at {target.path}')] + [
      (s, f'--blackbox_source {settings.source_path()}' if name is None else
       f'--transfer_sources {name}') for name, s in sources.items()]
  for loaded, what in named[1:]:
    if target.weights_sha256 in {m.weights_sha256 for m in loaded.members or (loaded,)}:
      raise UserError(f'{what} is (or includes) the model under attack: attacks crafted on it '
                      'are white-box, not black-box transfer')
  for loaded, what in named:
    if tuple(loaded.model.input_shape[1:]) != spec.image_shape:
      raise UserError(f'{what} takes inputs of shape {tuple(loaded.model.input_shape[1:])}, '
                      f'but {spec.name} images are {spec.image_shape}')
  return target, sources


def _budget(settings, spec):
  """The suites' budget: the paper's, or at --epsilon (step size and steps unchanged)."""
  if settings.epsilon is None:
    return spec.paper_attack
  if settings.epsilon >= spec.pixel_max:
    raise UserError(f'--epsilon must be below the data range {spec.pixel_max:g}, got '
                    f'{settings.epsilon:g} (unbounded attacks are the unbounded suite)')
  return dataclasses.replace(spec.paper_attack, epsilon=settings.epsilon)


def _plan(settings, spec, sources):
  budget = _budget(settings, spec)
  names = tuple(settings.transfer_source_folders)
  plan = [p for suite in settings.suites
          for p in suite_plan(suite, spec, settings.kappa, names, budget)]
  # Recorded in each attack's config, so results say which protocol and precision; never
  # for transfer: stopping once the source is fooled only weakens what transfers.
  white_box_pgd = {'early_stop': True} if settings.early_stop else {}
  if settings.attack_precision != 'float32':
    white_box_pgd['precision'] = settings.attack_precision
  plan = [dataclasses.replace(p, config=dataclasses.replace(p.config, **white_box_pgd))
          if white_box_pgd and p.config.method == 'pgd' and p.threat != 'black-box' else p
          for p in plan]
  plan += [parse_attack(text, spec, settings.kappa, budget) for text in settings.attacks]
  names = [p.name for p in plan]
  repeated = sorted({n for n in names if names.count(n) > 1})
  if repeated:
    raise UserError(f'attack names must be unique; repeated: {", ".join(repeated)}')
  uses_source = any(p.threat == 'black-box' and p.source is None for p in plan)
  if None not in sources and uses_source:
    raise UserError('black-box attacks need --blackbox_source=DIR, a model to craft them on')
  if None in sources and not uses_source:
    raise UserError('--blackbox_source is given but no attack is crafted on it: add '
                    '--suite=paper_blackbox (or a black-box --attacks entry), or drop it')
  return plan


def _test_images(settings, spec, test=None):
  if test is None:
    test = loader.load_split(spec.name, 'test', settings.data_dir, settings.manual_dir,
                             settings.download)
  n = settings.num_examples or len(test)
  if n > len(test):
    raise UserError(f'--num_examples {n} exceeds the {len(test)} test images available')
  return test, n


def _context(settings, spec, target, test, n):
  """What every results document states besides the results."""
  return {'setup': settings.identity(), 'model': target.state(),
          'spec': spec, 'n': n,
          'chain_names': [c.name for c in autoattack_configs(spec.paper_attack.epsilon)],
          'examples': test.describe(n)}


class _CraftingModels:
  """The target in each precision its white-box attacks ask for (bfloat16: a copy with the
  same weights); their examples are always scored on the float32 target."""

  def __init__(self, target, plan):
    self.models = {'float32': target.model}
    for p in plan:
      precision = getattr(p.config, 'precision', 'float32')
      if p.threat != 'black-box' and precision not in self.models:
        self.models[precision] = precision_twin(target.model, target.dataset, precision)

  def for_attack(self, planned, source):
    if planned.threat == 'black-box':
      return source.model
    return self.models[getattr(planned.config, 'precision', 'float32')]


def _run(planned, position, total, predict, crafting, source, test, spec, n, settings, only,
         strategy, results_path, cache, progress):
  """One attack, logged with its sanity line; any failure that is not bad input becomes one
  RunFailure line (the finished results stay in results_path)."""
  source_state = source.state() if source else None
  try:
    result = attack_result(predict, crafting.for_attack(planned, source), planned, source_state, test, spec, n,
                           settings.eval_batch_size, settings.seed,
                           _progress_logger(planned.name, position, total), only, strategy,
                           cache, progress)
  except UserError:
    raise
  except Exception as e:  # pylint: disable=broad-except  (one line; finished work kept)
    logging.debug('%s failed', planned.name, exc_info=True)  # the traceback: --verbosity=1
    reason = (str(e).strip().splitlines() or [''])[0][:300]
    raise RunFailure(f'attack {planned.name} ({planned.config.describe()}) failed: '
                     f'{type(e).__name__}: {reason}; the results finished before it are kept '
                     f'in {results_path}') from None
  s = result.sanity
  pixels = (f'range [{s["min"]:.4g}, {s["max"]:.4g}]' if s['min'] is not None
            else 'no example left to attack')
  logging.info('[%d/%d] %s: accuracy %.2f%% in %.1f s | sanity %s: max|x_adv-x|_inf %.4g '
               '(eps %g), %s, NaN %d', position, total, planned.name,
               100 * result.accuracy, result.seconds, 'ok' if s['ok'] else 'FAILED',
               s['max_linf'], planned.config.epsilon, pixels, s['nans'])
  return result


def _progress_logger(name, position, total):
  last = [0.0]

  def log(batch, batches, elapsed):
    if batch == batches or elapsed - last[0] >= 10:
      last[0] = elapsed
      eta = elapsed / batch * (batches - batch)
      logging.info('[%d/%d] %s: batch %d/%d, %.0f s elapsed, ETA %.0f s', position, total, name,
                   batch, batches, elapsed, eta)
  return log
