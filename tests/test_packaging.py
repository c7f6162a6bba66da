"""Only the library is installed; scripts find it without editing sys.path."""

import glob
import os
import re

from conftest import REPO_ROOT

LIBRARY = ('attacks', 'data_input', 'diagnostics', 'evaluation', 'madry_compat', 'regularizers',
           'run_support', 'training')


def test_setup_installs_the_library_packages_and_nothing_else():
  text = open(os.path.join(REPO_ROOT, 'setup.py')).read()
  included = set(re.findall(r"'([a-z_]+)'(?=[,\]])", text[text.index('find_packages'):
                                                         text.index('install_requires')]))
  assert included == set(LIBRARY)
  assert 'py_modules' not in text


def test_no_script_edits_sys_path():
  ours = [path for path in glob.glob(os.path.join(REPO_ROOT, '**', '*.py'), recursive=True)
          if 'site-packages' not in path and not path.endswith('test_packaging.py')]  # glob skips .venv
  offenders = [path for path in ours if 'sys.path.insert' in open(path).read()]
  assert not offenders
