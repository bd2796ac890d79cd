#!/usr/bin/env bash
# Installs the Debian packages graybox needs (skipping those already installed), then
# configures and builds graybox in Release under build/. Run as root on Debian 12.
# Usage: bash scripts/setup.sh        (BUILD_DIR and JOBS may be set in the environment)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ make cmake ccache
  libtorch-dev            # LibTorch 1.13 (CPU)
  libmujoco-dev libqhull-dev   # MuJoCo 2.2.2; its CMake config needs qhull's headers
  libopenblas0-openmp     # fast BLAS for LibTorch (the reference BLAS is 3-8x slower)
  libeigen3-dev libtbb-dev libyaml-cpp-dev libcli11-dev libsqlite3-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev              # gzip-compressed IDX and CSV data files
  dataset-fashion-mnist   # Fashion-MNIST (graybox fit configs, tests)
  python3-sklearn         # digits, iris, wine, breast cancer CSVs (graybox fit, tests)
  python3-matplotlib      # graybox report's pictures (tools/report.py, tools/bench_report.py)
  python3-optuna python3-psycopg2   # bench/tpe_vs_optuna.py, bench/store_vs_optuna.py (Optuna 3.1 side by side)
  chromium                # the report test renders index.html headless (tests/apps/test_cli_bench.cpp)
  libegl-dev libegl-mesa0 libgl1-mesa-dri ffmpeg   # offscreen rendering (graybox eval --video)
  libpqxx-dev pkg-config postgresql   # the PostgreSQL store (store/); its tests start a throwaway server
  munge slurmd slurmctld slurm-client # scripts/slurm/workers.sbatch; its test starts a single-node Slurm
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch links libblas.so.3; make sure the alternative points at OpenBLAS (OpenMP).
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$openblas" ] && command -v update-alternatives >/dev/null; then
  current=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)
  if [ "$current" != "$openblas" ] && [ "$(id -u)" -eq 0 ]; then
    update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" || true
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$JOBS"
