#!/usr/bin/env bash
# The meta-controller's benchmark (issue 13), resumable across kills and machines: for each
# variant, meta-train a policy on the training instances of configs/control/train.yaml, then
# evaluate it on the test instances against the tuned baselines.
#
#   bash bench/control_quality.sh [OUT_DIR]        # default runs/control-quality
#
# CONFIG is the control config (default configs/control/train.yaml). VARIANTS lists
# "name override..." lines (the overrides are --set values of `graybox control train`); the
# default is the relative-mode variants below (the second: a validation-loss reward, whose return
# is the quantity the baselines are tuned on, and exploration noise of std e^-1 instead of 1).
# Each finished step lands in RESULTS (default bench/results/control, kept in git):
#   NAME/policy.pt, config.yaml, summary.json, COMMIT   the meta-training (skipped if present)
#   NAME/eval.txt, eval.csv                             its evaluation (skipped if present)
#   baselines.json, baselines.COMMIT                    the baselines' tuning and test runs,
#                                                       shared by every variant's eval
# A meta-training killed in the middle continues from its checkpoint under OUT_DIR; an eval
# killed in the middle continues from baselines.json, which it writes after every tuning trial
# and test run (commit it, and a checkout on another machine continues it too). The baselines
# record results, not code: after a change to the training code, remove baselines.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/control-quality}
variants=${VARIANTS:-"relative-8k dac.action_mode=relative total_steps=8192
relative-dense-val-32k dac.action_mode=relative dac.reward=dense_val agent.init_log_std=-1 total_steps=32768"}
graybox=${GRAYBOX:-build/apps/graybox}
config=${CONFIG:-configs/control/train.yaml}
results=${RESULTS:-bench/results/control}
[ -x "$graybox" ] || { echo "no $graybox: build first (bash scripts/setup.sh)" >&2; exit 2; }
commit=${GRAYBOX_COMMIT:-$(cat "$(dirname "$graybox")/COMMIT" 2>/dev/null ||
  echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!runs' || echo -dirty)")}
mkdir -p "$out" "$results"
[ -f "$results/baselines.json" ] || echo "$commit" > "$results/baselines.COMMIT"

echo "$variants" | while read -r name overrides; do
  [ -n "$name" ] || continue
  kept="$results/$name"
  if [ ! -f "$kept/policy.pt" ]; then
    dir="$out/$name"
    sets=()
    for o in $overrides; do sets+=(--set "$o"); done
    if [ -e "$dir/checkpoints/latest" ]; then
      args=(control train --resume --out "$dir")
    else
      rm -rf "$dir"
      args=(control train "$config" "${sets[@]}" --out "$dir")
    fi
    echo "$(date +%H:%M:%S) $name: meta-training (${args[*]})"
    "$graybox" "${args[@]}" --quiet < /dev/null >> "$out/$name.log" 2>&1 ||
      { echo "$(date +%H:%M:%S) $name: meta-training failed, see $out/$name.log" >&2; continue; }
    mkdir -p "$kept.tmp"
    cp "$dir/policy.pt" "$dir/config.yaml" "$dir/summary.json" "$kept.tmp/"
    echo "$commit" > "$kept.tmp/COMMIT"
    rm -rf "$kept" && mv "$kept.tmp" "$kept"
  fi
  if [ ! -f "$kept/eval.txt" ]; then
    echo "$(date +%H:%M:%S) $name: evaluation"
    started=$SECONDS
    "$graybox" control eval "$config" --set "eval.policy=$kept/policy.pt" --set control.num_threads=0 \
      --set "eval.baselines=$results/baselines.json" --set "eval.csv=$kept/eval.csv" < /dev/null > "$kept/eval.txt.tmp" 2>> "$out/$name.log" ||
      { echo "$(date +%H:%M:%S) $name: evaluation failed, see $out/$name.log" >&2; continue; }
    echo "evaluated by the binary of $commit in $((SECONDS - started)) s" >> "$kept/eval.txt.tmp"
    mv "$kept/eval.txt.tmp" "$kept/eval.txt"
  fi
  echo "$(date +%H:%M:%S) $name: done, $kept/eval.txt"
done
