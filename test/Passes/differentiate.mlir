// nl-differentiate emits @<name>_vjp: the function, then the reverse sweep.
// The numbers are checked against finite differences in
// test/parity/test_differentiate.py; here, the structure.
// RUN: hope-opt %s --nl-differentiate="functions=elementwise,matmul,reduce,loop,slices,stopped,padded,conv" | FileCheck %s
// RUN: hope-opt %s --nl-differentiate="functions=elementwise,matmul,reduce,loop,slices,stopped,padded,conv" --canonicalize --cse | hope-opt --verify-each | FileCheck %s --check-prefix=VALID

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// y = tanh(x) * exp(w): one adjoint generic per input, the body recomputed.
// CHECK-LABEL: func.func @elementwise_vjp(
// CHECK-SAME:    %[[X:.*]]: tensor<4x3xf64>, %[[W:.*]]: tensor<4x3xf64>, %[[DY:.*]]: tensor<4x3xf64>)
// CHECK-SAME:    -> (tensor<4x3xf64>, tensor<4x3xf64>, tensor<4x3xf64>)
// CHECK:         %[[Y:.*]] = linalg.generic
// CHECK:         %[[DX:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]], %[[DY]] :
// CHECK:           math.tanh
// CHECK:           math.exp
// CHECK:           arith.subf
// CHECK:         %[[DW:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]], %[[DY]] :
// CHECK:         return %[[Y]], %[[DX]], %[[DW]]
func.func @elementwise(%x: tensor<4x3xf64>, %w: tensor<4x3xf64>) -> tensor<4x3xf64> {
  %e = tensor.empty() : tensor<4x3xf64>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : tensor<4x3xf64>, tensor<4x3xf64>) outs(%e : tensor<4x3xf64>) {
  ^bb0(%a: f64, %b: f64, %o: f64):
    %t = math.tanh %a : f64
    %x2 = math.exp %b : f64
    %p = arith.mulf %t, %x2 : f64
    linalg.yield %p : f64
  } -> tensor<4x3xf64>
  return %y : tensor<4x3xf64>
}

// A named matmul is generalised (loops m, n, k); the adjoint of A reduces
// over n, the adjoint of B over m.
// CHECK-LABEL: func.func @matmul_vjp(
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["reduction", "parallel", "parallel"]}
// CHECK-NOT:     linalg.matmul
func.func @matmul(%a: tensor<4x5xf64>, %b: tensor<5x3xf64>) -> tensor<4x3xf64> {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<4x3xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<4x3xf64>) -> tensor<4x3xf64>
  %c = linalg.matmul ins(%a, %b : tensor<4x5xf64>, tensor<5x3xf64>) outs(%init : tensor<4x3xf64>) -> tensor<4x3xf64>
  return %c : tensor<4x3xf64>
}

// A sum reduction of x*x/w (a sum accumulator): the adjoints broadcast the
// row adjoint back over the reduced dimension.
// CHECK-LABEL: func.func @reduce_vjp(
// CHECK-SAME:    -> (tensor<4xf64>, tensor<4x3xf64>, tensor<4x3xf64>)
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK:           arith.divf
func.func @reduce(%x: tensor<4x3xf64>, %w: tensor<4x3xf64>) -> tensor<4xf64> {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<4xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  %r = linalg.generic {indexing_maps = [#id, #id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : tensor<4x3xf64>, tensor<4x3xf64>) outs(%init : tensor<4xf64>) {
  ^bb0(%a: f64, %b: f64, %o: f64):
    %sq = arith.mulf %a, %a : f64
    %q = arith.divf %sq, %b : f64
    %s = arith.addf %o, %q : f64
    linalg.yield %s : f64
  } -> tensor<4xf64>
  return %r : tensor<4xf64>
}

// A loop carrying a state through a nonlinear update, s <- tanh(s * w_i):
// the forward records the entry state of every iteration in a tape, the
// reverse loop walks the iterations backwards and recomputes each from it.
// CHECK-LABEL: func.func @loop_vjp(
// CHECK:         %[[TRIP:.*]] = arith.maxsi
// CHECK:         %[[TAPE:.*]] = tensor.empty(%[[TRIP]]) : tensor<?x3xf64>
// CHECK:         %[[FWD:.*]]:2 = scf.for {{.*}} iter_args({{.*}}, %[[T:.*]] = %[[TAPE]])
// CHECK:           tensor.insert_slice %{{.*}} into %[[T]][%{{.*}}, 0] [1, 3] [1, 1] : tensor<3xf64> into tensor<?x3xf64>
// CHECK:         scf.for %[[R:.*]] = %{{.*}} to %[[TRIP]]
// CHECK:           tensor.extract_slice %[[FWD]]#1[%{{.*}}, 0] [1, 3] [1, 1] : tensor<?x3xf64> to tensor<3xf64>
// CHECK:           math.tanh
func.func @loop(%s0: tensor<3xf64>, %w: tensor<5x3xf64>) -> tensor<3xf64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %r = scf.for %i = %c0 to %c5 step %c1 iter_args(%s = %s0) -> tensor<3xf64> {
    %wi = tensor.extract_slice %w[%i, 0] [1, 3] [1, 1] : tensor<5x3xf64> to tensor<3xf64>
    %e = tensor.empty() : tensor<3xf64>
    %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
        ins(%s, %wi : tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<3xf64>) {
    ^bb0(%a: f64, %b: f64, %o: f64):
      %p = arith.mulf %a, %b : f64
      %t = math.tanh %p : f64
      linalg.yield %t : f64
    } -> tensor<3xf64>
    scf.yield %n : tensor<3xf64>
  }
  return %r : tensor<3xf64>
}

// An output assembled slice by slice (write-only iter_arg) is not recorded;
// expand_shape, select and insert_slice have rules.
// CHECK-LABEL: func.func @slices_vjp(
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<3xf64>, tensor<4x3xf64>, tensor<?x3xf64>)
// CHECK:         tensor.collapse_shape
func.func @slices(%s0: tensor<3xf64>, %x: tensor<4x3xf64>) -> (tensor<3xf64>, tensor<4x3xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %out0 = tensor.empty() : tensor<4x3xf64>
  %r:2 = scf.for %i = %c0 to %c4 step %c1 iter_args(%s = %s0, %out = %out0) -> (tensor<3xf64>, tensor<4x3xf64>) {
    %xi = tensor.extract_slice %x[%i, 0] [1, 3] [1, 1] : tensor<4x3xf64> to tensor<3xf64>
    %e = tensor.empty() : tensor<3xf64>
    %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
        ins(%s, %xi : tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<3xf64>) {
    ^bb0(%a: f64, %b: f64, %o: f64):
      %p = arith.mulf %a, %b : f64
      %q = arith.addf %p, %b : f64
      linalg.yield %q : f64
    } -> tensor<3xf64>
    %rem = arith.remui %i, %c2 : index
    %even = arith.cmpi eq, %rem, %c0 : index
    %chosen = arith.select %even, %n, %s : tensor<3xf64>
    %row = tensor.expand_shape %chosen [[0, 1]] output_shape [1, 3] : tensor<3xf64> into tensor<1x3xf64>
    %written = tensor.insert_slice %row into %out[%i, 0] [1, 3] [1, 1] : tensor<1x3xf64> into tensor<4x3xf64>
    scf.yield %n, %written : tensor<3xf64>, tensor<4x3xf64>
  }
  return %r#0, %r#1 : tensor<3xf64>, tensor<4x3xf64>
}

// No gradient through nl.stop_gradient: d/dw of w * stop_gradient(w) is
// stop_gradient(w), not 2w. Named arguments and results name the cotangents
// and adjoints.
// CHECK-LABEL: func.func @stopped_vjp(
// CHECK-SAME:    {nl.input = "w"}, %{{.*}}: tensor<3xf64> {nl.input = "d_y"})
// CHECK-SAME:    -> (tensor<3xf64> {nl.output = "y"}, tensor<3xf64> {nl.output = "d_w"})
// CHECK:         nl.stop_gradient
// CHECK-COUNT-1: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} :
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @stopped(%w: tensor<3xf64> {nl.input = "w"}) -> (tensor<3xf64> {nl.output = "y"}) {
  %sw = nl.stop_gradient %w : tensor<3xf64>
  %e = tensor.empty() : tensor<3xf64>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%w, %sw : tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<3xf64>) {
  ^bb0(%a: f64, %b: f64, %o: f64):
    %p = arith.mulf %a, %b : f64
    linalg.yield %p : f64
  } -> tensor<3xf64>
  return %y : tensor<3xf64>
}

// A constant padding (a causal convolution's zeros in front): the source's
// adjoint is the result's adjoint at the source's window.
// CHECK-LABEL: func.func @padded_vjp(
// CHECK:         tensor.extract_slice %{{.*}}[1] [5] [1] : tensor<8xf64> to tensor<5xf64>
func.func @padded(%x: tensor<5xf64>) -> tensor<8xf64> {
  %zero = arith.constant 0.0 : f64
  %p = tensor.pad %x low[1] high[2] {
  ^bb0(%i: index):
    tensor.yield %zero : f64
  } : tensor<5xf64> to tensor<8xf64>
  %e = tensor.empty() : tensor<8xf64>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%p : tensor<8xf64>) outs(%e : tensor<8xf64>) {
  ^bb0(%a: f64, %o: f64):
    %sq = arith.mulf %a, %a : f64
    linalg.yield %sq : f64
  } -> tensor<8xf64>
  return %y : tensor<8xf64>
}

// A causal depthwise convolution (window 3) on the zero-padded input: the
// input's index t + j makes its adjoint a scatter-add over t and j
// (reductions), parallel over the batch and channels.
// CHECK-LABEL: func.func @conv_vjp(
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #[[SCATTER:.*]]], iterator_types = ["parallel", "reduction", "parallel", "reduction"]}
// CHECK-SAME:      outs(%{{.*}} : tensor<2x7x3xf64>)
func.func @conv(%x: tensor<2x5x3xf64>, %w: tensor<3x3xf64>) -> tensor<2x5x3xf64> {
  %zero = arith.constant 0.0 : f64
  %p = tensor.pad %x low[0, 2, 0] high[0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index):
    tensor.yield %zero : f64
  } : tensor<2x5x3xf64> to tensor<2x7x3xf64>
  %e = tensor.empty() : tensor<2x5x3xf64>
  %init = linalg.fill ins(%zero : f64) outs(%e : tensor<2x5x3xf64>) -> tensor<2x5x3xf64>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1 + d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %w : tensor<2x7x3xf64>, tensor<3x3xf64>) outs(%init : tensor<2x5x3xf64>) {
  ^bb0(%a: f64, %b: f64, %o: f64):
    %m = arith.mulf %a, %b : f64
    %s = arith.addf %o, %m : f64
    linalg.yield %s : f64
  } -> tensor<2x5x3xf64>
  return %y : tensor<2x5x3xf64>
}

// VALID-COUNT-8: func.func @{{[a-z]+}}_vjp
