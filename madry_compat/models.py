"""One entry point that builds the right Madry architecture for a dataset."""

from madry_compat.mnist_cnn import build_mnist_cnn
from madry_compat.precision import compute_policy
from madry_compat.wide_resnet import build_wide_resnet


def build_model(dataset, depth=34, width=10, weight_decay=2e-4, num_classes=None,
                precision='float32'):
  """Madry's architecture for a dataset.

  Args:
    dataset: 'mnist' (Madry's CNN; depth, width and weight_decay unused), 'cifar10' or
      'cifar100' (Madry's WideResNet).
    depth, width: WideResNet depth (6n+4; Madry's 34) and width.
    weight_decay: Madry's weight decay, as kernel L2 losses.
    num_classes: defaults to the dataset's.
    precision: 'float32', or 'bfloat16' (mixed: bfloat16 compute, float32 variables and
      float32 logits; madry_compat/precision.py).

  Returns:
    A Keras model taking Madry-scale images and returning float32 logits.
  """
  with compute_policy(precision):
    if dataset == 'mnist':
      return build_mnist_cnn(num_classes or 10)
    if dataset in ('cifar10', 'cifar100'):
      classes = num_classes or (100 if dataset == 'cifar100' else 10)
      return build_wide_resnet(depth, width, classes, weight_decay)
  raise ValueError(f'no Madry model for dataset {dataset!r}')
