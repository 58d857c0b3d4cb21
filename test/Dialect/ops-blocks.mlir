// Round trip of the building blocks around the memories: nl.stop_gradient,
// nl.linear, nl.split_heads, nl.merge_heads, nl.rms_norm, nl.l2_normalize,
// nl.activation, nl.rate, nl.causal_conv, nl.chunk_pool, nl.gate and
// nl.embedding. The result types
// that the custom forms infer are checked in ops-inferred-types.mlir; here
// the function results pin them too.
// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

// CHECK-LABEL: func.func @titans_inputs
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x?x64xf32>, %[[G:[^:]+]]: tensor<64xf32>, %[[C:[^:]+]]: tensor<64x4xf32>, %[[WQ:[^:]+]]: tensor<32x64xf32>)
// CHECK: %[[H:.+]] = nl.rms_norm %[[X]], %[[G]] : tensor<?x?x64xf32>, tensor<64xf32>{{$}}
// CHECK: %[[H2:.+]] = nl.rms_norm %[[H]], %[[G]] {epsilon = 1.000000e-05 : f64} : tensor<?x?x64xf32>, tensor<64xf32>{{$}}
// CHECK: %[[CV:.+]] = nl.causal_conv %[[H2]], %[[C]] : tensor<?x?x64xf32>, tensor<64x4xf32>{{$}}
// CHECK: %[[Q:.+]] = nl.linear %[[CV]], %[[WQ]] : tensor<?x?x64xf32>, tensor<32x64xf32>{{$}}
// CHECK: %[[QH:.+]] = nl.split_heads %[[Q]] into 4 heads : tensor<?x?x32xf32>{{$}}
// CHECK: %[[QN:.+]] = nl.l2_normalize %[[QH]] : tensor<?x4x?x8xf32>{{$}}
// CHECK: %[[QN2:.+]] = nl.l2_normalize %[[QN]] {epsilon = 1.000000e-03 : f64} : tensor<?x4x?x8xf32>{{$}}
// CHECK: %[[SG:.+]] = nl.stop_gradient %[[QN2]] : tensor<?x4x?x8xf32>{{$}}
// CHECK: %[[O:.+]] = nl.merge_heads %[[SG]] : tensor<?x4x?x8xf32>{{$}}
// CHECK: return %[[O]] : tensor<?x?x32xf32>
func.func @titans_inputs(%x: tensor<?x?x64xf32>, %g: tensor<64xf32>,
                         %c: tensor<64x4xf32>, %wq: tensor<32x64xf32>)
    -> tensor<?x?x32xf32> {
  %h = nl.rms_norm %x, %g : tensor<?x?x64xf32>, tensor<64xf32>
  %h2 = nl.rms_norm %h, %g {epsilon = 1.0e-5} : tensor<?x?x64xf32>, tensor<64xf32>
  %cv = nl.causal_conv %h2, %c : tensor<?x?x64xf32>, tensor<64x4xf32>
  %q = nl.linear %cv, %wq : tensor<?x?x64xf32>, tensor<32x64xf32>
  %qh = nl.split_heads %q into 4 heads : tensor<?x?x32xf32>
  %qn = nl.l2_normalize %qh : tensor<?x4x?x8xf32>
  %qn2 = nl.l2_normalize %qn {epsilon = 1.0e-3} : tensor<?x4x?x8xf32>
  %sg = nl.stop_gradient %qn2 : tensor<?x4x?x8xf32>
  %o = nl.merge_heads %sg : tensor<?x4x?x8xf32>
  return %o : tensor<?x?x32xf32>
}

// Every activation kind; nl.stop_gradient on an integer tensor (it takes any
// ranked tensor).

// CHECK-LABEL: func.func @activations
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x3xf32>, %[[I:[^:]+]]: tensor<4xi32>)
// CHECK: %[[A:.+]] = nl.activation silu %[[X]] : tensor<2x3xf32>{{$}}
// CHECK: %[[B:.+]] = nl.activation gelu %[[A]] : tensor<2x3xf32>{{$}}
// CHECK: %[[C:.+]] = nl.activation sigmoid %[[B]] : tensor<2x3xf32>{{$}}
// CHECK: %[[D:.+]] = nl.activation softplus %[[C]] : tensor<2x3xf32>{{$}}
// CHECK: %[[S:.+]] = nl.stop_gradient %[[I]] : tensor<4xi32>{{$}}
// CHECK: return %[[D]], %[[S]] : tensor<2x3xf32>, tensor<4xi32>
func.func @activations(%x: tensor<2x3xf32>, %i: tensor<4xi32>)
    -> (tensor<2x3xf32>, tensor<4xi32>) {
  %a = nl.activation silu %x : tensor<2x3xf32>
  %b = nl.activation gelu %a : tensor<2x3xf32>
  %c = nl.activation sigmoid %b : tensor<2x3xf32>
  %d = nl.activation softplus %c : tensor<2x3xf32>
  %s = nl.stop_gradient %i : tensor<4xi32>
  return %d, %s : tensor<2x3xf32>, tensor<4xi32>
}

// Rates: sigmoid with the default scale (elided), softplus with a scale;
// per-chunk rates from a mean-pooled sequence.

// CHECK-LABEL: func.func @rates
// CHECK-SAME: (%[[R:[^:]+]]: tensor<?x4x?x1xf32>, %[[X:[^:]+]]: tensor<2x100x16xf32>, %[[W:[^:]+]]: tensor<4x16xf32>)
// CHECK: %[[ALPHA:.+]] = nl.rate sigmoid %[[R]] : tensor<?x4x?x1xf32>{{$}}
// CHECK: %[[ETA:.+]] = nl.rate softplus %[[R]] scale 1.000000e-03 : tensor<?x4x?x1xf32>{{$}}
// CHECK: %[[P:.+]] = nl.chunk_pool %[[X]] chunk 64 : tensor<2x100x16xf32>{{$}}
// CHECK: %[[L:.+]] = nl.linear %[[P]], %[[W]] : tensor<2x2x16xf32>, tensor<4x16xf32>{{$}}
// CHECK: %[[LH:.+]] = nl.split_heads %[[L]] into 4 heads : tensor<2x2x4xf32>{{$}}
// CHECK: %[[BETA:.+]] = nl.rate sigmoid %[[LH]] scale 5.000000e-01 : tensor<2x4x2x1xf32>{{$}}
// CHECK: return %[[ALPHA]], %[[ETA]], %[[BETA]] : tensor<?x4x?xf32>, tensor<?x4x?xf32>, tensor<2x4x2xf32>
func.func @rates(%r: tensor<?x4x?x1xf32>, %x: tensor<2x100x16xf32>,
                 %w: tensor<4x16xf32>)
    -> (tensor<?x4x?xf32>, tensor<?x4x?xf32>, tensor<2x4x2xf32>) {
  %alpha = nl.rate sigmoid %r scale 1.0 : tensor<?x4x?x1xf32>
  %eta = nl.rate softplus %r scale 1.0e-3 : tensor<?x4x?x1xf32>
  %p = nl.chunk_pool %x chunk 64 : tensor<2x100x16xf32>
  %l = nl.linear %p, %w : tensor<2x2x16xf32>, tensor<4x16xf32>
  %lh = nl.split_heads %l into 4 heads : tensor<2x2x4xf32>
  %beta = nl.rate sigmoid %lh {scale = 0.5} : tensor<2x4x2x1xf32>
  return %alpha, %eta, %beta : tensor<?x4x?xf32>, tensor<?x4x?xf32>, tensor<2x4x2xf32>
}

// A projection with a bias; a per-head gate on a read.

// CHECK-LABEL: func.func @bias_and_gate
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x?x16xf32>, %[[W:[^:]+]]: tensor<4x16xf32>, %[[B:[^:]+]]: tensor<4xf32>, %[[Y:[^:]+]]: tensor<?x4x?x8xf32>)
// CHECK: %[[L:.+]] = nl.linear %[[X]], %[[W]] bias %[[B]] : tensor<?x?x16xf32>, tensor<4x16xf32>, tensor<4xf32>{{$}}
// CHECK: %[[G:.+]] = nl.rate sigmoid %{{.+}} : tensor<?x4x?x1xf32>{{$}}
// CHECK: %[[YG:.+]] = nl.gate %[[Y]], %[[G]] : tensor<?x4x?x8xf32>, tensor<?x4x?xf32>{{$}}
// CHECK: return %[[L]], %[[YG]] : tensor<?x?x4xf32>, tensor<?x4x?x8xf32>
func.func @bias_and_gate(%x: tensor<?x?x16xf32>, %w: tensor<4x16xf32>, %b: tensor<4xf32>,
                         %y: tensor<?x4x?x8xf32>) -> (tensor<?x?x4xf32>, tensor<?x4x?x8xf32>) {
  %l = nl.linear %x, %w bias %b : tensor<?x?x16xf32>, tensor<4x16xf32>, tensor<4xf32>
  %lh = nl.split_heads %l into 4 heads : tensor<?x?x4xf32>
  %g = nl.rate sigmoid %lh : tensor<?x4x?x1xf32>
  %yg = nl.gate %y, %g : tensor<?x4x?x8xf32>, tensor<?x4x?xf32>
  return %l, %yg : tensor<?x?x4xf32>, tensor<?x4x?x8xf32>
}

// CHECK-LABEL: func.func @embedding
// CHECK: %[[E:.+]] = nl.embedding %arg0, %arg1 : tensor<?x?xi64>, tensor<100x8xf32>{{$}}
// CHECK: return %[[E]] : tensor<?x?x8xf32>
func.func @embedding(%ids: tensor<?x?xi64>, %table: tensor<100x8xf32>) -> tensor<?x?x8xf32> {
  %e = nl.embedding %ids, %table : tensor<?x?xi64>, tensor<100x8xf32>
  return %e : tensor<?x?x8xf32>
}
