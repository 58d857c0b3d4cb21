// The example HOPE block parses, verifies, round-trips, and its level
// structure prints fastest first with every component's chunk size.

// RUN: hope-opt %models/hope_block.mlir --nl-verify-levels --nl-print-levels -o /dev/null | FileCheck %s --check-prefix=LEVELS
// LEVELS:      levels of @hope_block (fastest first):
// LEVELS-NEXT:   level 1   every 1 token      cms[0] (nl.cms)
// LEVELS-NEXT:   level 2   every 8 tokens     M_k (nl.memory), M_v (nl.memory), M_eta (nl.memory), M_alpha (nl.memory)
// LEVELS-NEXT:   level 3   every 16 tokens    cms[1] (nl.cms)
// LEVELS-NEXT:   level 4   every 64 tokens    M_mem (nl.memory)
// LEVELS-NEXT:   level 5   every 256 tokens   cms[2] (nl.cms)
// LEVELS-NOT:    level

// Round trip: the printed form parses back to the same printed form, in the
// custom and the generic syntax.
// RUN: hope-opt %models/hope_block.mlir > %t.1.mlir
// RUN: hope-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: hope-opt %models/hope_block.mlir --mlir-print-op-generic | hope-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir

// nl-assign-levels records the levels on the component ops.
// RUN: hope-opt %models/hope_block.mlir --nl-assign-levels | FileCheck %s --check-prefix=ASSIGN
// ASSIGN: nl.memory "M_k" {{.*}}nl.level = array<i64: 2>
// ASSIGN: nl.memory "M_v" {{.*}}nl.level = array<i64: 2>
// ASSIGN: nl.memory "M_eta" {{.*}}nl.level = array<i64: 2>
// ASSIGN: nl.memory "M_alpha" {{.*}}nl.level = array<i64: 2>
// ASSIGN: nl.memory "M_mem" {{.*}}nl.level = array<i64: 4>
// ASSIGN: nl.cms "cms" {{.*}}nl.level = array<i64: 1, 3, 5>

// Dependences: the self-modifying memories read each other only at the chunk
// start; the CMS chain depends on itself at the same token.
// RUN: hope-opt %models/hope_block.mlir --nl-print-levels=dependences=true -o /dev/null | FileCheck %s --check-prefix=DEPS
// DEPS: dependences of @hope_block:
// DEPS-DAG: M_v -> M_k  (earlier token)
// DEPS-DAG: M_k -> M_k  (earlier token)
// DEPS-DAG: M_k -> M_mem  (earlier token)
// DEPS-DAG: M_mem -> cms[0]  (earlier token)
// DEPS-DAG: cms[0] -> cms[1]  (same token)
// DEPS-DAG: cms[1] -> cms[2]  (same token)
// DEPS-NOT: M_mem -> M_k
