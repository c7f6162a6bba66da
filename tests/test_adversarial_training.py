"""Adversarial training (Eq. 1) in the training step."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from data_input.specs import get_spec
from madry_compat import build_model
from training.config import TrainConfig
from training.step import make_train_step
from training.optimization import build_optimizer

SPEC = get_spec('cifar10')
IMAGES = tf.random.stateless_uniform([8, 32, 32, 3], seed=[1, 2], maxval=255.0)
LABELS = tf.constant([0, 1, 2, 3, 4, 5, 6, 7], tf.int64)


def _one_step(**overrides):
  cfg = dataclasses.replace(TrainConfig(dataset='cifar10', depth=10, width=1, batch_size=8),
                            **overrides).resolved()
  keras.utils.set_random_seed(0)
  model = build_model('cifar10', 10, 1, cfg.weight_decay, precision=cfg.precision)
  optimizer = build_optimizer(cfg)
  optimizer.build(model.trainable_variables)
  out = make_train_step(model, optimizer, SPEC, cfg)(IMAGES, LABELS)
  return model, out


def _weights(model, which='trainable'):
  variables = model.trainable_variables if which == 'trainable' else model.non_trainable_variables
  return [v.numpy() for v in variables]


def test_zero_epsilon_adversarial_training_is_natural_training():
  natural, natural_out = _one_step()
  adversarial, adv_out = _one_step(adv_train=True, adv_epsilon=0.0, adv_random_start=False,
                                   adv_bn_training=False)
  assert float(adv_out['xent']) == float(natural_out['xent'])
  for a, b in zip(_weights(natural), _weights(adversarial)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_adversarial_examples_raise_the_training_loss():
  _, natural_out = _one_step()
  _, adv_out = _one_step(adv_train=True)  # Madry's CIFAR defaults: PGD-7, eps 8, step 2
  assert float(adv_out['xent']) > float(natural_out['xent'])


def test_eq1_mixes_clean_and_adversarial_losses():
  _, clean = _one_step()
  _, adv = _one_step(adv_train=True, adv_bn_training=False)
  _, half = _one_step(adv_train=True, adv_bn_training=False, adv_clean_weight=0.5)
  assert min(clean['xent'], adv['xent']) < half['xent'] < max(clean['xent'], adv['xent'])


def test_bn_training_mode_attack_updates_batch_norm_statistics():
  eval_mode, _ = _one_step(adv_train=True, adv_bn_training=False)
  train_mode, _ = _one_step(adv_train=True, adv_bn_training=True)
  # Madry's CIFAR graph attacks in training mode: each of the 7 attack passes also moves
  # the moving averages, so they end up elsewhere than after the single training pass.
  differs = [not np.allclose(a, b) for a, b in
             zip(_weights(eval_mode, 'stats'), _weights(train_mode, 'stats'))]
  assert any(differs)


def test_bfloat16_adversarial_training_attacks_with_bfloat16_gradients():
  model, out = _one_step(adv_train=True, precision='bfloat16')
  assert {l.compute_dtype for l in model.layers} >= {'bfloat16'}  # the training attack's model
  _, fp32 = _one_step(adv_train=True)
  assert np.isfinite(float(out['xent']))
  assert float(out['xent']) == pytest.approx(float(fp32['xent']), rel=0.05)  # the same attack
