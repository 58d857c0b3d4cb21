// The 340m HOPE language model compiles for the CPU (docs/models.md): 24
// blocks become a handful of functions, the 22 middle blocks one function
// called once per block (nl-split-large-functions), so that LLVM optimises
// one block's code instead of one 24-block function. The larger configs
// compile the same way, outside the suite (their weights take gigabytes).
// (Runs end after every top-level loop: the chunk loops and the loops of
// tiled contractions; identical runs merge.)

// RUN: hope-models hope-lm --config=340m -o %t.mlir
// RUN: hope-compile %t.mlir --compile-to=bufferized | grep -c "func.func private @hope_lm.part" | FileCheck %s --check-prefix=PARTS
// RUN: hope-compile %t.mlir -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --list | FileCheck %s

// Fewer than 30 distinct functions for 24 blocks:
// PARTS: {{^[0-9]$|^[12][0-9]$}}

// CHECK: hope_lm
// CHECK: tokens {{ *}}input  i64 [tokens[0], tokens[1]]
// CHECK: layer23.cms2_out weight f32 [1024, 1408]
// CHECK: lm_head {{ *}}weight f32 [32000, 1024]
// CHECK: logits {{ *}}output f32 [tokens[0], tokens[1], 32000]
