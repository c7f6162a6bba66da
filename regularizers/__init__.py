"""The paper's three cheap regularizers as pure TensorFlow functions."""

from regularizers.gaussian_noise import add_gaussian_noise
from regularizers.label_smoothing import smooth_labels
from regularizers.logit_squeezing import logit_frobenius_norm
from regularizers.logit_squeezing import logit_squeeze_penalty
