// A memory level's chunk loop, differentiated: the states at chunk
// boundaries are recorded (one entry per chunk: saved memory grows with T/C),
// the read output being assembled chunk by chunk is not, and the reverse loop
// walks the chunks backwards. Numbers: test/parity/test_memory_gradients.py.
// RUN: hope-models memory-level --config=linear-momentum -o %t.mlir
// RUN: hope-compile %t.mlir --compile-to=memories -o %t.memories.mlir
// RUN: hope-opt %t.memories.mlir --nl-differentiate=functions=memory_level | FileCheck %s

// CHECK-LABEL: func.func @memory_level_vjp(
// The three states (W, its momentum, W at the last chunk boundary): a tape each,
// the chunk index after the batch and heads (a (batch, head)'s entries are its own slice).
// CHECK:         %[[CHUNKS:.*]] = arith.maxsi
// CHECK-COUNT-3: tensor.empty(%{{.*}}, %[[CHUNKS]]) : tensor<?x2x?x8x8xf32>
// CHECK-NOT:     tensor.empty(%{{.*}}, %[[CHUNKS]]
// CHECK:         %[[FORWARD:.*]]:7 = scf.for
// CHECK-SAME:      -> (tensor<?x2x8x8xf32>, tensor<?x2x8x8xf32>, tensor<?x2x8x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8x8xf32>, tensor<?x2x?x8x8xf32>, tensor<?x2x?x8x8xf32>)
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[CHUNKS]]
// CHECK:           tensor.extract_slice %[[FORWARD]]#4
// CHECK:           tensor.extract_slice %[[FORWARD]]#5
// CHECK:           tensor.extract_slice %[[FORWARD]]#6
