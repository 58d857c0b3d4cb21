#!/usr/bin/env bash
# check-model.sh HOPE_MODELS HOPE_COMPILE DIR MODEL [options...] (the tools'
# paths, as lit substitutes them): builds the model, compiles
# it for sm_80 and sm_90 up to the `binaries` phase (phases dumped in DIR),
# then checks the host code (one launch per memory stage, no host loop) and
# every kernel with ptxas (0 spill bytes, shared memory within the limit).
# Prints "MODEL <model> <options>", the checker's lines, and exits nonzero
# on any failure.
set -euo pipefail
models="$1"; compile="$2"; dir="$3"; shift 3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$dir" && mkdir -p "$dir"
echo "MODEL $*"
"$models" "$@" -o "$dir/model.mlir" > /dev/null
"$compile" "$dir/model.mlir" --target=cuda --gpu=sm_80,sm_90 \
    --compile-to=binaries --dump-phases-to="$dir" -o "$dir/binaries.mlir"
python3 "$here/check-kernels.py" --launches "$dir"/*-outlined.mlir
python3 "$here/check-kernels.py" < "$dir/binaries.mlir"
