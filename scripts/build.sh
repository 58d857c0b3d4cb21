#!/usr/bin/env bash
# Installs what is missing, configures if needed, and builds everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HOPE_BUILD_DIR:-$root/build}"
bash "$root/scripts/setup.sh"
echo "== building ($(nproc) jobs)"
start=$(date +%s)
cmake --build "$build" -- -j"$(nproc)"
echo "== built in $(( $(date +%s) - start )) s"
