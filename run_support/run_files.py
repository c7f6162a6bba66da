"""Names of the files the entry points write into a run folder (and read back), and which
kind of folder a path is."""

import os

# train.py, in --model_dir
MODEL_FILE = 'model.keras'
METRICS_FILE = 'final_metrics.json'
CONFIG_FILE = 'run_config.json'
FLAGS_FILE = 'flags.cfg'
CHECKPOINT_SUBDIR = 'checkpoints'
SEGMENTS_FILE = 'training_segments.json'  # each sitting's steps, seconds and machine
SUMMARY_SUBDIR = 'summaries'
# Madry's TF1 checkpoint folders: the state file naming the latest checkpoint prefix
MADRY_STATE_FILE = 'checkpoint'
# eval.py, in --output_dir (default <model>/eval)
EVAL_SUBDIR = 'eval'
RESULTS_JSON = 'results.json'
RESULTS_MD = 'results.md'
UNFINISHED_SUBDIR = 'unfinished'  # a cut-off white-box attack's finished batches
# diagnose.py, in --output_dir
DIAGNOSTICS_JSON = 'diagnostics.json'


def is_madry_checkpoint(path):
  """Whether `path` is Madry's TF1 checkpoint (a folder with its state file and no train.py
  model, or a checkpoint prefix) rather than a folder train.py wrote."""
  return (os.path.isfile(os.path.join(path, MADRY_STATE_FILE)) and
          not os.path.isfile(os.path.join(path, MODEL_FILE))) or os.path.isfile(path + '.index')
