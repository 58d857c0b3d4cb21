#!/usr/bin/env bash
# The main job: build, then show the level structure of the example HOPE
# block (models/hope_block.mlir), fastest level first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HOPE_BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh"
for model in hope_block titans_memory; do
  echo "== levels of models/$model.mlir"
  "$build/bin/hope-opt" "$root/models/$model.mlir" \
    --nl-verify-levels --nl-print-levels -o /dev/null
done
