// hope-run refuses what is not a regular file where a file is expected
// (a device would be read forever), names --weights=FILE when the entry
// point has weights, and checks where results go before running.

// RUN: hope-compile %s -o %t.so
// RUN: not %hope_obj_root/bin/hope-run --module=/dev/zero 2>&1 | FileCheck %s --check-prefix=MODULE
// MODULE: hope-run: error: cannot read artifact '/dev/zero': it is a character device, not a regular file
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=2x3x8xf32=1 2>&1 \
// RUN:     | FileCheck %s --check-prefix=WEIGHTS
// WEIGHTS: hope-run: error: forward needs weights (w): pass them with --weights=FILE
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --weights=/dev/zero \
// RUN:     --input=2x3x8xf32=1 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: hope-run: error: cannot read '/dev/zero': it is a character device, not a regular file
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --weights=/dev/zero \
// RUN:     --input=2x3x8xf32=1 --output=@%t.missing/y.npy 2>&1 | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: hope-run: error: --output={{.*}}.missing/y.npy: no folder '{{.*}}.missing'

func.func @forward(%x: tensor<?x?x8xf32> {nl.input = "x"},
                   %w: tensor<8x8xf32> {nl.weight = "w"})
    -> (tensor<?x?x8xf32> {nl.output = "y"}) {
  %y = nl.linear %x, %w : tensor<?x?x8xf32>, tensor<8x8xf32>
  return %y : tensor<?x?x8xf32>
}
