"""Label smoothing and logit squeezing (Shafahi et al.) in TensorFlow 2 / Keras 3."""

import setuptools

setuptools.setup(
    name='ls-logit-squeeze',
    version='0.1.0',
    description=('Reference TF2/Keras replication of Shafahi et al., "Label Smoothing and Logit '
                 'Squeezing: A Replacement for Adversarial Training?"'),
    python_requires='>=3.10',
    # The library only: the entry points (train.py, eval.py, diagnose.py) and the scripts in
    # experiments/ and bench/ run from the repository (python -m experiments.<name>).
    packages=setuptools.find_packages(include=[
        'attacks', 'attacks.*', 'data_input', 'data_input.*', 'diagnostics', 'diagnostics.*',
        'evaluation', 'evaluation.*', 'madry_compat', 'madry_compat.*', 'regularizers',
        'regularizers.*', 'run_support', 'run_support.*', 'training', 'training.*']),
    install_requires=[
        'tensorflow>=2.21,<2.22',      # bundles Keras 3
        'tensorboard>=2.21,<2.22',     # tf.summary needs it; TF 2.21 no longer pulls it in
        'tensorflow-datasets>=4.9,<5',
        'importlib_resources',         # tfds 4.9 needs it on Python 3.11 but does not declare it
        'numpy',
        'absl-py',
        'matplotlib',
    ],
    extras_require={
        'test': ['pytest', 'pytest-xdist', 'cleverhans>=4.0'],  # cleverhans: independent cross-check of attacks
        'bench': ['adversarial-robustness-toolbox'],  # bench/vs_madry.py's library peers
        # experiments/reference_agreement.py: the reference AutoAttack (Croce & Hein's code,
        # PyTorch; PyPI's torch brings CUDA libraries, several GB) and IBM ART
        'reference': ['torch', 'pyautoattack', 'adversarial-robustness-toolbox'],
    },
)
