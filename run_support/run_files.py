"""Names of the files train.py writes into a model_dir (read back by eval.py and others)."""

MODEL_FILE = 'model.keras'
METRICS_FILE = 'final_metrics.json'
CONFIG_FILE = 'run_config.json'
FLAGS_FILE = 'flags.cfg'
CHECKPOINT_SUBDIR = 'checkpoints'
SUMMARY_SUBDIR = 'summaries'
