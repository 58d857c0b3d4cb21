// The example Titans memory (titans-pytorch form) parses, verifies,
// round-trips and has one level.

// RUN: hope-opt %models/titans_memory.mlir --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=LEVELS
// LEVELS:      levels of @titans_memory (fastest first):
// LEVELS-NEXT:   level 1   every 64 tokens    memory (nl.memory)
// LEVELS-NOT:    level

// RUN: hope-opt %models/titans_memory.mlir > %t.1.mlir
// RUN: hope-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: hope-opt %models/titans_memory.mlir --mlir-print-op-generic | hope-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir

// RUN: FileCheck %s --input-file=%t.1.mlir
// CHECK: nl.memory "memory"
// CHECK-SAME: chunk_aggregated = #nl.chunk_aggregated<linearize = 64>
// CHECK-SAME: every = #nl.every<64 tokens>
// Parameters at their default value are left out of the printed form.
// CHECK-SAME: model = #nl.mlp<hidden = 384, activation = gelu, norm = post>
// CHECK-SAME: objective = #nl.l2<reduction = mean>
// CHECK-SAME: rule = #nl.momentum_gd<retention = chunk, momentum = chunk>
// CHECK: nl.update %{{.*}} keys(%{{.*}}) values(%{{.*}}) lr(%{{.*}}) retention(%{{.*}}) momentum(%{{.*}})
// CHECK: nl.read %{{.*}} at after
