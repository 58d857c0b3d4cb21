// A streamed position comes from the caller (a state file): the chunk loop's
// unsigned index arithmetic would read and write past the buffers for a
// negative one and wrap for one near 2^63. The artifact refuses both before
// running: 0 <= position and position + tokens <= 2^63 - 1 - C.

// RUN: hope-compile %s --compile-to=linalg | FileCheck %s
// RUN: hope-compile %s --compile-to=linalg | FileCheck %s --check-prefix=MANIFEST

// CHECK-LABEL: func.func @stream.preconditions(
// CHECK-DAG: %[[LIMIT:.*]] = arith.constant 9223372036854775803 : index
// CHECK-DAG: %[[TOKENS:.*]] = tensor.dim %arg0, %c2
// CHECK-DAG: %[[RAW:.*]] = tensor.extract %arg2[]
// CHECK: %[[POSITION:.*]] = arith.index_cast %[[RAW]] : i64 to index
// CHECK: %[[NON_NEGATIVE:.*]] = arith.cmpi sge, %[[POSITION]], %c0
// CHECK: %[[HIGHEST:.*]] = arith.subi %[[LIMIT]], %[[TOKENS]]
// CHECK: %[[FITS:.*]] = arith.cmpi sle, %[[POSITION]], %[[HIGHEST]]
// CHECK: arith.andi %[[NON_NEGATIVE]], %[[FITS]]
// CHECK-LABEL: func.func @stream(
// CHECK-NOT: nl.precondition
// MANIFEST: \22preconditions\22:[{\22inputs\22:[\22k\22,\22position\22],\22message\22:\22the position (tokens streamed before this call) must be at least 0, and position + tokens at most 2^63 - 1 - 4\22}]

// RUN: hope-compile %s -O0 -o %t.so
// 5 tokens from position 3 end at 8.
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --input=1x1x5x2xf32=0.5 \
// RUN:     --input=1x1x5xf32=0.1 --input=i64=3 --input=1x2x2xf32=0 | FileCheck %s --check-prefix=RUNS
// RUNS: next: i64=8
// A negative position is refused, exit 1 (it used to corrupt the heap).
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=1x1x5x2xf32=0.5 \
// RUN:     --input=1x1x5xf32=0.1 --input=i64=-1 --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=1x1x5x2xf32=0.5 \
// RUN:     --input=1x1x5xf32=0.1 --input=i64=-9223372036854775808 --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: hope-run: error: stream: inputs 'k', 'position' break a precondition: the position (tokens streamed before this call) must be at least 0, and position + tokens at most 2^63 - 1 - 4
// The last position accepted, 2^63 - 1 - 4 - 5, runs and ends without
// wrapping; one more, or 2^63 - 1, is refused.
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --input=1x1x5x2xf32=0.5 \
// RUN:     --input=1x1x5xf32=0.1 --input=i64=9223372036854775798 --input=1x2x2xf32=0 | FileCheck %s --check-prefix=EDGE
// EDGE: next: i64=9223372036854775803
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=1x1x5x2xf32=0.5 \
// RUN:     --input=1x1x5xf32=0.1 --input=i64=9223372036854775799 --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=1x1x5x2xf32=0.5 \
// RUN:     --input=1x1x5xf32=0.1 --input=i64=9223372036854775807 --input=1x2x2xf32=0 2>&1 | FileCheck %s --check-prefix=NEGATIVE

!m = !nl.memory<1 heads, 2 -> 2, f32>
func.func @stream(%k: tensor<?x1x?x2xf32> {nl.input = "k"},
                  %lr: tensor<?x1x?xf32> {nl.input = "lr"},
                  %p: tensor<i64> {nl.input = "position"},
                  %w: tensor<1x2x2xf32> {nl.input = "w"})
    -> (tensor<?x1x?x2xf32> {nl.output = "y"},
        tensor<?x1x2x2xf32> {nl.output = "reference"},
        tensor<i64> {nl.output = "next"}) {
  %m = nl.memory "M" init(%w : tensor<1x2x2xf32>) position(%p : tensor<i64>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr) : !m, tensor<?x1x?x2xf32>, tensor<?x1x?x2xf32>, tensor<?x1x?xf32>
  %y = nl.read %m(%k) at after : !m, tensor<?x1x?x2xf32>
  %r, %next = nl.stream_state %m : !m -> reference(tensor<?x1x2x2xf32>) position tensor<i64>
  return %y, %r, %next : tensor<?x1x?x2xf32>, tensor<?x1x2x2xf32>, tensor<i64>
}
