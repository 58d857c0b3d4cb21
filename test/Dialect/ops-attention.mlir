// Round trip of nl.causal_attention (HOPE-Attention), with its default scale
// 1/sqrt(d) and an explicit one.
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
