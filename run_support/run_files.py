"""Names of the files the entry points write into a run folder (and read back)."""

# train.py, in --model_dir
MODEL_FILE = 'model.keras'
METRICS_FILE = 'final_metrics.json'
CONFIG_FILE = 'run_config.json'
FLAGS_FILE = 'flags.cfg'
CHECKPOINT_SUBDIR = 'checkpoints'
SUMMARY_SUBDIR = 'summaries'
# Madry's TF1 checkpoint folders: the state file naming the latest checkpoint prefix
MADRY_STATE_FILE = 'checkpoint'
# eval.py, in --output_dir (default <model>/eval)
EVAL_SUBDIR = 'eval'
RESULTS_JSON = 'results.json'
RESULTS_MD = 'results.md'
# diagnose.py, in --output_dir
DIAGNOSTICS_JSON = 'diagnostics.json'
