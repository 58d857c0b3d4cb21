// Round trip of the entry-point attributes: `nl.input`, `nl.weight` and
// `nl.state` on arguments, `nl.output` and `nl.state` on results, and the
// `nl.manifest` string on the module.
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
}
