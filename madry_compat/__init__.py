"""Keras 3 ports of Madry et al.'s MNIST CNN and CIFAR WideResNet (`model.py` of the
mnist_challenge and cifar10_challenge repositories), with layer names that map one-to-one
onto Madry's TF1 variable names."""

from madry_compat.models import build_model
