// Round trip of the entry-point attributes: `nl.input`, `nl.weight` and
// `nl.state` on arguments, `nl.output` and `nl.state` on results, and the
// `nl.manifest` string on the module; a weight's `nl.init` and
// `nl.init_scale`.
// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

// CHECK: module attributes {nl.manifest = "{\22version\22: 1}"} {
module attributes {nl.manifest = "{\"version\": 1}"} {
  // CHECK-LABEL: func.func @entry
  // CHECK-SAME: (%[[X:[^:]+]]: tensor<?x?x4xf32> {nl.input = "x"}, %{{[^:]+}}: tensor<4x4xf32> {nl.weight = "w_q"}, %[[S:[^:]+]]: tensor<?x1x4x4xf32> {nl.state = "M.W"})
  // CHECK-SAME: -> (tensor<?x?x4xf32> {nl.output = "y"}, tensor<?x1x4x4xf32> {nl.state = "M.W"})
  // CHECK: return %[[X]], %[[S]] : tensor<?x?x4xf32>, tensor<?x1x4x4xf32>
  func.func @entry(%x: tensor<?x?x4xf32> {nl.input = "x"},
                   %w: tensor<4x4xf32> {nl.weight = "w_q"},
                   %s: tensor<?x1x4x4xf32> {nl.state = "M.W"})
      -> (tensor<?x?x4xf32> {nl.output = "y"},
          tensor<?x1x4x4xf32> {nl.state = "M.W"}) {
    return %x, %s : tensor<?x?x4xf32>, tensor<?x1x4x4xf32>
  }

  // CHECK-LABEL: func.func private @initialised
  // CHECK-SAME: (tensor<8x4xf32> {nl.init = "token_shift", nl.weight = "conv"}, tensor<2x4x4xf32> {nl.init_scale = 4.000000e+00 : f64, nl.weight = "mk_w2"}, tensor<4xf32> {nl.init = "seeded", nl.init_scale = -5.000000e-01 : f64, nl.weight = "b"})
  func.func private @initialised(tensor<8x4xf32> {nl.weight = "conv", nl.init = "token_shift"},
                                 tensor<2x4x4xf32> {nl.weight = "mk_w2", nl.init_scale = 4.0 : f64},
                                 tensor<4xf32> {nl.weight = "b", nl.init = "seeded", nl.init_scale = -0.5 : f64})
}
