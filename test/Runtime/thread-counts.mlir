// Thread counts are bounded before OpenMP sees them, on an artifact whose
// batch and token loops run on OpenMP threads: a count OpenMP would abort
// on (100000, "abc") or hang on (10000) is one line on stderr, exit 1.

// RUN: hope-compile %s -o %t.so
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --num-threads=100000 \
// RUN:     --input=2x3x8xf32=0.5 2>&1 | FileCheck %s --check-prefix=FLAG
// FLAG: hope-run: error: --num-threads=100000 is out of range (0 for the default, or 1 to 1024)
// RUN: not env OMP_NUM_THREADS=abc %hope_obj_root/bin/hope-run --module=%t.so \
// RUN:     --input=2x3x8xf32=0.5 2>&1 | FileCheck %s --check-prefix=ENV
// ENV: hope-run: error: OMP_NUM_THREADS='abc' is not a thread count from 1 to 1024 (or a comma-separated list of them)
// RUN: not env OMP_NUM_THREADS=10000 %hope_obj_root/bin/hope-run --module=%t.so \
// RUN:     --input=2x3x8xf32=0.5 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: hope-run: error: OMP_NUM_THREADS='10000' is not a thread count

// The session's count applies to every call (set on the invoking thread):
// the results are those of one thread.
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --num-threads=1 \
// RUN:     --input=2x3x8xf32=0.5 > %t.1.txt
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --num-threads=3 --repeat=2 \
// RUN:     --input=2x3x8xf32=0.5 > %t.3.txt
// RUN: diff %t.1.txt %t.3.txt
// RUN: FileCheck %s --check-prefix=RESULT < %t.3.txt
// RESULT: y: 2x3x8xf32={{\[\[}}4 4 4

func.func @forward(%x: tensor<?x?x8xf32> {nl.input = "x"})
    -> (tensor<?x?x8xf32> {nl.output = "y"}) {
  %w = arith.constant dense<1.0> : tensor<8x8xf32>
  %y = nl.linear %x, %w : tensor<?x?x8xf32>, tensor<8x8xf32>
  return %y : tensor<?x?x8xf32>
}
