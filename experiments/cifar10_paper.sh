#!/usr/bin/env bash
# The paper's CIFAR-10 tables at the paper's scale, for users with GPUs: one command per
# table. NEVER RUN HERE (this project has no GPU and no full CIFAR-10); `estimate` gives the
# expected hours from the rows' FLOPs (experiments/gpu_estimate.py), an estimate only.
#
#   bash experiments/cifar10_paper.sh estimate TABLE  # expected GPU hours of TABLE's rows
#   bash experiments/cifar10_paper.sh train TABLE     # train TABLE's rows (resumes)
#   bash experiments/cifar10_paper.sh evaluate TABLE  # TABLE's evaluation on all 10,000 test images
#
# TABLE: 3 (white-box, the short table), 4 (black-box from Madry's adversarially trained
# model, on Table 3's rows), 7 and 8 (every CIFAR-10 row of the appendix), 9-11 (the
# sanity checks on the beta 10, sigma 30, 160k row). Table 4/8 fetch Madry's released
# checkpoint first (python -m madry_compat.fetch cifar10 adv_trained). RUNS (default
# runs/cifar10_paper) holds the runs; tfds downloads CIFAR-10 unless --nodownload is in
# TRAIN_FLAGS; TRAIN_FLAGS adds flags to every train.py (e.g. --strategy=mirrored).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/cifar10_paper}
TRAIN_FLAGS=${TRAIN_FLAGS:-}
MADRY_DIR=models/madry_cifar10
source experiments/driver_lib.sh

# Table 3's rows (configs/paper/<row>.cfg), Madry's baseline last (configs/madry/).
TABLE3="paper/cifar10_alpha0.95_beta0_sigma20_k160k paper/cifar10_alpha0.95_beta0_sigma30_k160k
paper/cifar10_alpha0.95_beta0_sigma30_k240k paper/cifar10_alpha0.8_beta0_sigma30_k320k
paper/cifar10_alpha0_beta10_sigma20_k160k paper/cifar10_alpha0_beta10_sigma30_k80k
paper/cifar10_alpha0_beta10_sigma30_k160k madry/cifar10_adv_pgd7"
TABLE4="$TABLE3 paper/cifar10_alpha0_beta10_sigma20_k80k"
TABLE7="$(cd configs && ls paper/cifar10_*.cfg | sed 's/\.cfg$//') madry/cifar10_adv_pgd7"
CHECKED=paper/cifar10_alpha0_beta10_sigma30_k160k  # Tables 9-11's model

rows_of() {
  case "$1" in
    3) echo "$TABLE3" ;;
    4) echo "$TABLE4" ;;
    7|8) echo "$TABLE7" ;;
    9-11) echo "$CHECKED" ;;
    *) echo "unknown table: $1 (3, 4, 7, 8 or 9-11)" >&2; exit 2 ;;
  esac
}

train_rows() {
  local row
  for row in $(rows_of "$1"); do
    # shellcheck disable=SC2086
    run python train.py --flagfile="configs/$row.cfg" --model_dir="$RUNS/${row#*/}" \
        --checkpoint_every=2000 --keep_checkpoints=5 $TRAIN_FLAGS
  done
}

evaluate_rows() {
  local row suites source=()
  case "$1" in
    3|7) suites=paper_whitebox ;;
    4|8) suites=paper_blackbox
         [ -d "$MADRY_DIR/adv_trained" ] || run python -m madry_compat.fetch cifar10 adv_trained --dir="$MADRY_DIR"
         source=(--blackbox_source=madry_ckpt --madry_ckpt_dir="$MADRY_DIR/adv_trained") ;;
    9-11) suites=unbounded,restarts,steps ;;
  esac
  for row in $(rows_of "$1"); do
    [ -f "$RUNS/${row#*/}/final_metrics.json" ] || { echo "not trained yet: $row"; continue; }
    run python eval.py --model_dir="$RUNS/${row#*/}" --suite="$suites" "${source[@]}"
  done
}

[ $# -eq 2 ] || { echo "usage: $0 estimate|train|evaluate TABLE" >&2; exit 2; }
rows_of "$2" > /dev/null  # an unknown table stops here, in one line
case "$1" in
  estimate)
    files=$(for row in $(rows_of "$2"); do printf 'configs/%s.cfg,' "$row"; done)
    run python -m experiments.gpu_estimate --flagfiles="${files%,}" \
        --output="bench/results/gpu_estimate_table$2.json" ;;
  train) train_rows "$2" ;;
  evaluate) evaluate_rows "$2" ;;
  *) echo "usage: $0 estimate|train|evaluate TABLE" >&2; exit 2 ;;
esac
