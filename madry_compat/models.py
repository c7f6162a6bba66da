"""Madry's architectures by name, and one entry point that builds the one a dataset's
recipe names (data_input/specs.py: `architecture`)."""

from data_input.specs import get_spec
from madry_compat.mnist_cnn import build_mnist_cnn
from madry_compat.precision import compute_policy
from madry_compat.wide_resnet import build_wide_resnet

# name -> (depth, width, num_classes, weight_decay) -> Keras model. A new architecture is
# one module plus one entry here.
ARCHITECTURES = {
    'mnist_cnn': lambda depth, width, classes, weight_decay: build_mnist_cnn(classes),
    'wide_resnet': build_wide_resnet,
}


def build_model(dataset, depth=34, width=10, weight_decay=2e-4, num_classes=None,
                precision='float32'):
  """Madry's architecture for a dataset.

  Args:
    dataset: a registered dataset; its recipe names the architecture (MNIST: Madry's CNN,
      which ignores depth, width and weight_decay; CIFAR: Madry's WideResNet).
    depth, width: WideResNet depth (6n+4; Madry's 34) and width.
    weight_decay: Madry's weight decay, as kernel L2 losses.
    num_classes: defaults to the dataset's.
    precision: 'float32', or 'bfloat16' (mixed: bfloat16 compute, float32 variables and
      float32 logits; madry_compat/precision.py).

  Returns:
    A Keras model taking Madry-scale images and returning float32 logits.
  """
  spec = get_spec(dataset)
  with compute_policy(precision):
    return ARCHITECTURES[spec.architecture](depth, width, num_classes or spec.num_classes,
                                            weight_decay)
