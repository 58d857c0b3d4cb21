// hope-run --repeat: a call count of zero is an error, one line on stderr,
// before any call.

// RUN: hope-compile %s -o %t.so
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --repeat=0 \
// RUN:     --input=2x3x8xf32=0.5 --input=8x8xf32=0.25 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: hope-run: error: --repeat must be at least 1
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --repeat=0 \
// RUN:     --input=2x3x8xf32=0.5 --input=8x8xf32=0.25 2>&1 | count 1

func.func @forward(%x: tensor<?x?x8xf32> {nl.input = "x"},
                   %w: tensor<8x8xf32> {nl.input = "w"})
    -> (tensor<?x?x8xf32> {nl.output = "y"}) {
  %y = nl.linear %x, %w : tensor<?x?x8xf32>, tensor<8x8xf32>
  return %y : tensor<?x?x8xf32>
}
