"""The README's quick start, run as a new user would: its commands in order, on tiny
budgets, in a temporary folder. Each must succeed."""

import os
import re
import shlex
import subprocess
import sys

from conftest import MNIST_DIR
from conftest import REPO_ROOT
from conftest import needs_mnist

# Budgets shrunk for the test (the README's own figures come from the full commands).
_TINY = ((r'--train_steps=\d+', '--train_steps=30'), (r'--num_examples=\d+', '--num_examples=20'))


def quick_start_commands():
  """The commands of the first bash block under the README's "## Quick start" heading."""
  with open(os.path.join(REPO_ROOT, 'README.md')) as f:
    text = f.read()
  section = text[text.index('\n## Quick start'):]
  block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
  lines = block.replace('\\\n', ' ').splitlines()
  return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


def test_the_quick_start_has_the_commands_a_new_user_needs():
  programs = [shlex.split(c)[1] for c in quick_start_commands()]
  assert programs[:2] == ['train.py', 'train.py'] and 'eval.py' in programs
  assert 'diagnose.py' in programs


@needs_mnist
def test_quick_start_commands_run_in_order(tmp_path):
  env = dict(os.environ, TFDS_DATA_DIR=str(tmp_path / 'tfds'))
  for command in quick_start_commands():
    for pattern, tiny in _TINY:
      command = re.sub(pattern, tiny, command)
    command = command.replace('runs/', f'{tmp_path}/runs/').replace('../shared/data/mnist', MNIST_DIR)
    args = shlex.split(command)
    assert args[0] == 'python', command
    if args[1] == 'diagnose.py':
      args += ['--landscape_examples=1', '--landscape_points=3']
    if args[1] == 'train.py':  # short final accuracy passes: 100 test, 5,000 training images
      args += ['--final_eval_examples=100', '--train_holdout=55000']
    result = subprocess.run([sys.executable, *args[1:]], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f'{command}\n{result.stderr[-3000:]}'
  assert (tmp_path / 'runs' / 'quick' / 'ls' / 'eval' / 'first20' / 'results.json').exists()
  assert (tmp_path / 'runs' / 'quick' / 'diagnostics' / 'diagnostics.json').exists()


@needs_mnist
def test_python_example_evaluates_a_keras_model_the_project_did_not_build(tmp_path, monkeypatch):
  """The README's Python example, run as written on a small Keras model of our own making
  (and 50 images instead of 1,000)."""
  import keras  # pylint: disable=g-import-not-at-top
  with open(os.path.join(REPO_ROOT, 'README.md')) as f:
    text = f.read()
  section = text[text.index('\n## Evaluate your own Keras model'):]
  code = re.search(r'```python\n(.*?)```', section, re.S).group(1)
  assert len(code.strip().splitlines()) <= 5
  code = code.replace('num_examples=1000', 'num_examples=50').replace(
      '../shared/data/mnist', MNIST_DIR)
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(10)])
  monkeypatch.chdir(tmp_path)
  namespace = {'my_keras_model': model}
  exec(compile(code, 'README example', 'exec'), namespace)  # pylint: disable=exec-used
  result = namespace['result']
  assert result['n_examples'] == 50 and 0 <= result['autoattack_acc'] <= result['clean_acc']
  assert (tmp_path / 'runs' / 'my_model_eval' / 'results.json').exists()
