// RUN: hope-opt %s --nl-split-large-functions=max-ops=4 | FileCheck %s
// RUN: hope-opt %s --nl-split-large-functions=max-ops=0 | FileCheck %s --check-prefix=NOSPLIT
// RUN: hope-opt %s --nl-split-large-functions=max-ops=100 | FileCheck %s --check-prefix=NOSPLIT

// Runs of at most 4 operations (nested ones counted) become private functions
// that are never inlined; a buffer one run allocates and a later run (or the
// return) uses is its result; constants are re-created in each run.
// CHECK-LABEL: func.func private @step.part0(
// CHECK-SAME: %[[X:.*]]: memref<4xf32>) -> memref<4xf32>
// CHECK-SAME: attributes {passthrough = ["noinline"]}
// CHECK-NEXT: %[[C:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT: linalg.generic {{.*}} ins(%[[X]] : memref<4xf32>) outs(%[[A]] : memref<4xf32>)
// CHECK: arith.mulf %{{.*}}, %[[C]]
// CHECK: return %[[A]] : memref<4xf32>
// CHECK-LABEL: func.func private @step.part1(
// CHECK-SAME: %[[A1:.*]]: memref<4xf32>) -> memref<4xf32>
// CHECK-NEXT: %[[C1:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: %[[B:.*]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT: linalg.generic {{.*}} ins(%[[A1]] : memref<4xf32>) outs(%[[B]] : memref<4xf32>)
// CHECK: arith.addf %{{.*}}, %[[C1]]
// CHECK: return %[[B]] : memref<4xf32>
// CHECK-LABEL: func.func private @step.part2(
// CHECK-SAME: %[[A2:.*]]: memref<4xf32>)
// CHECK-NEXT: memref.dealloc %[[A2]]
// CHECK-NEXT: return
// CHECK-LABEL: func.func @step(
// CHECK-NOT: arith.constant
// CHECK-NEXT: %[[P0:.*]] = call @step.part0(%arg0) : (memref<4xf32>) -> memref<4xf32>
// CHECK-NEXT: %[[P1:.*]] = call @step.part1(%[[P0]]) : (memref<4xf32>) -> memref<4xf32>
// CHECK-NEXT: call @step.part2(%[[P0]]) : (memref<4xf32>) -> ()
// CHECK-NEXT: return %[[P1]] : memref<4xf32>

// NOSPLIT-NOT: part0
// NOSPLIT: func.func @step(
// NOSPLIT-NOT: call
#map = affine_map<(d0) -> (d0)>
func.func @step(%x: memref<4xf32>) -> memref<4xf32> {
  %two = arith.constant 2.0 : f32
  %a = memref.alloc() : memref<4xf32>
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%x : memref<4xf32>) outs(%a : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %two : f32
    linalg.yield %m : f32
  }
  %b = memref.alloc() : memref<4xf32>
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %two : f32
    linalg.yield %s : f32
  }
  memref.dealloc %a : memref<4xf32>
  return %b : memref<4xf32>
}
