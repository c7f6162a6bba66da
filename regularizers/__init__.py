"""The paper's three cheap regularizers as pure TensorFlow functions, and their table
(registry.py). The functions are imported on first use, so the table (and training/config.py,
which reads it) stay importable without TensorFlow."""

import importlib

_FUNCTIONS = {
    'add_gaussian_noise': 'regularizers.gaussian_noise',
    'smooth_labels': 'regularizers.label_smoothing',
    'smooth_targets': 'regularizers.label_smoothing',
    'logit_frobenius_norm': 'regularizers.logit_squeezing',
    'logit_squeeze_penalty': 'regularizers.logit_squeezing',
    'squeeze_weight': 'regularizers.logit_squeezing',
}


def __getattr__(name):
  if name in _FUNCTIONS:
    return getattr(importlib.import_module(_FUNCTIONS[name]), name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
