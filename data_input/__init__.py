"""Dataset input: tfds (offline via manual files), raw-format readers, and batching.

Images are returned as uint8 NHWC arrays; `to_model_scale` maps them to Madry's pixel
scale (MNIST floats in [0, 1], CIFAR floats in [0, 255]).
"""
