#!/usr/bin/env bash
# Builds everything from scratch if needed and runs the whole test suite:
# lit + FileCheck tests, GoogleTest unit tests, and the Python suites (the
# PyTorch references' own tests, and compiled artifacts against them, in a
# pinned virtual environment outside the clone). Ends with one line
# "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HOPE_BUILD_DIR:-$root/build}"
bash "$root/scripts/build.sh" || { echo "0 passed, 1 failed"; exit 1; }

logs="$build/test-logs"
mkdir -p "$logs"

echo "== lit tests"
/usr/lib/llvm-22/bin/lit -sv "$build/test" | tee "$logs/lit.log"
lit_status=${PIPESTATUS[0]}

echo "== unit tests"
ctest --test-dir "$build" --output-on-failure | tee "$logs/ctest.log"
ctest_status=${PIPESTATUS[0]}

echo "== Python: references and compiled-versus-reference parity"
python_status=0
if py="$(bash "$root/scripts/python-env.sh" | tail -1)"; then
  for suite in reference parity; do
    HOPE_BUILD_DIR="$build" "$py" -m pytest "$root/test/$suite" -q -p no:cacheprovider \
      2>&1 | tee "$logs/pytest-$suite.log"
    (( PIPESTATUS[0] == 0 )) || python_status=1
  done
else
  echo "the Python environment could not be set up"
  python_status=1
fi

count() { grep -Eo "$1" "$2" | grep -Eo '[0-9]+' | tail -1; }
lit_pass=$(count 'Passed *: *[0-9]+' "$logs/lit.log"); lit_pass=${lit_pass:-0}
lit_fail=$(grep -Eo '(Failed|Unresolved|Timed Out|Unexpectedly Passed) *: *[0-9]+' \
  "$logs/lit.log" | grep -Eo '[0-9]+' | awk '{ s += $1 } END { print s + 0 }')
ct_total=$(count 'out of [0-9]+' "$logs/ctest.log"); ct_total=${ct_total:-0}
ct_fail=$(count '[0-9]+ tests failed' "$logs/ctest.log"); ct_fail=${ct_fail:-0}
py_pass=0; py_fail=0
for suite in reference parity; do
  log="$logs/pytest-$suite.log"
  [[ -f "$log" ]] || continue
  p=$(tail -1 "$log" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+'); py_pass=$(( py_pass + ${p:-0} ))
  f=$(tail -1 "$log" | grep -Eo '[0-9]+ (failed|error)' | grep -Eo '[0-9]+' | awk '{ s += $1 } END { print s + 0 }')
  py_fail=$(( py_fail + f ))
done
passed=$(( lit_pass + ct_total - ct_fail + py_pass ))
failed=$(( lit_fail + ct_fail + py_fail ))
if (( lit_status != 0 || ctest_status != 0 || python_status != 0 )) && (( failed == 0 )); then
  failed=1
fi
echo "lit: $lit_pass passed, $lit_fail failed; unit: $(( ct_total - ct_fail )) passed, $ct_fail failed; python: $py_pass passed, $py_fail failed"
echo "$passed passed, $failed failed"
(( failed == 0 ))
