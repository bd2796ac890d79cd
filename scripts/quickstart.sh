#!/usr/bin/env bash
# Sets up everything, then trains the quick-start config: PPO on InvertedPendulum-v5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/apps/graybox train configs/quickstart.yaml --out "${OUT:-runs/quickstart-$(date +%Y%m%d-%H%M%S)}"
