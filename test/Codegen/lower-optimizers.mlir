// nl-lower-optimizers: each optimizer level as linalg/arith on tensors, one
// function per rule and per piece (the numbers: test/parity/test_optimizers.py).
// RUN: hope-opt %s --nl-lower-optimizers | FileCheck %s
// RUN: hope-opt %s --nl-lower-optimizers --nl-lower-blocks-to-linalg -o /dev/null

// SGD momentum with coupled weight decay and a run-time rate:
// m <- 0.9 m - (g + 0.01 W); W <- W + r m, r rounded once from float64.

// CHECK-LABEL: func.func @sgd
// CHECK-NOT: nl.
// CHECK: %[[M:.+]] = linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>)
// CHECK: ^bb0(%[[S:[^:]+]]: f32, %[[G:[^:]+]]: f32, %[[W:[^:]+]]: f32,
// CHECK:   %[[WD:.+]] = arith.mulf %{{.+}}, %[[W]] : f32
// CHECK:   %[[GW:.+]] = arith.addf %[[G]], %[[WD]] : f32
// CHECK:   %[[DS:.+]] = arith.mulf %{{.+}}, %[[S]] : f32
// CHECK:   %[[DG:.+]] = arith.mulf %{{.+}}, %[[GW]] : f32
// CHECK:   arith.addf %[[DS]], %[[DG]] : f32
// CHECK: %[[RATE:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<f32>) outs(%{{.+}} : tensor<1xf64>)
// CHECK:   %[[R64:.+]] = arith.extf %{{.+}} : f32 to f64
// CHECK:   arith.mulf %{{.+}}, %[[R64]] : f64
// CHECK: %[[NEW:.+]] = linalg.generic
// CHECK-SAME: ins(%{{.+}}, %[[M]], %[[RATE]] : tensor<8x4xf32>, tensor<8x4xf32>, tensor<1xf64>)
// CHECK:   %[[R32:.+]] = arith.truncf %{{.+}} : f64 to f32
// CHECK:   %[[STEP:.+]] = arith.mulf %[[R32]], %{{.+}} : f32
// CHECK:   arith.addf %{{.+}}, %[[STEP]] : f32
// CHECK: return %[[NEW]], %[[M]]
func.func @sgd(%w: tensor<8x4xf32>, %m: tensor<8x4xf32>, %g: tensor<8x4xf32>,
               %r: tensor<f32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %m1 = nl.moment "W.m" %m, %g l2(%w) {every = #nl.every<1 steps>, decay = 0.9,
                                       scale = -1.0, weight_decay = 0.01} : tensor<8x4xf32>
  %w1 = nl.param_update "W" %w with(%m1 : tensor<8x4xf32>) lr(%r : tensor<f32>) {
      every = #nl.every<1 steps>, rule = #nl.sgd_momentum} : tensor<8x4xf32>
  return %w1, %m1 : tensor<8x4xf32>, tensor<8x4xf32>
}

// AdamW: bias corrections 1 - beta^t from the step count in float64, the
// second one under a square root, decoupled decay 1 - r wd.

// CHECK-LABEL: func.func @adamw
// CHECK-NOT: nl.
// CHECK: %[[STEPSIZE:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<1xf64>, tensor<i64>) outs(%{{.+}} : tensor<1xf64>)
// CHECK:   %[[T:.+]] = arith.sitofp %{{.+}} : i64 to f64
// CHECK:   %[[P1:.+]] = math.powf %{{.+}}, %[[T]] : f64
// CHECK:   %[[C1:.+]] = arith.subf %{{.+}}, %[[P1]] : f64
// CHECK:   arith.divf %{{.+}}, %[[C1]] : f64
// CHECK: %[[SECOND:.+]] = linalg.generic
// CHECK:   %[[P2:.+]] = math.powf %{{.+}}, %{{.+}} : f64
// CHECK:   %[[C2:.+]] = arith.subf %{{.+}}, %[[P2]] : f64
// CHECK:   math.sqrt %[[C2]] : f64
// CHECK: %[[KEEP:.+]] = linalg.generic
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}}, %{{.+}}, %[[STEPSIZE]], %[[SECOND]], %[[KEEP]] : tensor<16xf64>, tensor<16xf64>, tensor<16xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>)
// CHECK:   math.sqrt %{{.+}} : f64
// CHECK:   arith.divf
// CHECK:   arith.addf
// CHECK:   arith.divf
// CHECK:   arith.mulf
// CHECK:   arith.subf
func.func @adamw(%w: tensor<16xf64>, %m: tensor<16xf64>, %v: tensor<16xf64>,
                 %g: tensor<16xf64>, %t: tensor<i64>) -> tensor<16xf64> {
  %m1 = nl.moment "b.m" %m, %g {every = #nl.every<1 steps>, decay = 0.9,
                                scale = 0.1} : tensor<16xf64>
  %v1 = nl.moment "b.v" %v, %g {every = #nl.every<1 steps>, decay = 0.999,
                                scale = 0.001, power = 2} : tensor<16xf64>
  %w1 = nl.param_update "b" %w with(%m1, %v1 : tensor<16xf64>, tensor<16xf64>)
      step(%t : tensor<i64>) {every = #nl.every<1 steps>,
      rule = #nl.adamw<lr = 1.0e-03, beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08,
                       weight_decay = 0.01>} : tensor<16xf64>
  return %w1 : tensor<16xf64>
}

// Muon on a tall matrix, every 2 steps: NS5 transposes the 6x4 momentum,
// divides it by its Frobenius norm (float64 sum of squares, + 1e-7) and runs
// 5 steps of 3 contractions; at steps that are multiples of 2 the result
// replaces the parameter (an element-wise select on the step count).

// CHECK-LABEL: func.func @muon
// CHECK-NOT: nl.
// CHECK: %[[XT:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<6x4xf32>) outs(%{{.+}} : tensor<4x6xf32>)
// CHECK: %[[SQ:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]} ins(%[[XT]] : tensor<4x6xf32>) outs(%{{.+}} : tensor<1xf64>)
// CHECK: %[[DIV:.+]] = linalg.generic {{.+}} ins(%[[SQ]] : tensor<1xf64>) outs(%{{.+}} : tensor<1xf32>)
// CHECK:   math.sqrt %{{.+}} : f64
// CHECK: linalg.generic {{.+}} ins(%[[XT]], %[[DIV]] : tensor<4x6xf32>, tensor<1xf32>)
// CHECK:   arith.divf
// CHECK-COUNT-15: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: %[[NS:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<4x6xf32>) outs(%{{.+}} : tensor<6x4xf32>)
// CHECK: %[[NEW:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[NS]], %{{.+}} : tensor<6x4xf32>, tensor<6x4xf32>, tensor<1xf64>)
// CHECK: %[[SEL:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[NEW]], %{{.+}} : tensor<6x4xf32>, tensor<6x4xf32>, tensor<i64>)
// CHECK:   %[[REM:.+]] = arith.remsi %{{.+}}, %c2_i64 : i64
// CHECK:   %[[NOW:.+]] = arith.cmpi eq, %[[REM]], %c0_i64 : i64
// CHECK:   arith.select %[[NOW]], %{{.+}}, %{{.+}} : f32
// CHECK: return %[[SEL]]
func.func @muon(%w: tensor<6x4xf32>, %m: tensor<6x4xf32>, %t: tensor<i64>)
    -> tensor<6x4xf32> {
  %w1 = nl.param_update "W" %w with(%m : tensor<6x4xf32>) step(%t : tensor<i64>) {
      every = #nl.every<2 steps>, rule = #nl.muon<lr = 0.02>} : tensor<6x4xf32>
  return %w1 : tensor<6x4xf32>
}

// M3's slow momentum, every 4 steps: the pending sum grows every step; at
// multiples of 4 the state takes decay S + scale P and the sum restarts.

// CHECK-LABEL: func.func @m3
// CHECK-NOT: nl.
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK:   arith.addf
// CHECK: %[[STATE:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[SUM]], %{{.+}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<i64>)
// CHECK:   %[[REM:.+]] = arith.remsi %{{.+}}, %c4_i64 : i64
// CHECK:   %[[NOW:.+]] = arith.cmpi eq, %[[REM]], %c0_i64 : i64
// CHECK:   arith.select %[[NOW]], %{{.+}}, %{{.+}} : f32
// CHECK: %[[PENDING:.+]] = linalg.generic {{.+}} ins(%[[SUM]], %{{.+}} : tensor<4x8xf32>, tensor<i64>)
// CHECK:   %[[REM2:.+]] = arith.remsi %{{.+}}, %c4_i64 : i64
// CHECK:   %[[NOW2:.+]] = arith.cmpi eq, %[[REM2]], %c0_i64 : i64
// CHECK:   arith.select %[[NOW2]], %cst{{.*}}, %{{.+}} : f32
// Two NS5 (M1, M2: 15 contractions each), then the rule's element-wise step.
// CHECK-COUNT-30: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<1xf64>)
// CHECK: return {{.+}}, %[[STATE]], %[[PENDING]]
func.func @m3(%w: tensor<4x8xf32>, %m1: tensor<4x8xf32>, %m2: tensor<4x8xf32>,
              %p: tensor<4x8xf32>, %v: tensor<4x8xf32>, %g: tensor<4x8xf32>,
              %t: tensor<i64>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %slow, %pending = nl.moment "W.m2" %m2, %g pending(%p) step(%t : tensor<i64>) {
      every = #nl.every<4 steps>, decay = 1.0, scale = 0.5} : tensor<4x8xf32>, tensor<4x8xf32>
  %w1 = nl.param_update "W" %w with(%m1, %slow, %v
      : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
      every = #nl.every<1 steps>,
      rule = #nl.m3<lr = 0.02, alpha = 0.5, eps = 1.0e-8>} : tensor<4x8xf32>
  return %w1, %slow, %pending : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// Clipping: one float64 sum of squares per gradient, one norm, one factor
// min(1, 1.5 / (norm + 1e-6)) rounded to each gradient's type; the same norm,
// rounded once to f32, is the op's norm result.

// CHECK-LABEL: func.func @clip
// CHECK-NOT: nl.
// CHECK: %[[S0:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<3x2xf32>) outs(%{{.+}} : tensor<1xf64>)
// CHECK: %[[S1:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<5xf64>) outs(%{{.+}} : tensor<1xf64>)
// CHECK: %[[NORM:.+]] = linalg.generic {{.+}} ins(%[[S0]], %[[S1]] : tensor<1xf64>, tensor<1xf64>)
// CHECK: ^bb0(%[[A:[^:]+]]: f64, %[[B:[^:]+]]: f64, %{{[^:]+}}: f64):
// CHECK:   %[[TOTAL:.+]] = arith.addf %[[A]], %[[B]] : f64
// CHECK:   %[[ROOT:.+]] = math.sqrt %[[TOTAL]] : f64
// CHECK:   linalg.yield %[[ROOT]] : f64
// CHECK: %[[COEF:.+]] = linalg.generic {{.+}} ins(%[[NORM]] : tensor<1xf64>)
// CHECK: ^bb0(%[[N:[^:]+]]: f64, %{{[^:]+}}: f64):
// CHECK:   %[[SHIFTED:.+]] = arith.addf %[[N]], %{{.+}} : f64
// CHECK:   %[[RATIO:.+]] = arith.divf %{{.+}}, %[[SHIFTED]] : f64
// CHECK:   %[[MIN:.+]] = arith.minimumf %[[RATIO]], %{{.+}} : f64
// CHECK:   linalg.yield %[[MIN]] : f64
// CHECK: %[[CA:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[COEF]] : tensor<3x2xf32>, tensor<1xf64>)
// CHECK:   arith.truncf %{{.+}} : f64 to f32
// CHECK: %[[CB:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %[[COEF]] : tensor<5xf64>, tensor<1xf64>)
// CHECK: %[[NORM32:.+]] = linalg.generic {{.+}} ins(%[[NORM]] : tensor<1xf64>) outs(%{{.+}} : tensor<1xf32>)
// CHECK:   arith.truncf %{{.+}} : f64 to f32
// CHECK: %[[REPORTED:.+]] = tensor.collapse_shape %[[NORM32]] [] : tensor<1xf32> into tensor<f32>
// CHECK: return %[[CA]], %[[CB]], %[[REPORTED]]
func.func @clip(%a: tensor<3x2xf32>, %b: tensor<5xf64>) -> (tensor<3x2xf32>, tensor<5xf64>, tensor<f32>) {
  %c:3 = nl.clip_grad_norm %a, %b {max_norm = 1.5} : tensor<3x2xf32>, tensor<5xf64> -> tensor<f32>
  return %c#0, %c#1, %c#2 : tensor<3x2xf32>, tensor<5xf64>, tensor<f32>
}

// Without max_norm the op only measures: the gradients pass unchanged, the
// norm (f64: no rounding) is the only work.

// CHECK-LABEL: func.func @measure_only
// CHECK-SAME: (%[[A:[^:]+]]: tensor<4xf64>
// CHECK-NOT: nl.
// CHECK: %[[S:.+]] = linalg.generic {{.+}} ins(%[[A]] : tensor<4xf64>) outs(%{{.+}} : tensor<1xf64>)
// CHECK: %[[NORM:.+]] = linalg.generic {{.+}} ins(%[[S]] : tensor<1xf64>)
// CHECK:   math.sqrt
// CHECK-NOT: linalg.generic
// CHECK: %[[REPORTED:.+]] = tensor.collapse_shape %[[NORM]] [] : tensor<1xf64> into tensor<f64>
// CHECK: return %[[A]], %[[REPORTED]]
func.func @measure_only(%a: tensor<4xf64>) -> (tensor<4xf64>, tensor<f64>) {
  %c:2 = nl.clip_grad_norm %a : tensor<4xf64> -> tensor<f64>
  return %c#0, %c#1 : tensor<4xf64>, tensor<f64>
}

// Neither clipping nor a use of the norm: nothing is computed.

// CHECK-LABEL: func.func @nothing_to_do
// CHECK-SAME: (%[[A:[^:]+]]: tensor<4xf32>
// CHECK-NEXT: return %[[A]]
func.func @nothing_to_do(%a: tensor<4xf32>) -> tensor<4xf32> {
  %c:2 = nl.clip_grad_norm %a : tensor<4xf32> -> tensor<f32>
  return %c#0 : tensor<4xf32>
}

// Schedule: cosine over steps 10..100 towards 0.1 base, warm-up t / 10 first.

// CHECK-LABEL: func.func @schedule
// CHECK-NOT: nl.
// CHECK: %[[R:.+]] = linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<f32>, tensor<i64>) outs(%{{.+}} : tensor<1xf32>)
// CHECK:   %[[T:.+]] = arith.sitofp %{{.+}} : i64 to f64
// CHECK:   math.cos
// CHECK:   %[[WARM:.+]] = arith.cmpf ole, %[[T]], %{{.+}} : f64
// CHECK:   %[[FACTOR:.+]] = arith.select %[[WARM]], %{{.+}}, %{{.+}} : f64
// CHECK:   %[[RATE:.+]] = arith.mulf %{{.+}}, %[[FACTOR]] : f64
// CHECK:   arith.truncf %[[RATE]] : f64 to f32
// CHECK: %[[ZERO_D:.+]] = tensor.collapse_shape %[[R]] [] : tensor<1xf32> into tensor<f32>
// CHECK: return %[[ZERO_D]]
func.func @schedule(%r: tensor<f32>, %t: tensor<i64>) -> tensor<f32> {
  %0 = nl.lr_schedule %r step(%t : tensor<i64>) {warmup = 10, total = 100, min_ratio = 0.1} : tensor<f32>
  return %0 : tensor<f32>
}
