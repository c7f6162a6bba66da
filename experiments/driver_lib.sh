# Shared by the study drivers (experiments/mnist_paper_budget.sh, experiments/cifar10_subset.sh),
# which set ROWS (lines "name:flagfile[:extra flags]"), RUNS (the run folders) and PARKED
# (committed checkpoints of unfinished runs) before sourcing this file.

# run COMMAND...: prints the command, runs it, prints its wall time.
run() {
  echo "+ $*"
  local start=$SECONDS
  "$@"
  echo "= $(( SECONDS - start )) s: $*"
}

# in_list "WORDS" WORD: WORD is one of the space-separated WORDS.
in_list() { [[ " $1 " == *" $2 "* ]]; }

# for_rows FUNCTION [ROW]: FUNCTION name flagfile extra, for every row (or only ROW).
for_rows() {
  local row name flagfile extra found=
  for row in $ROWS; do
    IFS=: read -r name flagfile extra <<< "$row"
    [ -n "${2:-}" ] && [ "$name" != "$2" ] && continue
    found=1
    "$1" "$name" "$flagfile" "$extra"
  done
  [ -n "$found" ] || { echo "no such row: $2" >&2; exit 2; }
}

# A run that cannot finish in one sitting is parked: its newest checkpoint (weights, the
# optimizer's state, the step and the training time so far), its settings and its training
# segments go into $PARKED/<row>/, which is committed, so that `train` resumes it on
# another machine too.
# `ship` deletes the parked copy once the run is done.
park_row() {
  [ -f "$RUNS/$1/final_metrics.json" ] && { echo "done, nothing to park: $1"; return; }
  local ckpts="$RUNS/$1/checkpoints" newest
  [ -f "$ckpts/checkpoint" ] || { echo "no checkpoint to park: $1"; return; }
  newest=$(sed -n 's/^model_checkpoint_path: "\(.*\)"$/\1/p' "$ckpts/checkpoint")
  rm -rf "${PARKED:?}/$1" && mkdir -p "$PARKED/$1/checkpoints"
  cp "$RUNS/$1/run_config.json" "$RUNS/$1/flags.cfg" "$PARKED/$1/"
  # which machine trained which steps (runs from before it was recorded have none)
  if [ -f "$RUNS/$1/training_segments.json" ]; then cp "$RUNS/$1/training_segments.json" "$PARKED/$1/"; fi
  cp "$ckpts/$newest".* "$PARKED/$1/checkpoints/"
  printf 'model_checkpoint_path: "%s"\nall_model_checkpoint_paths: "%s"\n' "$newest" "$newest" \
      > "$PARKED/$1/checkpoints/checkpoint"
  echo "parked $1 at $newest in $PARKED/$1 (commit it)"
}

# unpark_row NAME: a run parked elsewhere and absent here starts from its parked copy.
unpark_row() {
  if [ ! -d "$RUNS/$1" ] && [ -d "$PARKED/$1" ]; then
    mkdir -p "$RUNS" && cp -r "$PARKED/$1" "$RUNS/$1"
  fi
}
