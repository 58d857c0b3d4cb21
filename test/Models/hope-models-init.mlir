// --conv-init=token-shift and --kv-branch-scale (docs/models.md, "Initial
// weights"): recorded on the weights they start (nl.init, nl.init_scale),
// which --list-weights, --weights-out and hope-train's seeding follow; the
// errors for bad uses.

// RUN: hope-models hope-lm --config=tiny --layers=1 --conv-init=token-shift --kv-branch-scale=4 | FileCheck %s
// CHECK: hope-models hope-lm --config=tiny --layers=1 --conv-init=token-shift --kv-branch-scale=4
// CHECK-NOT: nl.init
// CHECK: tensor<32x4xf32> {nl.init = "token_shift", nl.weight = "layer0.conv"}
// CHECK-NOT: nl.init
// CHECK: tensor<2x16x16xf32> {nl.init_scale = 4.000000e+00 : f64, nl.weight = "layer0.mk_w2"}
// CHECK-NOT: nl.init
// CHECK: tensor<2x16x16xf32> {nl.init_scale = 4.000000e+00 : f64, nl.weight = "layer0.mv_w2"}
// CHECK-NOT: nl.init

// RUN: hope-models hope-block --config=tiny --conv-init=token-shift --kv-branch-scale=0.5 --list-weights | FileCheck %s --check-prefix=LIST
// LIST:      conv         f32  [32, 4]       conv        token shift
// LIST:      mk_w1        f32  [2, 16, 16]   matrix      N(0, 1/16)
// LIST-NEXT: mk_w2        f32  [2, 16, 16]   matrix      N(0, 1/16) x 0.5
// LIST-NEXT: mv_w1        f32  [2, 16, 16]   matrix      N(0, 1/16)
// LIST-NEXT: mv_w2        f32  [2, 16, 16]   matrix      N(0, 1/16) x 0.5
// LIST-NEXT: meta_w1

// The defaults record nothing: --conv-init=seeded and --kv-branch-scale=1
// give the IR and the weights of no option.
// RUN: hope-models self-modifying-titans --config=tiny --conv-init=seeded --kv-branch-scale=1 -o %t.default.mlir --weights-out=%t.default.safetensors
// RUN: hope-models self-modifying-titans --config=tiny -o %t.plain.mlir --weights-out=%t.plain.safetensors
// RUN: not grep nl.init %t.default.mlir
// RUN: cmp %t.default.safetensors %t.plain.safetensors
// RUN: hope-models self-modifying-titans --config=tiny --kv-branch-scale=4 -o /dev/null --weights-out=%t.scaled.safetensors
// RUN: not cmp -s %t.scaled.safetensors %t.plain.safetensors

// RUN: not hope-models hope-block --conv-init=shift 2>&1 | FileCheck %s --check-prefix=RULE
// RULE: hope-models: unknown --conv-init 'shift'; initialisations: seeded, token-shift
// RUN: not hope-models hope-block --kv-branch-scale=inf 2>&1 | FileCheck %s --check-prefix=SCALE
// SCALE: hope-models: --kv-branch-scale must be finite, got inf
// RUN: not hope-models titans-memory --conv-init=token-shift 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: hope-models: --conv-init does not apply to titans-memory (see --help)
// RUN: not hope-models hope-lm --config=tiny --mixer=attention --kv-branch-scale=2 2>&1 | FileCheck %s --check-prefix=ATTENTION
// ATTENTION: hope-models: --conv-init, --kv-branch-scale: --mixer=attention has no convolution and no memories M_k, M_v

// The options change the weights only: without the two attributes the IR is
// the IR of no option (the compiled code is the same: hope-compile moves them
// into the manifest).
// RUN: hope-models hope-lm --config=tiny --conv-init=token-shift --kv-branch-scale=4 \
// RUN:   | sed -e 's/nl.init = "token_shift", //g' -e 's/nl.init_scale = 4.000000e+00 : f64, //g' \
// RUN:   | sed 1d > %t.options.mlir
// RUN: hope-models hope-lm --config=tiny | sed 1d > %t.none.mlir
// RUN: diff %t.options.mlir %t.none.mlir
