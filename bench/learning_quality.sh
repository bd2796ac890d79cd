#!/usr/bin/env bash
# Learning quality of the shipped train configs: one `graybox train` per (config, seed), the
# final return (mean of the last 10 training episodes) and a 10-episode deterministic evaluation
# in each run's summary.json.
#
#   bash bench/learning_quality.sh [OUT_DIR] [JOBS]          # default runs/learning-quality, 1 job
#   /usr/bin/python3 bench/learning_quality_table.py OUT_DIR   # the table: mean and 95 % interval
#
# RUNS lists "config total_steps" pairs (default: issue 12's rows: PPO Walker2d-v5 and
# HalfCheetah-v5 at 1M steps, SAC and TD3 on HalfCheetah-v5 and Hopper-v5 at 300k); SEEDS the
# seeds (default 1 2 3). Seed-major, so an unfinished pass still leaves complete seeds. The script
# can be killed at any moment and started again with the same arguments: finished runs are
# skipped, interrupted ones continue with --resume (bit-identical to an uninterrupted run).
#
# Each finished run's result (its summary.json with the commit that produced it) is also copied
# to RESULTS (default bench/results/learning-quality/CONFIG-STEPS/seedN.json), a directory kept in
# git: commit it, and a later checkout on another machine skips that run too. Run directories
# (checkpoints, replay buffers) are far too large for git and stay under OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/learning-quality}
jobs=${2:-1}
seeds=${SEEDS:-1 2 3}
runs=${RUNS:-"ppo_walker2d 1000000
ppo_half_cheetah 1000000
sac_half_cheetah 300000
td3_half_cheetah 300000
sac_hopper 300000
td3_hopper 300000"}
graybox=${GRAYBOX:-build/apps/graybox}
[ -x "$graybox" ] || { echo "no $graybox: build first (bash scripts/setup.sh)" >&2; exit 2; }
# The commit the binary was built from, kept beside each run (SEED_DIR.commit) for the table and
# so that a run is only resumed by the binary that started it (a resume is bit-identical only
# then): GRAYBOX_COMMIT, else a COMMIT file beside the binary, else the checkout's HEAD.
if [ -z "${GRAYBOX_COMMIT:-}" ]; then
  if [ -f "$(dirname "$graybox")/COMMIT" ]; then
    GRAYBOX_COMMIT=$(cat "$(dirname "$graybox")/COMMIT")
  else
    GRAYBOX_COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!runs' || echo -dirty)
  fi
fi
results=${RESULTS:-bench/results/learning-quality}
mkdir -p "$out" "$results"

list=$(for s in $seeds; do echo "$runs" | while read -r config steps; do
  [ -n "$config" ] && echo "$config $steps $s"; done; done)

run_one() {
  local config=$1 steps=$2 seed=$3
  local dir="$out/$config-$steps/seed$seed"
  local result="$results/$config-$steps/seed$seed.json"
  [ -f "$result" ] && return 0
  if [ -f "$dir/summary.json" ] && grep -q '"status": "finished"' "$dir/summary.json"; then
    record_result "$dir" "$result"
    return 0
  fi
  mkdir -p "$(dirname "$dir")"
  # A resumed run continues with its own config.yaml; one killed before its first checkpoint
  # has nothing to resume from and starts again.
  local args=("configs/train/$config.yaml" --set "seed=$seed" --set "total_steps=$steps" --set eval.episodes=10)
  if [ -f "$dir/config.yaml" ] && [ -e "$dir/checkpoints/latest" ]; then
    local started_by
    started_by=$(cat "$dir.commit" 2>/dev/null || echo unknown)
    if [ "$started_by" != "$GRAYBOX_COMMIT" ]; then
      echo "$(date +%H:%M:%S) $config seed $seed skipped: started by a binary of $started_by, this one is" \
        "$GRAYBOX_COMMIT (resume it with GRAYBOX=that binary)" >&2
      return 0
    fi
    args=(--resume)
  else
    rm -rf "$dir"
    echo "$GRAYBOX_COMMIT" > "$dir.commit"
  fi
  local started=$SECONDS
  "$graybox" train "${args[@]}" --out "$dir" --quiet >> "$dir.log" 2>&1 ||
    { echo "$(date +%H:%M:%S) $config seed $seed failed: see $dir.log" >&2; return 0; }
  if grep -q '"status": "finished"' "$dir/summary.json" 2>/dev/null; then
    record_result "$dir" "$result"
    echo "$(date +%H:%M:%S) $config $steps seed $seed: $((SECONDS - started)) s, result in $result"
  else
    echo "$(date +%H:%M:%S) $config $steps seed $seed did not finish: see $dir/summary.json" >&2
  fi
}

# The run's summary.json plus the commit of the binary that ran it, written whole or not at all.
record_result() {
  local dir=$1 result=$2
  mkdir -p "$(dirname "$result")"
  local commit
  commit=$(cat "$dir.commit" 2>/dev/null || echo unknown)
  /usr/bin/python3 -c 'import json, sys
summary = json.load(open(sys.argv[1]))
summary["commit"] = sys.argv[2]
json.dump(summary, open(sys.argv[3], "w"), indent=2, sort_keys=True)' "$dir/summary.json" "$commit" "$result.tmp"
  mv "$result.tmp" "$result"
}
export -f run_one record_result
export out results graybox GRAYBOX_COMMIT

echo "$list" | xargs -P "$jobs" -L 1 bash -c 'run_one $0 $1 $2'
echo "all runs finished: /usr/bin/python3 bench/learning_quality_table.py $results"
