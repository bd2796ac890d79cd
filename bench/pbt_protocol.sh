#!/usr/bin/env bash
# The PB2 paper's comparison on PPO: PBT, PB2 and random search (population 4, 1M env steps per
# member, perturbation every 50k steps) and one run of CleanRL's defaults, on HalfCheetah-v5 and
# Hopper-v5, over 3 seeds: 78M env steps in all.
#
#   bash bench/pbt_protocol.sh [OUT_DIR] [JOBS]        # default runs/pbt-protocol, 2 jobs at a time
#   /usr/bin/python3 bench/pbt_protocol_table.py OUT_DIR  # the table: mean and 95 % interval
#
# Every experiment is single-threaded and JOBS of them run side by side. The script can be
# killed at any moment and started again with the same arguments: finished experiments are
# skipped, interrupted ones continue with --resume. SEEDS and ENVS (space-separated) narrow it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/pbt-protocol}
jobs=${2:-2}
seeds=${SEEDS:-1 2 3}
envs=${ENVS:-half_cheetah hopper}
graybox=${GRAYBOX:-build/apps/graybox}
[ -x "$graybox" ] || { echo "no $graybox: build first (bash scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$out"

# One line per experiment: env method seed. Seed-major, so an unfinished pass still leaves
# complete seeds to compare.
list=$(for s in $seeds; do for e in $envs; do for m in pbt pb2 random cleanrl; do
  echo "$e $m $s"; done; done; done)

run_one() {
  local env=$1 method=$2 seed=$3
  local dir="$out/$env/$method/seed$seed"
  if [ -f "$dir/summary.json" ] && grep -q '"status": "finished"' "$dir/summary.json"; then
    return 0
  fi
  local resume=()
  [ -f "$dir/store.sqlite" ] && resume=(--resume)
  local started=$SECONDS
  if [ "$method" = cleanrl ]; then
    "$graybox" train "configs/train/ppo_${env}.yaml" --set "seed=$seed" --out "$dir" "${resume[@]}" --quiet \
      > "$dir.log" 2>&1
  else
    local extra=(--set "tune.algorithm=$method")
    [ "$method" = random ] && extra+=(--set tune.num_trials=4)
    "$graybox" tune "configs/tune/pbt_${env}.yaml" --set "seed=$seed" "${extra[@]}" --out "$dir" \
      "${resume[@]}" --quiet > "$dir.log" 2>&1
  fi
  echo "$(date +%H:%M:%S) $env $method seed $seed: $((SECONDS - started)) s"
}
export -f run_one
export out graybox

mkdir -p $(for e in $envs; do for m in pbt pb2 random cleanrl; do echo "$out/$e/$m"; done; done)
echo "$list" | xargs -P "$jobs" -L 1 bash -c 'run_one $0 $1 $2'
echo "all experiments finished: /usr/bin/python3 bench/pbt_protocol_table.py $out"
