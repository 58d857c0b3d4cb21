// nl-differentiate's rule for max/min reductions (DifferentiateExtremum.cpp):
// the ties are counted, then each operand's adjoint generic recomputes the
// candidate and hands dm / ties to the candidates equal to the extremum
// (torch.amax's rule). The numbers are checked against torch.amax / amin and
// finite differences in test/parity/test_differentiate.py; here, the
// structure.
// RUN: hope-opt %s --nl-differentiate="functions=row_max,causal_max,row_min,causal_softmax" | FileCheck %s
// RUN: hope-opt %s --nl-differentiate="functions=row_max,causal_max,row_min,causal_softmax" --canonicalize --cse | hope-opt --verify-each | FileCheck %s --check-prefix=VALID

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// m[i] = max_j x[i, j] * w[i, j], from -inf (an inactive init): the ties of
// the init (elementwise), the points' ties added to them (a reduction over
// the same space), then x's and w's adjoints, parallel over (i, j), each
// sharing dm / n among the ties and differentiating x * w.
// CHECK-LABEL: func.func @row_max_vjp(
// CHECK-SAME:    %[[X:.*]]: tensor<4x3xf64>, %[[W:.*]]: tensor<4x3xf64>, %[[DM:.*]]: tensor<4xf64>)
// CHECK:         %[[M:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:           arith.maximumf
// CHECK:         %[[INIT_TIES:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%{{.*}}, %[[M]] :
// CHECK:           arith.cmpf oeq
// CHECK:         %[[TIES:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]], %[[W]], %[[M]] : {{.*}}) outs(%[[INIT_TIES]] :
// CHECK:           %[[P:.*]] = arith.mulf
// CHECK:           arith.cmpf oeq, %[[P]]
// CHECK-NOT:       arith.maximumf
// CHECK:           arith.addf
// CHECK:         %[[DX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[W]], %[[M]], %[[TIES]], %[[DM]] :
// CHECK:           arith.cmpf oeq
// CHECK:           arith.divf
// CHECK:           arith.select
// CHECK-NOT:       arith.maximumf
// CHECK:           arith.mulf
// CHECK:         %[[DW:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]], %[[M]], %[[TIES]], %[[DM]] :
// CHECK:         return %[[M]], %[[DX]], %[[DW]]
func.func @row_max(%x: tensor<4x3xf64>, %w: tensor<4x3xf64>) -> tensor<4xf64> {
  %ninf = arith.constant 0xFFF0000000000000 : f64
  %e = tensor.empty() : tensor<4xf64>
  %init = linalg.fill ins(%ninf : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  %m = linalg.generic {indexing_maps = [#id, #id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : tensor<4x3xf64>, tensor<4x3xf64>) outs(%init : tensor<4xf64>) {
  ^bb0(%a: f64, %b: f64, %o: f64):
    %p = arith.mulf %a, %b : f64
    %larger = arith.maximumf %o, %p : f64
    linalg.yield %larger : f64
  } -> tensor<4xf64>
  return %m : tensor<4xf64>
}

// The causal form of nl.causal_attention's row maxima: a point is a candidate
// only where s <= t (select(c, max(out, f), out)); the init is an argument,
// so it takes part in the ties and gets its own share.
// CHECK-LABEL: func.func @causal_max_vjp(
// CHECK-SAME:    %[[M0:.*]]: tensor<4xf64>, %[[A:.*]]: tensor<4x4xf64>, %[[DM:.*]]: tensor<4xf64>)
// CHECK:         %[[M:.*]] = linalg.generic
// CHECK:         %[[TIES:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[A]], %[[M]] :
// CHECK:           %[[T:.*]] = linalg.index 0
// CHECK:           %[[S:.*]] = linalg.index 1
// CHECK:           %[[VISIBLE:.*]] = arith.cmpi ule, %[[S]], %[[T]]
// CHECK:           %[[EQUAL:.*]] = arith.cmpf oeq
// CHECK:           arith.andi %[[VISIBLE]], %[[EQUAL]]
// CHECK:         %[[DM0:.*]] = linalg.generic {{.*}} ins(%[[M0]], %[[M]], %[[TIES]], %[[DM]] :
// CHECK:         %[[DA:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[M]], %[[TIES]], %[[DM]] :
// CHECK:           arith.andi
// CHECK:         return %[[M]], %[[DM0]], %[[DA]]
func.func @causal_max(%m0: tensor<4xf64>, %a: tensor<4x4xf64>) -> tensor<4xf64> {
  %half = arith.constant 0.5 : f64
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x4xf64>) outs(%m0 : tensor<4xf64>) {
  ^bb0(%x: f64, %o: f64):
    %scaled = arith.mulf %x, %half : f64
    %larger = arith.maximumf %o, %scaled : f64
    %t = linalg.index 0 : index
    %s = linalg.index 1 : index
    %visible = arith.cmpi ule, %s, %t : index
    %kept = arith.select %visible, %larger, %o : f64
    linalg.yield %kept : f64
  } -> tensor<4xf64>
  return %m : tensor<4xf64>
}

// A min reduction (minnumf, the candidate first) over the rows of exp(x).
// CHECK-LABEL: func.func @row_min_vjp(
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:           arith.minnumf
// CHECK:         %[[DX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK:           math.exp
// CHECK:           arith.divf
// CHECK:         return %{{.*}}, %[[DX]]
func.func @row_min(%x: tensor<4x3xf64>) -> tensor<4xf64> {
  %inf = arith.constant 0x7FF0000000000000 : f64
  %e = tensor.empty() : tensor<4xf64>
  %init = linalg.fill ins(%inf : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x3xf64>) outs(%init : tensor<4xf64>) {
  ^bb0(%a: f64, %o: f64):
    %ex = math.exp %a : f64
    %smaller = arith.minnumf %ex, %o : f64
    linalg.yield %smaller : f64
  } -> tensor<4xf64>
  return %m : tensor<4xf64>
}

// nl.causal_attention's softmax as nl-lower-blocks-to-linalg writes it
// (p = exp(a - m) where s <= t, else 0; p / sum p), differentiated through
// its row maxima: the max's rule runs where the weights' adjoint reaches m.
// CHECK-LABEL: func.func @causal_softmax_vjp(
// CHECK:         arith.maximumf
// CHECK:         arith.andi
// CHECK:         return
func.func @causal_softmax(%a: tensor<4x4xf64>) -> tensor<4x4xf64> {
  %ninf = arith.constant 0xFFF0000000000000 : f64
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<4xf64>
  %minit = linalg.fill ins(%ninf : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x4xf64>) outs(%minit : tensor<4xf64>) {
  ^bb0(%x: f64, %o: f64):
    %larger = arith.maximumf %o, %x : f64
    %t = linalg.index 0 : index
    %s = linalg.index 1 : index
    %visible = arith.cmpi ule, %s, %t : index
    %kept = arith.select %visible, %larger, %o : f64
    linalg.yield %kept : f64
  } -> tensor<4xf64>
  %e2 = tensor.empty() : tensor<4x4xf64>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %m : tensor<4x4xf64>, tensor<4xf64>) outs(%e2 : tensor<4x4xf64>) {
  ^bb0(%x: f64, %mx: f64, %o: f64):
    %shifted = arith.subf %x, %mx : f64
    %ex = math.exp %shifted : f64
    %t = linalg.index 0 : index
    %s = linalg.index 1 : index
    %visible = arith.cmpi ule, %s, %t : index
    %w = arith.select %visible, %ex, %zero : f64
    linalg.yield %w : f64
  } -> tensor<4x4xf64>
  %zinit = linalg.fill ins(%zero : f64) outs(%e : tensor<4xf64>) -> tensor<4xf64>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%p : tensor<4x4xf64>) outs(%zinit : tensor<4xf64>) {
  ^bb0(%x: f64, %o: f64):
    %s = arith.addf %o, %x : f64
    linalg.yield %s : f64
  } -> tensor<4xf64>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %sum : tensor<4x4xf64>, tensor<4xf64>) outs(%e2 : tensor<4x4xf64>) {
  ^bb0(%x: f64, %d: f64, %o: f64):
    %q = arith.divf %x, %d : f64
    linalg.yield %q : f64
  } -> tensor<4x4xf64>
  return %y : tensor<4x4xf64>
}

// VALID-COUNT-4: func.func @{{[a-z_]+}}_vjp
