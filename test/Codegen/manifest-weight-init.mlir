// A weight's initialisation (`nl.init`, `nl.init_scale`) goes into the
// manifest as `init` and `init_scale` on the forward's weight and on
// train_step's (hope-train seeds by them), not on the optimizer state (which
// starts at zero); no nl.init* attribute is left in the code.

// RUN: hope-compile %s --train --optimizer=sgd --clip=0 --compile-to=linalg | FileCheck %s
// CHECK: nl.manifest = "{\22entry_points\22:[{\22inputs\22:
// CHECK-SAME: {\22dtype\22:\22f32\22,\22init\22:\22token_shift\22,\22name\22:\22w\22,\22role\22:\22weight\22,\22shape\22:[3,4]}
// CHECK-SAME: {\22dtype\22:\22f32\22,\22init_scale\22:4,\22name\22:\22b\22,\22role\22:\22weight\22,\22shape\22:[3]}
// CHECK-SAME: \22name\22:\22model\22
// CHECK-SAME: {\22dtype\22:\22f32\22,\22init\22:\22token_shift\22,\22name\22:\22w\22,\22role\22:\22weight\22,\22shape\22:[3,4],\22updated\22:true}
// CHECK-SAME: {\22dtype\22:\22f32\22,\22init_scale\22:4,\22name\22:\22b\22,\22role\22:\22weight\22,\22shape\22:[3],\22updated\22:true}
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22w.sgd_m\22,\22role\22:\22weight\22,\22shape\22:[3,4],\22updated\22:true}
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22b.sgd_m\22,\22role\22:\22weight\22,\22shape\22:[3],\22updated\22:true}
// CHECK-SAME: \22name\22:\22train_step\22
// CHECK-NOT: nl.init

#xw = affine_map<(b, o, i) -> (b, i)>
#w = affine_map<(b, o, i) -> (o, i)>
#y = affine_map<(b, o, i) -> (b, o)>
#bias = affine_map<(b, o) -> (o)>
#out = affine_map<(b, o) -> (b, o)>
func.func @model(%x: tensor<?x4xf32> {nl.input = "x"},
                 %w: tensor<3x4xf32> {nl.weight = "w", nl.init = "token_shift"},
                 %b: tensor<3xf32> {nl.weight = "b", nl.init_scale = 4.0 : f64})
    -> (tensor<?x3xf32> {nl.output = "y"}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %empty = tensor.empty(%n) : tensor<?x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x3xf32>) -> tensor<?x3xf32>
  %xw = linalg.generic {indexing_maps = [#xw, #w, #y],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x4xf32>, tensor<3x4xf32>) outs(%init : tensor<?x3xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  %y = linalg.generic {indexing_maps = [#out, #bias, #out],
                       iterator_types = ["parallel", "parallel"]}
      ins(%xw, %b : tensor<?x3xf32>, tensor<3xf32>) outs(%empty : tensor<?x3xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}
