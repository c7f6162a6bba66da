"""What an evaluation run is; validated without TensorFlow so bad input fails at once."""

import dataclasses
import os
from typing import Optional

from data_input.specs import get_spec
from run_support.errors import UserError

# Suite names (their attacks are in evaluation/suites.py, which needs TensorFlow).
SUITES = ('paper_whitebox', 'paper_blackbox', 'restarts', 'steps', 'unbounded')


@dataclasses.dataclass(frozen=True)
class EvalSettings:
  model_dir: str
  dataset: Optional[str] = None          # default: the dataset the model was trained on
  num_examples: Optional[int] = None     # first N test images; default all
  eval_batch_size: int = 200
  suites: tuple = ('paper_whitebox',)
  attacks: tuple = ()                    # custom `name:key=value,...` specs
  blackbox_source: Optional[str] = None
  output_dir: Optional[str] = None       # default model_dir/eval
  seed: int = 0
  kappa: float = 50.0
  data_dir: Optional[str] = None
  manual_dir: Optional[str] = None
  download: bool = False

  def resolved_output_dir(self):
    return self.output_dir or os.path.join(self.model_dir, 'eval')

  def identity(self):
    """What every result in output_dir depends on; a rerun must match to add to them.
    (Black-box results also record their source model, per attack.)"""
    return {'model_dir': os.path.abspath(self.model_dir), 'dataset': self.dataset,
            'num_examples': self.num_examples, 'seed': self.seed}


def validate(s):
  """UserError with one sentence for the first bad setting."""
  if not s.model_dir:
    raise UserError('--model_dir is required (a folder train.py wrote)')
  if s.num_examples is not None and s.num_examples <= 0:
    raise UserError(f'--num_examples must be > 0, got {s.num_examples}')
  if s.dataset is not None:
    test_size = get_spec(s.dataset).split_sizes['test']
    if s.num_examples is not None and s.num_examples > test_size:
      raise UserError(f'--num_examples {s.num_examples} exceeds the {test_size} test images of {s.dataset}')
  if s.eval_batch_size <= 0:
    raise UserError(f'--eval_batch_size must be > 0, got {s.eval_batch_size}')
  if s.kappa < 0:
    raise UserError(f'--kappa must be >= 0, got {s.kappa}')
  for suite in s.suites:
    if suite not in SUITES:
      raise UserError(f'unknown --suite {suite!r}; choose from {", ".join(SUITES)}')
  if not s.suites and not s.attacks:
    raise UserError('nothing to run: give --suite and/or --attacks')
  for path, flag in ((s.model_dir, '--model_dir'), (s.blackbox_source, '--blackbox_source')):
    if path is not None and not os.path.isdir(path):
      raise UserError(f'{flag} {path} is not a folder')
  out = s.resolved_output_dir()
  if os.path.isfile(out):
    raise UserError(f'--output_dir {out} is a file, not a folder')
  if s.manual_dir is not None and not os.path.isdir(s.manual_dir):
    raise UserError(f'--manual_dir {s.manual_dir} is not a folder')
  return s
