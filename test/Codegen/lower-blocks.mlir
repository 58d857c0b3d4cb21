// RUN: hope-opt %s --nl-lower-blocks-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @linear
// CHECK-NOT: nl.linear
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @linear(%x: tensor<?x?x8xf32>, %w: tensor<4x8xf32>) -> tensor<?x?x4xf32> {
  %y = nl.linear %x, %w : tensor<?x?x8xf32>, tensor<4x8xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// CHECK-LABEL: func.func @heads
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [%{{.*}}, %{{.*}}, 2, 4]
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 1, 3]
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 1, 3]
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]]
func.func @heads(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %s = nl.split_heads %x into 2 heads : tensor<?x?x8xf32>
  %m = nl.merge_heads %s : tensor<?x2x?x4xf32>
  return %m : tensor<?x?x8xf32>
}

// -----

// RMS norm: a sum of squares, then x * rsqrt(sum / D + eps) * scale.
// CHECK-LABEL: func.func @rms_norm
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: linalg.generic
// CHECK: arith.divf
// CHECK: arith.addf %{{.*}}, %[[EPS]]
// CHECK: math.rsqrt
func.func @rms_norm(%x: tensor<?x?x8xf32>, %g: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %y = nl.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : tensor<?x?x8xf32>, tensor<8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @l2_normalize
// CHECK: math.sqrt
// CHECK: arith.maximumf
// CHECK: arith.divf
func.func @l2_normalize(%x: tensor<2x3x4x8xf64>) -> tensor<2x3x4x8xf64> {
  %y = nl.l2_normalize %x : tensor<2x3x4x8xf64>
  return %y : tensor<2x3x4x8xf64>
}

// -----

// softplus(x) = max(x, 0) + log1p(exp(-|x|)), scaled; the width-1 dimension
// is collapsed first.
// CHECK-LABEL: func.func @rate
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : tensor<?x2x?x1xf32> into tensor<?x2x?xf32>
// CHECK: arith.maximumf
// CHECK: math.absf
// CHECK: math.exp
// CHECK: math.log1p
// CHECK: arith.mulf
func.func @rate(%x: tensor<?x2x?x1xf32>) -> tensor<?x2x?xf32> {
  %y = nl.rate softplus %x scale 1.000000e-03 : tensor<?x2x?x1xf32>
  return %y : tensor<?x2x?xf32>
}

// -----

// CHECK-LABEL: func.func @activations
// CHECK: math.erf
// CHECK: math.exp
func.func @activations(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = nl.activation gelu %x : tensor<4xf32>
  %b = nl.activation silu %a : tensor<4xf32>
  return %b : tensor<4xf32>
}

// -----

// Causal convolution: W-1 zeros before the first token, then a window sum.
// CHECK-DAG: #[[XP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 + d3, d2)>
// CHECK-LABEL: func.func @causal_conv
// CHECK: tensor.pad %{{.*}} low[0, 3, 0] high[0, 0, 0]
// CHECK: linalg.generic {indexing_maps = [#[[XP]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
func.func @causal_conv(%x: tensor<?x?x8xf32>, %w: tensor<8x4xf32>) -> tensor<?x?x8xf32> {
  %y = nl.causal_conv %x, %w : tensor<?x?x8xf32>, tensor<8x4xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// Streaming: the previous pieces' last W-1 inputs instead of the zeros, the
// history first and then x along the tokens, under the same window sum.
// CHECK-DAG: #[[XP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 + d3, d2)>
// CHECK-LABEL: func.func @causal_conv_history(
// CHECK-SAME: %[[X:.*]]: tensor<?x?x8xf32>, %[[W:.*]]: tensor<8x4xf32>, %[[H:.*]]: tensor<?x3x8xf32>)
// CHECK-NOT: tensor.pad
// CHECK: %[[JOINED:.*]] = tensor.concat dim(1) %[[H]], %[[X]] : (tensor<?x3x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic {indexing_maps = [#[[XP]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[JOINED]], %[[W]] :
func.func @causal_conv_history(%x: tensor<?x?x8xf32>, %w: tensor<8x4xf32>,
                               %h: tensor<?x3x8xf32>) -> tensor<?x?x8xf32> {
  %y = nl.causal_conv %x, %w history(%h : tensor<?x3x8xf32>) : tensor<?x?x8xf32>, tensor<8x4xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// The next piece's history: the last 3 tokens of [history; x], which start
// at token T of the joined sequence (x's length).
// CHECK-LABEL: func.func @sequence_tail(
// CHECK-SAME: %[[H:.*]]: tensor<?x3x8xf32>, %[[X:.*]]: tensor<?x?x8xf32>)
// CHECK: %[[JOINED:.*]] = tensor.concat dim(1) %[[H]], %[[X]] : (tensor<?x3x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
// CHECK: %[[T:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[TAIL:.*]] = tensor.extract_slice %[[JOINED]][0, %[[T]], 0] [%{{.*}}, 3, 8] [1, 1, 1] : tensor<?x?x8xf32> to tensor<?x3x8xf32>
// CHECK: return %[[TAIL]]
func.func @sequence_tail(%h: tensor<?x3x8xf32>, %x: tensor<?x?x8xf32>) -> tensor<?x3x8xf32> {
  %t = nl.sequence_tail %h, %x : tensor<?x3x8xf32>, tensor<?x?x8xf32>
  return %t : tensor<?x3x8xf32>
}

// -----

// Chunk means: pad to whole chunks, sum each, divide by the chunk's count.
// CHECK-LABEL: func.func @chunk_pool
// CHECK: arith.ceildivui
// CHECK: tensor.pad
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2], [3]]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: linalg.index 1
// CHECK: arith.minui
// CHECK: arith.divf
func.func @chunk_pool(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %y = nl.chunk_pool %x chunk 4 : tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// The forward pass of a stop-gradient is the identity.
// CHECK-LABEL: func.func @stop_gradient
// CHECK-NEXT: return %arg0
func.func @stop_gradient(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nl.stop_gradient %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// nl.causal_attention: scores q.k^T, row maxima of the visible (s <= t)
// scaled scores, masked exponentials, their sums, then (p v) / sum; the
// default scale is 1/sqrt(d) = 0.5 for d = 4.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: %[[S:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : {{.*}}) outs(%{{.*}} : tensor<?x2x?x?xf32>)
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<?x2x?x?xf32>) outs(%{{.*}} : tensor<?x2x?xf32>)
// CHECK: arith.mulf %{{.*}}, %[[SCALE]]
// CHECK: arith.maximumf
// CHECK: %[[T:.*]] = linalg.index 2
// CHECK: %[[SS:.*]] = linalg.index 3
// CHECK: arith.cmpi ule, %[[SS]], %[[T]]
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[M]] : tensor<?x2x?x?xf32>, tensor<?x2x?xf32>)
// CHECK: math.exp
// CHECK: arith.select
// CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<?x2x?x?xf32>) outs(%{{.*}} : tensor<?x2x?xf32>)
// CHECK: %[[PV:.*]] = linalg.generic {{.*}} ins(%[[P]], %arg2 : tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[PV]], %[[L]] : tensor<?x2x?x4xf32>, tensor<?x2x?xf32>)
// CHECK: arith.divf
func.func @attention(%q: tensor<?x2x?x4xf32>, %k: tensor<?x2x?x4xf32>, %v: tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32> {
  %0 = nl.causal_attention %q, %k, %v : tensor<?x2x?x4xf32>
  return %0 : tensor<?x2x?x4xf32>
}
