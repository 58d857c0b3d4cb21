// hope-models' default configs are the shipped example models: after
// normalising both sides with hope-opt, the IR is the same text. The files are
// themselves builder output, so this detects change only (a builder edit not
// copied to models/, or the reverse), not correctness: that is the parity
// tests'. It is the one test comparing builders with models/*.mlir.

// RUN: hope-opt %models/hope_block.mlir > %t.hope.file
// RUN: hope-models hope-block --config=default | hope-opt > %t.hope.built
// RUN: diff %t.hope.built %t.hope.file
// The first config is the default.
// RUN: hope-models hope-block | hope-opt | diff - %t.hope.file

// RUN: hope-opt %models/titans_memory.mlir > %t.titans.file
// RUN: hope-models titans-memory --config=default -o %t.titans.mlir 2>&1 | FileCheck %s --check-prefix=WROTE
// RUN: hope-opt %t.titans.mlir | diff - %t.titans.file
// WROTE: hope-models: wrote titans-memory (default) to {{.*}}titans.mlir

// The check can fail: another config is other IR.
// RUN: hope-models hope-block --config=tiny | hope-opt > %t.tiny
// RUN: not diff -q %t.tiny %t.hope.file

// The IR starts with the command that rebuilds it.
// RUN: hope-models titans-memory --config=tiny --chunk=8 | FileCheck %s --check-prefix=HEADER
// HEADER: // hope-models titans-memory --config=tiny --chunk=8
// HEADER: nl.memory "memory"
// HEADER-SAME: #nl.chunk_aggregated<linearize = 16>
// HEADER-SAME: every = #nl.every<8 tokens>
