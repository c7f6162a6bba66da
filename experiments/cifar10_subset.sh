#!/usr/bin/env bash
# The CIFAR-10 subset study (issue 31). PROXY SCALE, NOT COMPARABLE WITH THE PAPER'S NUMBERS:
# a WRN-10-2 trained on the 4,000 training images of ../shared/data/cifar10-subset and
# evaluated on its 1,000 test images (the official test file's first 1,000), at eps 8 in
# [0, 255] units. The rows' recipe and why: configs/cifar10_subset/natural.cfg. Each step
# skips what is done, so rerunning the same command resumes.
#
#   bash experiments/cifar10_subset.sh train [ROW]     # train every row (or ROW), 6,400 steps
#   bash experiments/cifar10_subset.sh rows [ROW]      # train, ship and evaluate each row in turn
#   bash experiments/cifar10_subset.sh park [ROW]      # unfinished runs' newest checkpoint, to commit
#   bash experiments/cifar10_subset.sh ship [ROW]      # models/cifar10_subset/<row>/ (Madry TF1)
#   bash experiments/cifar10_subset.sh evaluate [ROW]  # Tables 3, 4 (PGD-20, FGSM; black-box from natural)
#   bash experiments/cifar10_subset.sh table           # the paper's Tables 3, 4 beside ours (reads evaluate's)
#   bash experiments/cifar10_subset.sh curves          # clean / PGD-20 / FGSM every 400 steps (volatility)
#   bash experiments/cifar10_subset.sh verdict         # AutoAttack, transfer, eps curves
#   bash experiments/cifar10_subset.sh checks [ROW]    # Tables 9-11, early stop (default beta10_sigma20)
#   bash experiments/cifar10_subset.sh cost            # PGD-20 and AutoAttack against training cost
#   bash experiments/cifar10_subset.sh diagnose        # Eq. 4, Figures 10/11, loss landscapes
#
# RUNS (default runs/cifar10_subset) holds the training runs; CIFAR10_SUBSET (default
# ../shared/data/cifar10-subset) the subset's binary records. Every evaluation is on all
# 1,000 test images (--num_examples=1000, so one eval/first1000 folder per model), the
# curves on the first 500. Each command is printed with its wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/cifar10_subset}
DATA=${CIFAR10_SUBSET:-../shared/data/cifar10-subset}
MODELS=models/cifar10_subset
RESULTS=docs/results/cifar10_subset
PARKED=runs_parked/cifar10_subset
# row name : flagfile (configs/cifar10_subset/<flagfile>.cfg) [: extra train.py flags].
# natural first (the black-box source), then the transfer sources: the noise-only row and
# two more natural seeds (the ensemble; sources only, not judged).
ROWS="natural:natural
natural_seed1:natural:--seed=1
natural_seed2:natural:--seed=2
sigma20:sigma20
alpha0.95_sigma20:alpha0.95_sigma20
beta10_sigma20:beta10_sigma20
alpha0.95:alpha0.95
fast_fgsm_rs:fast_fgsm_rs
madry_adv_pgd7:madry_adv_pgd7"
SOURCE_ONLY="natural_seed1 natural_seed2"

source experiments/driver_lib.sh

# The shipped rows judged as models (every row but the sources-only ones), as NAME=FOLDER,...
judged_models() {
  local row name rest out=
  for row in $ROWS; do
    IFS=: read -r name rest <<< "$row"
    in_list "$SOURCE_ONLY" "$name" && continue
    [ -f "$MODELS/$name/model.json" ] && out+="$name=$MODELS/$name,"
  done
  echo "${out%,}"
}

train_row() {
  [ -f "$RUNS/$1/final_metrics.json" ] && { echo "done: $RUNS/$1"; return; }
  [ -f "$MODELS/$1/model.json" ] && { echo "shipped: $MODELS/$1"; return; }
  unpark_row "$1"
  local extra=()
  [ -n "$3" ] && IFS=, read -r -a extra <<< "$3"
  run python train.py --flagfile="configs/cifar10_subset/$2.cfg" --seed=0 --checkpoint_every=400 \
      --keep_checkpoints=20 "${extra[@]}" --manual_dir="$DATA" --model_dir="$RUNS/$1"
}

ship_row() {
  [ -f "$MODELS/$1/model.json" ] && { echo "shipped: $MODELS/$1"; return; }
  [ -f "$RUNS/$1/final_metrics.json" ] || { echo "not trained yet: $1"; return; }
  rm -rf "${PARKED:?}/$1"  # done: the parked copy is history
  run python -m experiments.ship_model --run_dir="$RUNS/$1" --row="$1" --group=cifar10_subset \
      --manual_dir="$DATA"
}

evaluate_row() {
  in_list "$SOURCE_ONLY" "$1" && { echo "a transfer source only, not evaluated: $1"; return; }
  [ -f "$MODELS/$1/model.json" ] || { echo "not shipped yet: $1"; return; }
  local suites=paper_whitebox source=()
  if [ "$1" != natural ]; then  # the natural row is the black-box source (Table 4)
    [ -f "$MODELS/natural/model.json" ] || { echo "needs $MODELS/natural first"; return; }
    suites=paper_whitebox,paper_blackbox
    source=(--blackbox_source="$MODELS/natural")
  fi
  run python eval.py --madry_ckpt_dir="$MODELS/$1" --dataset=cifar10 --suite="$suites" \
      "${source[@]}" --num_examples=1000 --manual_dir="$DATA" \
      --transfer_cache_dir="$RUNS/transfer_cache"
}

# One row from its training to its Table 3 and 4 figures, so each finished row is shipped
# and measured before the next one starts.
row_pipeline() {
  train_row "$@"
  ship_row "$1"
  evaluate_row "$1"
}

case "${1:-}" in
  train) for_rows train_row "${2:-}" ;;
  rows) for_rows row_pipeline "${2:-}" ;;
  park) for_rows park_row "${2:-}" ;;
  ship) for_rows ship_row "${2:-}" ;;
  evaluate) for_rows evaluate_row "${2:-}" ;;
  table)
    run python -m experiments.paper_table --dataset=cifar10 --models="$(judged_models)" \
        --results_subdir=eval/first1000 --output="$RESULTS" ;;
  curves)
    # Every run with checkpoints (finished runs' points name their weights).
    dirs=$(for row in $ROWS; do
      name=${row%%:*}
      in_list "$SOURCE_ONLY" "$name" && continue
      if [ -d "$RUNS/$name/checkpoints" ]; then printf '%s,' "$RUNS/$name"; fi
    done)
    [ -n "$dirs" ] || { echo "no run to measure in $RUNS"; exit 1; }
    run python -m experiments.learning_curves --run_dirs="${dirs%,}" --every=400 \
        --num_examples=500 --manual_dir="$DATA" --output="$RESULTS" ;;
  verdict)
    for needed in natural natural_seed1 natural_seed2 sigma20; do
      [ -f "$MODELS/$needed/model.json" ] || { echo "needs $MODELS/$needed first"; exit 1; }
    done
    sources=natural=$MODELS/natural,noise=$MODELS/sigma20
    sources+=,ensemble=$MODELS/natural+$MODELS/natural_seed1+$MODELS/natural_seed2
    run python -m experiments.robustness_report --dataset=cifar10 --models="$(judged_models)" \
        --transfer_sources="$sources" --num_examples=1000 --curve_num_examples=500 \
        --manual_dir="$DATA" --transfer_cache_dir="$RUNS/transfer_cache" --output="$RESULTS" ;;
  cost)
    # Reads the verdict's PGD-20 and AutoAttack (eval/first1000): run `verdict` first.
    run python -m experiments.cost_robustness --models="$(judged_models)" \
        --title='CIFAR-10 subset, WRN-10-2 (PROXY scale, not the paper'"'"'s)' \
        --output="$RESULTS" ;;
  checks)
    # The paper's own checks (Tables 9-11, there on a logit-squeezing WRN), all 1,000 images,
    # with --early_stop (each point keeps its first fooling iterate: at least as strong as
    # the final iterate). At this scale the squeezing row's PGD-20 already leaves 0.0%, and
    # the final-iterate sweep would take about 2M gradient passes (hours here) to show no more.
    # Their own folder, so eval/first1000 keeps the paper protocol's PGD-20.
    for name in ${2:-beta10_sigma20}; do
      [ -f "$MODELS/$name/model.json" ] || { echo "not shipped yet: $name"; continue; }
      run python eval.py --madry_ckpt_dir="$MODELS/$name" --dataset=cifar10 \
          --suite=steps,unbounded,restarts --early_stop --num_examples=1000 --manual_dir="$DATA" \
          --output_dir="$MODELS/$name/eval/checks_early_stop_first1000"
    done ;;
  diagnose)
    models=$(judged_models)
    dirs=$(for pair in ${models//,/ }; do printf '%s,' "${pair#*=}"; done)
    run python diagnose.py --model_dirs="${dirs%,}" --dataset=cifar10 --num_examples=500 \
        --manual_dir="$DATA" --output_dir="$RESULTS/diagnostics" ;;
  *) echo "usage: $0 train|rows|park|ship|evaluate|table|curves|verdict|checks|cost|diagnose [ROW]" >&2
     exit 2 ;;
esac
