"""diagnose.py's work: every diagnostic for each model, figures and one JSON."""

import dataclasses
import os
import time

from absl import logging
import numpy as np

from attacks import fgsm
from data_input import loader
from data_input.specs import get_spec
from diagnostics import figures
from diagnostics.activations import INACTIVE_THRESHOLDS
from diagnostics.activations import inactive_count
from diagnostics.activations import layer_activity
from diagnostics.landscape import loss_landscapes
from diagnostics.linearized import linearized_quantities
from diagnostics.linearized import predicted_accuracy
from evaluation import model_io
from evaluation.accuracy import correct_per_example
from evaluation.accuracy import make_predict_fn
from evaluation.plan import planned
from evaluation.runner import attack_result
from run_support.atomic_io import write_json_atomic
from run_support.errors import UserError
from run_support.run_files import DIAGNOSTICS_JSON


@dataclasses.dataclass(frozen=True)
class DiagnoseSettings:
  model_dirs: tuple
  output_dir: str
  dataset: str = None
  num_examples: int = 500
  batch_size: int = 100
  epsilon: float = None
  landscape_examples: int = 8
  landscape_points: int = 21
  landscape_extent: float = None
  data_dir: str = None
  manual_dir: str = None
  seed: int = 0


def model_label(model_dir):
  """'name (alpha a, beta b, sigma s, k steps[, adv])' from the run's settings."""
  name = os.path.basename(os.path.normpath(model_dir))
  c = model_io.run_config(model_dir)
  if c is None:
    return name
  adv = ', PGD adv. training' if c.get('adv_train') else ''
  return (f"{name} (alpha {c['alpha']:g}, beta {c['beta']:g}, sigma {c['sigma']:g}, "
          f"k {c['train_steps']}{adv})")


PER_EXAMPLE = ('logit_gap', 'gradient_gap', 'epsilon_L', 'cosine', 'grad_true_l1')


def _summary(values):
  finite = values[np.isfinite(values)]
  return {'mean': float(finite.mean()), 'median': float(np.median(finite))} if finite.size else {}


def diagnose(s):
  """Runs everything; returns the JSON document written to output_dir/diagnostics.json."""
  datasets = {model_io.trained_dataset(d) for d in s.model_dirs} - {None}
  dataset = s.dataset or (datasets.pop() if len(datasets) == 1 else None)
  if not dataset:
    raise UserError('the models were trained on different or unknown datasets: pass --dataset')
  spec = get_spec(dataset)
  epsilon = s.epsilon if s.epsilon is not None else spec.paper_attack.epsilon
  extent = s.landscape_extent if s.landscape_extent is not None else spec.landscape_extent
  loaded = {model_label(d): model_io.load_model_folder(d, dataset, '--model_dirs')
            for d in s.model_dirs}
  test = loader.load_split(dataset, 'test', s.data_dir, s.manual_dir)
  if s.num_examples > len(test):
    raise UserError(f'--num_examples {s.num_examples} exceeds the {len(test)} test images '
                    'available')
  n = s.num_examples
  os.makedirs(s.output_dir, exist_ok=True)
  started = time.perf_counter()
  quantities, activity, document = {}, {}, {'models': {}}
  for label, model_state in loaded.items():
    model = model_state.model
    logging.info('Diagnosing %s on %d %s test images.', label, n, dataset)
    q = linearized_quantities(model, test, spec, n, s.batch_size)
    quantities[label] = q
    activity[label] = layer_activity(model, test, spec, n, s.batch_size)
    predict = make_predict_fn(model)
    empirical = {loss: attack_result(
        predict, model, planned(fgsm(f'fgsm_{loss}', epsilon, loss, kappa=0.0), 'white-box', spec),
        None, test, spec, n, s.batch_size, s.seed).accuracy for loss in ('xent', 'cw')}
    images = loader.to_model_scale(test.images[:s.landscape_examples], spec)
    surfaces, grid = loss_landscapes(model, images, test.labels[:s.landscape_examples], extent,
                                     s.landscape_points, s.seed)
    slug = ''.join(ch if ch.isalnum() else '_' for ch in label.split(' ')[0])
    for kind, values in surfaces.items():
      figures.landscape_grid(values, grid, os.path.join(s.output_dir, f'landscape_{kind}_{slug}.png'),
                             f'{label}: xent along {"two Rademacher" if kind == "random" else "sign(grad xent) and a Rademacher"} directions')
    document['models'][label] = {
        'model': model_state.state(),
        'clean_accuracy': float(correct_per_example(predict, test, spec, s.batch_size, n).mean()),
        'table1': {'epsilon': epsilon, 'predicted_accuracy': predicted_accuracy(q['epsilon_L'], epsilon),
                   'fgsm_xent_accuracy': empirical['xent'], 'fgsm_cw_accuracy': empirical['cw']},
        'summary': {k: _summary(np.ravel(q[k])) for k in PER_EXAMPLE + ('logits',)},
        # The same over the correctly classified images only: where clean accuracy is far
        # below 100% (the CIFAR subset), the medians over all images mix in negative gaps.
        'summary_correct': {k: _summary(q[k][q['correct']]) for k in PER_EXAMPLE},
        'inactive_penultimate_neurons': inactive_count(activity[label][0]),
        'inactive_penultimate_by_threshold': {f'{t:g}': inactive_count(activity[label][0], t)
                                              for t in INACTIVE_THRESHOLDS},
        'penultimate_neurons': len(activity[label][0]),
        'per_example': {**{k: np.round(q[k], 6).tolist() for k in PER_EXAMPLE},
                        'correct': q['correct'].tolist()},
        'penultimate_activity_sorted': np.round(activity[label][0], 4).tolist(),
        'logit_activity_sorted': np.round(activity[label][1], 4).tolist(),
        'landscape': {'extent': extent, 'points': s.landscape_points,
                      **{k: np.round(v, 4).tolist() for k, v in surfaces.items()}},
    }
  figures.histograms(quantities, os.path.join(s.output_dir, 'histograms.png'), epsilon)
  figures.activity({k: v[0] for k, v in activity.items()},
                   os.path.join(s.output_dir, 'penultimate_activity.png'))
  figures.logit_activity({k: v[1] for k, v in activity.items()},
                         os.path.join(s.output_dir, 'logit_activity.png'))
  figures.inactive_by_threshold({k: v[0] for k, v in activity.items()}, INACTIVE_THRESHOLDS,
                                os.path.join(s.output_dir, 'inactive_by_threshold.png'))
  document.update({'dataset': dataset, 'examples': test.describe(n),
                   'epsilon': epsilon, 'seconds': time.perf_counter() - started,
                   'settings': dataclasses.asdict(s),
                   'notes': 'ybar is the most likely wrong class; FGSM uses kappa 0 for CW.'})
  write_json_atomic(os.path.join(s.output_dir, DIAGNOSTICS_JSON), document)
  return document
