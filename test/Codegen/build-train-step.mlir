// hope-compile --train adds train_step (nl-build-train-step): the loss, its
// VJP inlined, the gradients' norm, the optimizer levels, and every updated
// parameter and optimizer state written into its argument's buffer. The
// numbers are checked against PyTorch in test/parity/test_train_step.py.

// RUN: hope-compile %s --train --optimizer=sgd --clip=0 --compile-to=linalg | FileCheck %s
// RUN: hope-compile %s --train --compile-to=linalg | FileCheck %s --check-prefix=ADAMW
// RUN: hope-compile %s --train --beta1=0.5 --beta2=0.75 --eps=0.25 --compile-to=linalg | FileCheck %s --check-prefix=HYPER
// RUN: hope-compile %s --train --optimizer=sgd --clip=0 --compile-to=bufferized | FileCheck %s --check-prefix=BUF
// RUN: hope-compile %s --train --optimizer=sgd --clip=0 --compile-to=linalg | FileCheck %s --check-prefix=NORM
// RUN: hope-compile %s --train --optimizer=sgd --clip=1 --compile-to=linalg | FileCheck %s --check-prefix=NORM

// The manifest (printed first): train_step's inputs (after the forward's
// entry), its weights and states updated in place, the options recorded.
// CHECK: nl.manifest = {{.*}}\22name\22:\22model\22
// CHECK-SAME: \22name\22:\22targets\22,\22role\22:\22input\22,\22shape\22:[\22y[0]\22,3]
// CHECK-SAME: \22name\22:\22learning_rate\22
// CHECK-SAME: \22name\22:\22step\22
// CHECK-SAME: \22name\22:\22w\22,\22role\22:\22weight\22,\22shape\22:[3,4],\22updated\22:true
// CHECK-SAME: \22name\22:\22w.sgd_m\22,\22role\22:\22weight\22,\22shape\22:[3,4],\22updated\22:true
// CHECK-SAME: \22name\22:\22train_step\22
// CHECK-SAME: \22outputs\22:[{\22dtype\22:\22f32\22,\22name\22:\22loss\22
// CHECK-SAME: \22name\22:\22grad_norm\22
// CHECK-SAME: \22train\22:{\22clip\22:0,{{.*}}\22loss\22:\22mean_squared_error\22,{{.*}}\22optimizer\22:\22sgd\22

// The forward is still there; train_step follows it.
// CHECK: func.func @model(
// Arguments: inputs, targets, lr, step, weights, optimizer states.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %{{[^:]*}}: tensor<?x4xf32> {bufferization.writable = false},
// CHECK-SAME:    %{{[^:]*}}: tensor<?x3xf32> {bufferization.writable = false},
// CHECK-SAME:    %{{[^:]*}}: tensor<f32> {bufferization.writable = false},
// CHECK-SAME:    %{{[^:]*}}: tensor<i64> {bufferization.writable = false},
// CHECK-SAME:    %[[W:[^:]*]]: tensor<3x4xf32> {bufferization.writable = true},
// CHECK-SAME:    %[[M:[^:]*]]: tensor<3x4xf32> {bufferization.writable = true})
// CHECK-SAME:    -> (tensor<f32>, tensor<f32>)
// CHECK-NOT:   nl.
// CHECK:       %[[WB:.*]] = bufferization.to_buffer %[[W]]
// CHECK:       bufferization.materialize_in_destination %{{.*}} in restrict writable %[[WB]]
// CHECK:       %[[MB:.*]] = bufferization.to_buffer %[[M]]
// CHECK:       bufferization.materialize_in_destination %{{.*}} in restrict writable %[[MB]]
// CHECK:       return
// The loss and its VJP are inlined and gone.
// CHECK-NOT:   _train_loss

// The gradients' norm is computed once, clipping or not: nl.clip_grad_norm's
// norm is grad_norm (SGD takes no other square root).
// NORM-LABEL: func.func @train_step(
// NORM:       %[[NORM:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<1xf64>) outs(%{{.+}} : tensor<1xf64>)
// NORM-NEXT:  ^bb0
// NORM-NEXT:    math.sqrt
// NORM-NOT:   math.sqrt
// NORM:       %[[ROUNDED:.+]] = linalg.generic {{.+}} ins(%[[NORM]] : tensor<1xf64>) outs(%{{.+}} : tensor<1xf32>)
// NORM:       %[[REPORTED:.+]] = tensor.collapse_shape %[[ROUNDED]] [] : tensor<1xf32> into tensor<f32>
// NORM-NOT:   math.sqrt
// NORM:       return %{{.+}}, %[[REPORTED]] : tensor<f32>, tensor<f32>

// AdamW's two moments, after the weight.
// ADAMW: \22name\22:\22w.adamw_m\22{{.*}}\22name\22:\22w.adamw_v\22
// ADAMW-LABEL: func.func @train_step(
// ADAMW-SAME:    tensor<3x4xf32> {bufferization.writable = true}, %{{[^:]*}}: tensor<3x4xf32> {bufferization.writable = true}, %{{[^:]*}}: tensor<3x4xf32> {bufferization.writable = true})

// Bufferized: the weight and its momentum are the caller's buffers, each
// written once (one copy of its new value), never copied in.
// BUF-LABEL: func.func @train_step(
// BUF-SAME:    %{{[^:]*}}: memref<?x4xf32>, %{{[^:]*}}: memref<?x3xf32>, %{{[^:]*}}: memref<f32>, %{{[^:]*}}: memref<i64>, %[[W:[^:]*]]: memref<3x4xf32>, %[[M:[^:]*]]: memref<3x4xf32>)
// BUF-NOT:     outs(%[[W]] :
// BUF:         linalg.copy ins(%{{.*}} : memref<3x4xf32>) outs(%[[W]] : memref<3x4xf32>)
// BUF-NOT:     outs(%[[W]] :
// BUF:         linalg.copy ins(%{{.*}} : memref<3x4xf32>) outs(%[[M]] : memref<3x4xf32>)
// BUF-NOT:     outs(%[[W]] :
// BUF:         return

#xw = affine_map<(b, o, i) -> (b, i)>
#w = affine_map<(b, o, i) -> (o, i)>
#y = affine_map<(b, o, i) -> (b, o)>
func.func @model(%x: tensor<?x4xf32> {nl.input = "x"},
                 %w: tensor<3x4xf32> {nl.weight = "w"})
    -> (tensor<?x3xf32> {nl.output = "y"}) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x4xf32>
  %empty = tensor.empty(%b) : tensor<?x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x3xf32>) -> tensor<?x3xf32>
  %y = linalg.generic {indexing_maps = [#xw, #w, #y],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x4xf32>, tensor<3x4xf32>) outs(%init : tensor<?x3xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// The manifest records every hyper-parameter the step was built with.
// HYPER: \22train\22:{\22beta1\22:0.5,\22beta2\22:0.75,\22clip\22:1,\22eps\22:0.25,\22loss\22:\22mean_squared_error\22,\22lr_min_ratio\22:0,\22optimizer\22:\22adamw\22,\22total_steps\22:0,\22warmup\22:0,\22weight_decay\22:0.01}
