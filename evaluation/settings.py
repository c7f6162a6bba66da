"""What an evaluation run is; validated without TensorFlow so bad input fails at once."""

import dataclasses
import functools
import os
import re
from typing import Optional

from attacks.config import MADRY_KAPPA
from data_input.specs import get_spec
from run_support.errors import UserError
from run_support.precisions import PRECISIONS
from run_support.run_files import EVAL_SUBDIR
from run_support.run_files import is_madry_checkpoint
from run_support.strategies import STRATEGIES

# Suite names (their attacks are in evaluation/suites.py, which needs TensorFlow).
SUITES = ('paper_whitebox', 'paper_blackbox', 'restarts', 'steps', 'unbounded', 'autoattack',
          'transfer')
MADRY_SOURCE = 'madry_ckpt'  # --blackbox_source value: Madry's checkpoint in --madry_ckpt_dir
_NAME = re.compile(r'[A-Za-z0-9_.-]+')  # a --transfer_sources / report model name
DEFAULT_MADRY_DIR = os.path.join('models', 'adv_trained')  # Madry's fetch_model.py layout


@dataclasses.dataclass(frozen=True)
class EvalSettings:
  model_dir: str
  dataset: Optional[str] = None          # default: the dataset the model was trained on
  num_examples: Optional[int] = None     # first N test images; default all
  eval_batch_size: int = 200
  suites: tuple = ('paper_whitebox',)
  attacks: tuple = ()                    # custom `name:key=value,...` specs
  blackbox_source: Optional[str] = None  # a model folder (+ joins an ensemble), or 'madry_ckpt'
  transfer_sources: tuple = ()           # 'name=folder[+folder...]' (+: a logit ensemble)
  madry_ckpt_dir: Optional[str] = None   # Madry's TF1 checkpoint (folder or prefix)
  transfer_cache_dir: Optional[str] = None  # crafted black-box examples, reused across targets
  output_dir: Optional[str] = None       # default model_dir/eval
  seed: int = 0
  kappa: float = MADRY_KAPPA
  early_stop: bool = False               # suites' PGD: stop a point at its first fooling iterate
  attack_precision: str = 'float32'      # suites' white-box PGD: the gradients' precision
  epsilon: Optional[float] = None        # the suites' budget instead of the paper's
  strategy: str = 'default'
  data_dir: Optional[str] = None
  manual_dir: Optional[str] = None
  download: bool = True  # tfds may fetch missing data (--nodownload: offline)

  @functools.cached_property
  def transfer_source_folders(self):
    """{name: [folder, ...]} of --transfer_sources (parsed once; UserError if malformed)."""
    return parse_transfer_sources(self.transfer_sources)

  @property
  def madry_target(self):
    """True when the model under evaluation is Madry's checkpoint (no --model_dir)."""
    return not self.model_dir and bool(self.madry_ckpt_dir)

  def target_path(self):
    return self.madry_ckpt_dir if self.madry_target else self.model_dir

  def madry_path(self):
    return self.madry_ckpt_dir or DEFAULT_MADRY_DIR

  def source_path(self):
    if self.blackbox_source == MADRY_SOURCE:
      return self.madry_path()
    return self.blackbox_source

  def source_folders(self):
    """The black-box source's folders: one, or several joined by + (a logit ensemble)."""
    return [p.strip() for p in self.source_path().split('+')]

  def resolved_output_dir(self):
    """--output_dir, else <model>/eval/<which images>[_seed<s>], so evaluations of other
    example counts or seeds of the same model never collide."""
    if self.output_dir:
      return self.output_dir
    target = self.target_path()
    which = f'first{self.num_examples}' if self.num_examples else 'all'
    if self.seed:
      which += f'_seed{self.seed}'
    if self.epsilon is not None:
      which += f'_eps{self.epsilon:g}'
    return os.path.join(target if os.path.isdir(target) else os.path.dirname(target),
                        EVAL_SUBDIR, which)

  def identity(self):
    """What every result in output_dir depends on besides the model state (which the
    results store checks by weights hash); a rerun must match to add to them. Black-box
    results also record their source model, per attack."""
    identity = {'dataset': self.dataset, 'num_examples': self.num_examples, 'seed': self.seed}
    if self.epsilon is not None:  # absent otherwise, so earlier results stay valid
      identity['epsilon'] = self.epsilon
    return identity


def settings_for_folder(folder, **kwargs):
  """EvalSettings evaluating the model in `folder` (Madry's TF1 checkpoint or train.py's),
  as eval.py's --madry_ckpt_dir / --model_dir would."""
  if is_madry_checkpoint(folder):
    return EvalSettings(model_dir='', madry_ckpt_dir=folder, **kwargs)
  return EvalSettings(model_dir=folder, **kwargs)


def parse_transfer_sources(entries):
  """{name: [folder, ...]} from `name=folder[+folder...]` entries; UserError otherwise."""
  sources = {}
  for entry in entries:
    name, sep, paths = (part.strip() for part in entry.partition('='))
    if not sep or not _NAME.fullmatch(name) or not paths:
      raise UserError(f'--transfer_sources entry {entry!r}: write name=folder, or '
                      'name=folder+folder+... for an ensemble (name: letters, digits, _ . -)')
    if name in sources:
      raise UserError(f'--transfer_sources names {name!r} twice')
    folders = [p.strip() for p in paths.split('+')]
    for folder in folders:
      if not os.path.isdir(folder):
        raise UserError(f'--transfer_sources {name}: {folder!r} is not a folder')
    sources[name] = folders
  return sources


def parse_model_folders(entries):
  """{name: folder} from `name=folder` entries (--models of the experiment scripts): the
  transfer-source syntax without ensembles; UserError otherwise."""
  models = parse_transfer_sources(entries)
  if any(len(folders) > 1 for folders in models.values()):
    raise UserError('--models takes one folder per name')
  return {name: folder for name, (folder,) in models.items()}


def validate(s, model_given=False):
  """UserError with one sentence for the first bad setting. `model_given`: the model comes
  as an object (evaluation.benchmark), not from a folder; --output_dir is then required."""
  if model_given:
    if not s.output_dir or not s.dataset:
      raise UserError('evaluating a given model needs a dataset and an output folder')
  elif not s.model_dir and not s.madry_ckpt_dir:
    raise UserError('give --model_dir (a folder train.py wrote) or --madry_ckpt_dir (Madry\'s '
                    'checkpoint) to evaluate')
  if s.madry_target and s.dataset is None:
    raise UserError('evaluating a Madry checkpoint needs --dataset (mnist or cifar10)')
  if s.num_examples is not None and s.num_examples <= 0:
    raise UserError(f'--num_examples must be > 0, got {s.num_examples}')
  if s.dataset is not None:
    test_size = get_spec(s.dataset).split_sizes['test']
    if s.num_examples is not None and s.num_examples > test_size:
      raise UserError(f'--num_examples {s.num_examples} exceeds the {test_size} test images of {s.dataset}')
  if s.eval_batch_size <= 0:
    raise UserError(f'--eval_batch_size must be > 0, got {s.eval_batch_size}')
  if s.strategy not in STRATEGIES:
    raise UserError(f'--strategy must be one of {", ".join(STRATEGIES)}, got {s.strategy!r}')
  if s.attack_precision not in PRECISIONS:
    raise UserError(f'--attack_precision must be one of {", ".join(PRECISIONS)}, got '
                    f'{s.attack_precision!r}')
  if s.kappa < 0:
    raise UserError(f'--kappa must be >= 0, got {s.kappa}')
  for suite in s.suites:
    if suite not in SUITES:
      raise UserError(f'unknown --suite {suite!r}; choose from {", ".join(SUITES)}')
  if s.epsilon is not None:
    pixel_max = get_spec(s.dataset).pixel_max if s.dataset else None
    if not 0 < s.epsilon < (pixel_max or float('inf')):
      raise UserError(f'--epsilon must be > 0 and below the data range, got {s.epsilon} '
                      '(unbounded attacks are the unbounded suite)')
  if 'transfer' in s.suites and not s.transfer_sources:
    raise UserError('--suite=transfer needs --transfer_sources=name=folder[+folder...],... '
                    '(the models its attacks are crafted on)')
  s.transfer_source_folders  # pylint: disable=pointless-statement  (parses: UserError if bad)
  folders = [(s.model_dir or None, '--model_dir')]
  if s.blackbox_source and s.blackbox_source != MADRY_SOURCE:
    folders += [(path, '--blackbox_source') for path in s.source_folders()]
  for path, flag in folders:
    if path is not None and not os.path.isdir(path):
      raise UserError(f'{flag} {path} is not a folder')
  if s.madry_target or s.blackbox_source == MADRY_SOURCE:
    path = s.madry_path()
    if not (os.path.isdir(path) or os.path.isfile(path + '.index')):
      raise UserError(f'no Madry checkpoint at --madry_ckpt_dir {path}: fetch one with '
                      '`python -m madry_compat.fetch <dataset> adv_trained` (docs/usage.md)')
  if s.transfer_cache_dir and os.path.isfile(s.transfer_cache_dir):
    raise UserError(f'--transfer_cache_dir {s.transfer_cache_dir} is a file, not a folder')
  out = s.resolved_output_dir()
  if os.path.isfile(out):
    raise UserError(f'--output_dir {out} is a file, not a folder')
  if s.manual_dir is not None and not os.path.isdir(s.manual_dir):
    raise UserError(f'--manual_dir {s.manual_dir} is not a folder')
  return s
