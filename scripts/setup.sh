#!/usr/bin/env bash
# Installs what the build and the tests need on Debian 12, non-interactively,
# then configures the build tree. Safe to run again: it installs only what is
# missing and reuses an existing build directory (and its ccache).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HOPE_BUILD_DIR:-$root/build}"

packages=(
  cmake ninja-build ccache python3
  clang-22 lld-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev libomp-22-dev
  # AddressSanitizer's, ThreadSanitizer's and libFuzzer's runtimes: without
  # them the runtime's sanitizer suites and fuzzers are not built (and
  # CI=true fails at configure time, test/unit/runtime).
  libclang-rt-22-dev
  # the runtime's JSON (it links no LLVM); hope-run's static LLVMSupport
  # needs zstd's CMake target
  nlohmann-json3-dev libzstd-dev
  # memcheck of compiled code in the tests (test/Codegen/position-memcheck.mlir)
  valgrind
)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -f "$build/build.ninja" ]]; then
  echo "== configuring $build"
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLLVM_USE_LINKER=lld \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
