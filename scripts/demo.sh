#!/usr/bin/env bash
# The main job: build, then compile the tiny HOPE language model for this CPU
# and run it on a few tokens, showing each step and how long it took.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HOPE_BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh"
bin="$build/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== 1. the tiny HOPE language model's IR and seeded weights (hope-models)"
"$bin/hope-models" hope-lm --config=tiny -o "$work/hope_lm.mlir" \
  --weights-out="$work/hope_lm.safetensors" --seed=0

echo "== 2. its levels, fastest first (hope-opt --nl-print-levels)"
"$bin/hope-opt" "$work/hope_lm.mlir" --nl-verify-levels --nl-print-levels -o /dev/null

echo "== 3. compile for this CPU, time per phase (hope-compile -v)"
"$bin/hope-compile" "$work/hope_lm.mlir" -o "$work/hope_lm.so" -v

echo "== 4. run it on 2 sequences of 12 tokens (hope-run); logits [2, 12, 256]"
start=$(date +%s%N)
"$bin/hope-run" --module="$work/hope_lm.so" --weights="$work/hope_lm.safetensors" \
  --input=2x12xi64=1,5,9,2,7,3,8,4,6,0,11,10,3,3,1,4,1,5,9,2,6,5,3,5 \
  --output=@"$work/logits.npy"
end=$(date +%s%N)
echo "ran in $(((end - start) / 1000000)) ms (including loading the artifact and weights)"
ls -l "$work/logits.npy" | awk '{print "wrote logits.npy,", $5, "bytes"}'
