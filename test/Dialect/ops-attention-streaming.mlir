// Round trip of nl.causal_attention (HOPE-Attention), with its default scale
// 1/sqrt(d) and an explicit one, and of the streaming convolution.
// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

// CHECK-LABEL: func.func @attention
// CHECK: nl.causal_attention %arg0, %arg1, %arg2 : tensor<?x8x?x64xf32>
// CHECK: nl.causal_attention %arg0, %arg1, %arg2 {scale = 5.000000e-01 : f64} : tensor<?x8x?x64xf32>
func.func @attention(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>, %v: tensor<?x8x?x64xf32>)
    -> (tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>) {
  %0 = nl.causal_attention %q, %k, %v : tensor<?x8x?x64xf32>
  %1 = nl.causal_attention %q, %k, %v {scale = 0.5 : f64} : tensor<?x8x?x64xf32>
  return %0, %1 : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>
}

// Streaming convolution: the history operand and nl.sequence_tail.
// CHECK-LABEL: func.func @streaming_conv
// CHECK: nl.causal_conv %arg0, %arg1 history(%arg2 : tensor<?x3x8xf32>) : tensor<?x?x8xf32>, tensor<8x4xf32>
// CHECK: nl.sequence_tail %arg2, %arg0 : tensor<?x3x8xf32>, tensor<?x?x8xf32>
func.func @streaming_conv(%x: tensor<?x?x8xf32>, %w: tensor<8x4xf32>, %h: tensor<?x3x8xf32>)
    -> (tensor<?x?x8xf32>, tensor<?x3x8xf32>) {
  %0 = nl.causal_conv %x, %w history(%h : tensor<?x3x8xf32>) : tensor<?x?x8xf32>, tensor<8x4xf32>
  %1 = nl.sequence_tail %h, %x : tensor<?x3x8xf32>, tensor<?x?x8xf32>
  return %0, %1 : tensor<?x?x8xf32>, tensor<?x3x8xf32>
}
