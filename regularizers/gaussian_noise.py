"""Gaussian noise augmentation, standard deviation sigma in pixel units (training only)."""

import tensorflow as tf


def add_gaussian_noise(images, sigma, seed, training, clip_range=None):
  """Gaussian noise augmentation.

  Args:
    images: a batch in the dataset's pixel units.
    sigma: standard deviation in pixel units.
    seed: a stateless seed (shape [2] int): the same seed gives the same noise, so a
      resumed run draws exactly the noise an uninterrupted one would.
    training: add noise only when True.
    clip_range: a (low, high) pair clips the noisy images to the data range; None leaves
      them unclipped.

  Returns:
    images + N(0, sigma^2) when training, else images.
  """
  if not training or sigma == 0:
    return images
  noisy = images + sigma * tf.random.stateless_normal(tf.shape(images), seed, dtype=images.dtype)
  if clip_range is not None:
    noisy = tf.clip_by_value(noisy, clip_range[0], clip_range[1])
  return noisy


def build(cfg, spec):
  """The training step's noise (registry place 'inputs'), or None at sigma 0."""
  if cfg.sigma == 0:
    return None
  clip_range = (0.0, spec.pixel_max) if cfg.clip_noise else None
  return lambda images, seed: add_gaussian_noise(images, cfg.sigma, seed, training=True,
                                                 clip_range=clip_range)
