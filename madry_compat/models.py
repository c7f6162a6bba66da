"""One entry point that builds the right Madry architecture for a dataset."""

from madry_compat.mnist_cnn import build_mnist_cnn
from madry_compat.wide_resnet import build_wide_resnet


def build_model(dataset, depth=28, width=10, weight_decay=2e-4, num_classes=None):
  """MNIST -> Madry's CNN (depth/width/weight_decay unused); CIFAR -> Madry's WideResNet."""
  if dataset == 'mnist':
    return build_mnist_cnn(num_classes or 10)
  if dataset in ('cifar10', 'cifar100'):
    classes = num_classes or (100 if dataset == 'cifar100' else 10)
    return build_wide_resnet(depth, width, classes, weight_decay)
  raise ValueError(f'no Madry model for dataset {dataset!r}')
