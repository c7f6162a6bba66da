"""The one formula for seeds derived from a base seed and an index (a training step, an
evaluation batch, a chunk of Square's queries): each index gets its own random stream, and
a rerun with the same base seed gets the same streams."""

# A prime larger than any index used, so that different (seed, index) pairs do not collide.
SEED_STRIDE = 1000003


def derived_seed(seed, index):
  """seed * SEED_STRIDE + index; works on Python ints and on integer tensors."""
  return seed * SEED_STRIDE + index
