// RUN: hope-opt %s --nl-print-levels -o /dev/null | FileCheck %s
// RUN: hope-opt %s --nl-print-levels=dependences=true -o /dev/null | FileCheck %s --check-prefix=DEPS

!m = !nl.memory<2 heads, 4 -> 4, f32>

// Equal chunk sizes: the order comes from the dependence tie-break. B reads A
// at point `after` (A's update of the same token), so A is faster, although
// B is declared first and A has the same chunk size.
// CHECK-LABEL: levels of @tie_break
// CHECK-NEXT:    level 1   every 16 tokens    A (nl.memory)
// CHECK-NEXT:    level 2   every 16 tokens    B (nl.memory)
// DEPS-LABEL: dependences of @tie_break:
// DEPS-NEXT:    A -> B  (same token)
func.func @tie_break(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  %b = nl.memory "B" init(%w : tensor<2x4x4xf32>) {every = #nl.every<16 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !m
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<16 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !m
  %ra = nl.read %a(%x) at after : !m, tensor<1x2x8x4xf32>
  nl.update %b keys(%ra) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  nl.update %a keys(%x) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// The tie-break does not override frequency: C (every 4 tokens) reads D
// (every 32 tokens) after D's update, and is still the faster level.
// CHECK-LABEL: levels of @frequency_first
// CHECK-NEXT:    level 1   every 4 tokens     C (nl.memory)
// CHECK-NEXT:    level 2   every 32 tokens    D (nl.memory)
func.func @frequency_first(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  %c = nl.memory "C" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !m
  %d = nl.memory "D" init(%w : tensor<2x4x4xf32>) {every = #nl.every<32 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !m
  %rd = nl.read %d(%x) at after : !m, tensor<1x2x8x4xf32>
  nl.update %c keys(%rd) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// The same model with its ops in two orders has the same levels.
// CHECK-LABEL: levels of @ordered
// CHECK-NEXT:    level 1   every 8 tokens     P (nl.memory), Q (nl.memory)
// CHECK-NEXT:    level 2   every 8 tokens     R (nl.memory)
// CHECK-LABEL: levels of @shuffled
// CHECK-NEXT:    level 1   every 8 tokens     Q (nl.memory), P (nl.memory)
// CHECK-NEXT:    level 2   every 8 tokens     R (nl.memory)
func.func @ordered(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  %p = nl.memory "P" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %q = nl.memory "Q" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %r = nl.memory "R" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %kp = nl.read %p(%x) at after : !m, tensor<1x2x8x4xf32>
  %vq = nl.read %q(%x) at after : !m, tensor<1x2x8x4xf32>
  %vr = nl.read %r(%x) at chunk_start : !m, tensor<1x2x8x4xf32>
  nl.update %p keys(%x) values(%vr) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  nl.update %q keys(%x) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  nl.update %r keys(%kp) values(%vq) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}
func.func @shuffled(%x: tensor<1x2x8x4xf32>, %w: tensor<2x4x4xf32>, %eta: tensor<1x2x8xf32>) {
  %r = nl.memory "R" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %q = nl.memory "Q" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  %vq = nl.read %q(%x) at after : !m, tensor<1x2x8x4xf32>
  nl.update %q keys(%x) values(%x) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  %vr = nl.read %r(%x) at chunk_start : !m, tensor<1x2x8x4xf32>
  %p = nl.memory "P" init(%w : tensor<2x4x4xf32>) {every = #nl.every<8 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.dgd<>} : !m
  nl.update %p keys(%x) values(%vr) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  %kp = nl.read %p(%x) at after : !m, tensor<1x2x8x4xf32>
  nl.update %r keys(%kp) values(%vq) lr(%eta) : !m, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  return
}

// Optimizers are levels: momentum is one level below the weights it updates;
// Adam's two moments share a level (same frequency, no dependence) below
// their weights; M3's slow momentum, every 4 steps, is a slower level.
// CHECK-LABEL: levels of @train_step
// CHECK-NEXT:    level 1   every 1 step       W.momentum (nl.moment), U.m (nl.moment), U.v (nl.moment), V.M1 (nl.moment), V.V (nl.moment)
// CHECK-NEXT:    level 2   every 1 step       W (nl.param_update), U (nl.param_update), V (nl.param_update)
// CHECK-NEXT:    level 3   every 4 steps      V.M2 (nl.moment)
// DEPS-LABEL: dependences of @train_step:
// DEPS-DAG:     W.momentum -> W  (same token)
// DEPS-DAG:     U.m -> U  (same token)
// DEPS-DAG:     U.v -> U  (same token)
// DEPS-DAG:     V.M2 -> V  (same token)
func.func @train_step(%w: tensor<4x4xf32>, %u: tensor<4x4xf32>, %v: tensor<4x4xf32>,
                      %g: tensor<4x4xf32>, %m: tensor<4x4xf32>, %t: tensor<i64>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %m1 = nl.moment "W.momentum" %m, %g {every = #nl.every<1 steps>, decay = 0.9 : f64, scale = -0.01 : f64} : tensor<4x4xf32>
  %w1 = nl.param_update "W" %w with(%m1 : tensor<4x4xf32>) {every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<4x4xf32>
  %am = nl.moment "U.m" %m, %g {every = #nl.every<1 steps>, decay = 0.9 : f64, scale = 0.1 : f64} : tensor<4x4xf32>
  %av = nl.moment "U.v" %m, %g {every = #nl.every<1 steps>, decay = 0.999 : f64, scale = 0.001 : f64, power = 2 : i64} : tensor<4x4xf32>
  %u1 = nl.param_update "U" %u with(%am, %av : tensor<4x4xf32>, tensor<4x4xf32>) step(%t : tensor<i64>) {every = #nl.every<1 steps>, rule = #nl.adamw<lr = 1.0e-3, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-8, weight_decay = 0.01>} : tensor<4x4xf32>
  %m1f = nl.moment "V.M1" %m, %g {every = #nl.every<1 steps>, decay = 1.0 : f64, scale = 0.9 : f64} : tensor<4x4xf32>
  %vv = nl.moment "V.V" %m, %g {every = #nl.every<1 steps>, decay = 1.0 : f64, scale = 0.999 : f64, power = 2 : i64} : tensor<4x4xf32>
  %m2, %pending = nl.moment "V.M2" %m, %g pending(%m) step(%t : tensor<i64>) {every = #nl.every<4 steps>, decay = 1.0 : f64, scale = 0.5 : f64} : tensor<4x4xf32>, tensor<4x4xf32>
  %v1 = nl.param_update "V" %v with(%m1f, %m2, %vv : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {every = #nl.every<1 steps>, rule = #nl.m3<lr = 0.02, alpha = 0.5, eps = 1.0e-8>} : tensor<4x4xf32>
  return %w1, %u1, %v1 : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}

// Dependences through an op that mixes tokens (a convolution) are marked:
// code generation puts B, which learns from A's reads after a convolution,
// in a later chunk loop than A. The query of C's read depends on A through
// token-local ops only.
// DEPS-LABEL: dependences of @through_mixing:
// DEPS-DAG:     A -> B  (earlier token; through an op that mixes tokens)
// DEPS-LABEL: dependences of the reads' queries of @through_mixing:
// DEPS-DAG:     A -> C  (earlier token)
!mh = !nl.memory<2 heads, 4 -> 4, f32>
func.func @through_mixing(%x: tensor<1x8x8xf32>, %w: tensor<2x4x4xf32>, %conv: tensor<8x4xf32>, %eta: tensor<1x2x8xf32>) -> tensor<1x2x8x4xf32> {
  %xh = nl.split_heads %x into 2 heads : tensor<1x8x8xf32>
  %a = nl.memory "A" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !mh
  %b = nl.memory "B" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !mh
  %c = nl.memory "C" init(%w : tensor<2x4x4xf32>) {every = #nl.every<4 tokens>, model = #nl.linear, objective = #nl.l2<>, rule = #nl.momentum_gd<order = 0>} : !mh
  nl.update %a keys(%xh) values(%xh) lr(%eta) : !mh, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  %ra = nl.read %a(%xh) at chunk_start : !mh, tensor<1x2x8x4xf32>
  %merged = nl.merge_heads %ra : tensor<1x2x8x4xf32>
  %mixed = nl.causal_conv %merged, %conv : tensor<1x8x8xf32>, tensor<8x4xf32>
  %mh = nl.split_heads %mixed into 2 heads : tensor<1x8x8xf32>
  nl.update %b keys(%mh) values(%xh) lr(%eta) : !mh, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8xf32>
  %q = nl.activation silu %ra : tensor<1x2x8x4xf32>
  %rc = nl.read %c(%q) at after : !mh, tensor<1x2x8x4xf32>
  return %rc : tensor<1x2x8x4xf32>
}
