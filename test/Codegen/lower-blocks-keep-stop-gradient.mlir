// nl-lower-blocks-to-linalg lowers nl.stop_gradient to the identity, unless
// keep-stop-gradient leaves it for nl-differentiate (docs/training.md).
// RUN: hope-opt %s --nl-lower-blocks-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: hope-opt %s --nl-lower-blocks-to-linalg=keep-stop-gradient | FileCheck %s --check-prefix=KEEP

// LOWER-LABEL: func.func @f(
// LOWER-NOT:     nl.stop_gradient
// LOWER:         return %arg0
// KEEP-LABEL:  func.func @f(
// KEEP:          %[[S:.*]] = nl.stop_gradient %arg0
// KEEP:          return %[[S]]
func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = nl.stop_gradient %x : tensor<2x3xf32>
  return %s : tensor<2x3xf32>
}
