"""Compute precisions a model can train or craft attacks in (importable without TensorFlow):
float32, or bfloat16 (Keras mixed_bfloat16: bfloat16 compute, float32 variables and
logits; madry_compat/precision.py)."""

PRECISIONS = ('float32', 'bfloat16')
