"""Reads and writes Madry's public TF1 checkpoints (mnist_challenge, cifar10_challenge).

Variables are matched by name, explicitly: MNIST's are positional (`Variable` ...
`Variable_7`), CIFAR's follow the variable scopes of Madry's model.py, which our layer
names mirror (`unit_1_0__sub2__BatchNorm` <-> `unit_1_0/sub2/BatchNorm/...`). No `.meta`
graph is needed; optimizer slots and `global_step` are ignored; every model weight must be
assigned, or loading fails naming what is missing, unexpected or of the wrong shape.
"""

import os
import re

import keras
import numpy as np
import tensorflow as tf

from data_input.specs import get_spec
from madry_compat import mnist_cnn
from madry_compat import wide_resnet
from madry_compat.models import build_model
from run_support.errors import UserError

_IGNORED = re.compile(r'(^global_step$|^beta[12]_power$|/Momentum$|/Adam(_1)?$)')
_BN_ORDER = ('gamma', 'beta', 'moving_mean', 'moving_variance')  # Keras BN weight order


def resolve_prefix(path):
  """A checkpoint prefix from a prefix or a folder holding a TF1 `checkpoint` state file."""
  if os.path.isdir(path):
    prefix = tf.train.latest_checkpoint(path)
    if prefix is None:
      raise UserError(f'{path} has no TF1 "checkpoint" state file naming a checkpoint')
    return prefix
  if os.path.isfile(path + '.index'):
    return path
  raise UserError(f'no checkpoint at {path} (expected a folder or a prefix with .index/.data files)')


def read_checkpoint(prefix):
  """{name: numpy value} of the model variables in a TF1 checkpoint (slots skipped)."""
  try:
    reader = tf.train.load_checkpoint(prefix)
    names = reader.get_variable_to_shape_map()
    return {n: reader.get_tensor(n) for n in names if not _IGNORED.search(n)}
  except (tf.errors.OpError, ValueError, IndexError) as e:
    raise UserError(f'cannot read checkpoint {prefix} (truncated or not a TF checkpoint): '
                    f'{str(e).splitlines()[0]}') from None


def read_global_step(prefix):
  """The checkpoint's `global_step` variable, else the number ending its prefix
  (checkpoint-70000), else None."""
  try:
    reader = tf.train.load_checkpoint(prefix)
    if reader.has_tensor('global_step'):
      return int(reader.get_tensor('global_step'))
  except (tf.errors.OpError, ValueError, IndexError):
    pass
  match = re.search(r'-(\d+)$', prefix)
  return int(match.group(1)) if match else None


_KIND_NAMES = {'mnist_cnn': 'MNIST', 'wide_resnet': 'CIFAR'}


def checkpoint_architecture(values):
  """'mnist_cnn' or 'wide_resnet' (madry_compat.models.ARCHITECTURES) from the variable
  names of a Madry checkpoint."""
  if 'Variable' in values:
    return 'mnist_cnn'
  if 'input/init_conv/DW' in values:
    return 'wide_resnet'
  raise UserError('not a Madry checkpoint: neither MNIST\'s "Variable" nor CIFAR\'s '
                  '"input/init_conv/DW" is in it')


def tf1_names(model):
  """[(Keras weight, Madry's TF1 name)] for every weight of one of our Madry models."""
  pairs = []
  if model.name.startswith('madry_mnist'):
    names = mnist_cnn.tf1_variable_names()
    for layer in mnist_cnn.TF1_LAYER_ORDER:
      l = model.get_layer(layer)
      pairs += [(l.kernel, names[(layer, 'kernel')]), (l.bias, names[(layer, 'bias')])]
    return pairs
  for layer in model.layers:
    scope = wide_resnet.tf1_scope(layer.name)
    if isinstance(layer, keras.layers.BatchNormalization):
      pairs += [(w, f'{scope}/{n}') for w, n in zip(
          (layer.gamma, layer.beta, layer.moving_mean, layer.moving_variance), _BN_ORDER)]
    elif isinstance(layer, keras.layers.Conv2D):
      pairs.append((layer.kernel, f'{scope}/DW'))
    elif isinstance(layer, keras.layers.Dense):
      pairs += [(layer.kernel, f'{scope}/DW'), (layer.bias, f'{scope}/biases')]
  return pairs


def _wide_resnet_shape(values):
  units = {m.group(1) for n in values if (m := re.match(r'unit_1_(\d+)/', n))}
  depth = 6 * len(units) + 4
  width = values['unit_1_0/sub1/conv1/DW'].shape[-1] // 16
  classes = values['logit/DW'].shape[-1]
  return depth, width, classes


def _model_for(values, dataset, precision='float32'):
  """Madry's model for `dataset` shaped to fit `values` ({TF1 name: array-like})."""
  if checkpoint_architecture(values) == 'mnist_cnn':
    classes = values['Variable_7'].shape[-1] if 'Variable_7' in values else None
    return build_model(dataset, num_classes=classes, precision=precision)
  depth, width, classes = _wide_resnet_shape(values)
  return build_model(dataset, depth, width, num_classes=classes, precision=precision)


def precision_twin(model, dataset, precision):
  """The same Madry model (same weights) computing in `precision` ('float32' or 'bfloat16');
  e.g. to craft attacks with bfloat16 gradients and score them on the float32 original."""
  twin = _model_for({name: w for w, name in tf1_names(model)}, dataset, precision)
  twin.set_weights(model.get_weights())
  return twin


def load_madry_checkpoint(path, dataset):
  """A Keras model holding exactly the weights of Madry's checkpoint at `path`.

  `dataset` is 'mnist' or 'cifar10' (also 'cifar100'); inputs are in Madry's ranges (MNIST
  [0, 1] with shape (N, 28, 28, 1), CIFAR [0, 255] floats) and the output is logits.
  """
  prefix = resolve_prefix(path)
  values = read_checkpoint(prefix)
  kind = checkpoint_architecture(values)
  wanted = get_spec(dataset).architecture
  if kind != wanted:
    raise UserError(f'{prefix} is a Madry {_KIND_NAMES[kind]} checkpoint, but --dataset={dataset} '
                    f'takes his {_KIND_NAMES[wanted]} architecture')
  try:
    model = _model_for(values, dataset)
  except KeyError as e:
    raise UserError(f'{prefix}: variable {e} is missing') from None
  pairs = tf1_names(model)
  expected = {name for _, name in pairs}
  missing = sorted(expected - set(values))
  unexpected = sorted(set(values) - expected)
  wrong = sorted(f'{n} {list(values[n].shape)} (model {list(w.shape)})' for w, n in pairs
                 if n in values and tuple(values[n].shape) != tuple(w.shape))
  problems = [f'{label}: {", ".join(items[:10])}{" ..." if len(items) > 10 else ""}'
              for label, items in (('missing', missing), ('unexpected', unexpected),
                                   ('wrong shape', wrong)) if items]
  if problems:
    raise UserError(f'{prefix} does not fit Madry\'s {dataset} model: {"; ".join(problems)}')
  for weight, name in pairs:
    weight.assign(values[name].astype(np.float32))
  return model


def save_madry_checkpoint(model, prefix, global_step=None):
  """Writes `model`'s weights under Madry's TF1 names (V2 checkpoint + `checkpoint` file),
  and `global_step` when given, so Madry's own TF1 scripts can restore models trained
  here."""
  pairs = tf1_names(model)
  folder = os.path.dirname(os.path.abspath(prefix))
  os.makedirs(folder, exist_ok=True)
  names = [n for _, n in pairs]
  tensors = [tf.convert_to_tensor(w) for w, _ in pairs]
  if global_step is not None:
    names.append('global_step')
    tensors.append(tf.constant(global_step, tf.int64))
  tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[''] * len(names),
                    tensors=tensors)
  with open(os.path.join(folder, 'checkpoint'), 'w') as f:
    name = os.path.basename(prefix)
    f.write(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')
  return prefix
