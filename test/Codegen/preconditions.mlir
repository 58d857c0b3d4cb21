// A per-chunk rate given by the caller must cover every chunk the call's
// tokens touch. The shapes in the manifest cannot say so; the artifact checks
// it before running and the runtime reports the failed precondition.

// RUN: hope-compile %s --compile-to=linalg | FileCheck %s
// RUN: hope-compile %s --compile-to=linalg | FileCheck %s --check-prefix=MANIFEST

// The check: the entry point's arguments in, the failed precondition's
// number out (0 when all hold).
// CHECK-LABEL: func.func @forward.preconditions(
// CHECK-SAME: -> i32 attributes {llvm.emit_c_interface}
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[TOKENS:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[TOUCHED:.*]] = arith.ceildivui %[[TOKENS]], %[[C4]]
// CHECK: %[[NEEDED:.*]] = arith.select %{{.*}}, %c0, %[[TOUCHED]]
// CHECK: %[[GIVEN:.*]] = tensor.dim %arg1, %c2
// CHECK: %[[HOLDS:.*]] = arith.cmpi uge, %[[GIVEN]], %[[NEEDED]]
// CHECK-DAG: %[[PASSED:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[FIRST:.*]] = arith.constant 1 : i32
// CHECK: %[[STATUS:.*]] = arith.select %[[HOLDS]], %[[PASSED]], %[[FIRST]] : i32
// CHECK: return %[[STATUS]] : i32
// The entry point itself no longer holds it.
// CHECK-LABEL: func.func @forward(
// CHECK-NOT: nl.precondition
// The manifest lists it with the inputs it reads.
// MANIFEST: \22preconditions\22:[{\22inputs\22:[\22k\22,\22lr\22],\22message\22:\22memory 'M': its per-chunk learning rate needs an entry along dimension 2 for every chunk of 4 tokens the call touches, ceil((position mod 4 + tokens) / 4)\22}]

// 9 tokens in chunks of 4 touch 3 chunks: 2 rates are too few, 3 are enough,
// and no tokens need none.
// RUN: hope-compile %s -O0 -o %t.so
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=1x2x9x4xf32=0.5 \
// RUN:     --input=1x2x2xf32=0.1 --input=2x4x4xf32=0 2>&1 | FileCheck %s --check-prefix=SHORT
// SHORT: hope-run: error: forward: inputs 'k', 'lr' break a precondition: memory 'M': its per-chunk learning rate needs an entry along dimension 2 for every chunk of 4 tokens the call touches, ceil((position mod 4 + tokens) / 4)
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --input=1x2x9x4xf32=0.5 \
// RUN:     --input=1x2x3xf32=0.1 --input=2x4x4xf32=0 | FileCheck %s --check-prefix=ENOUGH
// ENOUGH: y: 1x2x9x4xf32=[{{\[\[}}0 0 0 0]
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --input=1x2x0x4xf32=0.5 \
// RUN:     --input=1x2x0xf32=0.1 --input=2x4x4xf32=0 | FileCheck %s --check-prefix=EMPTY
// EMPTY: y: 1x2x0x4xf32=

!m = !nl.memory<2 heads, 4 -> 4, f32>
func.func @forward(%k: tensor<?x2x?x4xf32> {nl.input = "k"},
                   %lr: tensor<?x2x?xf32> {nl.input = "lr"},
                   %w: tensor<2x4x4xf32> {nl.input = "w"})
    -> (tensor<?x2x?x4xf32> {nl.output = "y"}) {
  %m = nl.memory "M" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>,
      model = #nl.linear, objective = #nl.l2<>,
      rule = #nl.momentum_gd<order = 0, lr = chunk>} : !m
  nl.update %m keys(%k) values(%k) lr(%lr)
      : !m, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?xf32>
  %y = nl.read %m(%k) at after : !m, tensor<?x2x?x4xf32>
  return %y : tensor<?x2x?x4xf32>
}
