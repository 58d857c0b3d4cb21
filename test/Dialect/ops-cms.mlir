// Round trip of nl.cms: the three variants, the three learning signals, the
// optional attributes and the nl.level attribute of a multi-component op.
// RUN: hope-opt %s | hope-opt | FileCheck %s
// RUN: hope-opt %s --mlir-print-op-generic | hope-opt | FileCheck %s

// Sequential, frozen: three blocks of different hidden widths; the default
// epsilon is elided by the printer.

// CHECK-LABEL: func.func @sequential_none
// CHECK-SAME: (%[[X:[^:]+]]: tensor<?x?x16xf32>, %[[N0:[^:]+]]: tensor<16xf32>, %[[I0:[^:]+]]: tensor<32x16xf32>, %[[O0:[^:]+]]: tensor<16x32xf32>, %[[N1:[^:]+]]: tensor<16xf32>, %[[I1:[^:]+]]: tensor<64x16xf32>, %[[O1:[^:]+]]: tensor<16x64xf32>, %[[N2:[^:]+]]: tensor<16xf32>, %[[I2:[^:]+]]: tensor<8x16xf32>, %[[O2:[^:]+]]: tensor<16x8xf32>)
// CHECK: %[[Y:.+]] = nl.cms "cms" %[[X]] params(%[[N0]], %[[I0]], %[[O0]], %[[N1]], %[[I1]], %[[O1]], %[[N2]], %[[I2]], %[[O2]] :
// CHECK-SAME: tensor<16xf32>, tensor<32x16xf32>, tensor<16x32xf32>, tensor<16xf32>, tensor<64x16xf32>, tensor<16x64xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<16x8xf32>)
// CHECK-SAME: {activation = #nl.activation<silu>, chunks = array<i64: 1, 16, 256>, signal = #nl.cms_signal<none>, variant = #nl.cms_variant<sequential>} : tensor<?x?x16xf32>{{$}}
// CHECK: return %[[Y]] : tensor<?x?x16xf32>
func.func @sequential_none(%x: tensor<?x?x16xf32>,
    %n0: tensor<16xf32>, %i0: tensor<32x16xf32>, %o0: tensor<16x32xf32>,
    %n1: tensor<16xf32>, %i1: tensor<64x16xf32>, %o1: tensor<16x64xf32>,
    %n2: tensor<16xf32>, %i2: tensor<8x16xf32>, %o2: tensor<16x8xf32>)
    -> tensor<?x?x16xf32> {
  %y = nl.cms "cms" %x params(%n0, %i0, %o0, %n1, %i1, %o1, %n2, %i2, %o2
      : tensor<16xf32>, tensor<32x16xf32>, tensor<16x32xf32>,
        tensor<16xf32>, tensor<64x16xf32>, tensor<16x64xf32>,
        tensor<16xf32>, tensor<8x16xf32>, tensor<16x8xf32>) {
      chunks = array<i64: 1, 16, 256>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>,
      epsilon = 1.0e-6} : tensor<?x?x16xf32>
  return %y : tensor<?x?x16xf32>
}

// Independent, learning from a local objective: the mixing weights [K] come
// last; one learning rate per block; explicit epsilon; one level per block.

// CHECK-LABEL: func.func @independent_local
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x?x16xf32>, %[[N0:[^:]+]]: tensor<16xf32>, %[[I0:[^:]+]]: tensor<32x16xf32>, %[[O0:[^:]+]]: tensor<16x32xf32>, %[[N1:[^:]+]]: tensor<16xf32>, %[[I1:[^:]+]]: tensor<64x16xf32>, %[[O1:[^:]+]]: tensor<16x64xf32>, %[[MIX:[^:]+]]: tensor<2xf32>)
// CHECK: %[[Y:.+]] = nl.cms "cms_ind" %[[X]] params(%[[N0]], %[[I0]], %[[O0]], %[[N1]], %[[I1]], %[[O1]], %[[MIX]] :
// CHECK-SAME: tensor<16xf32>, tensor<32x16xf32>, tensor<16x32xf32>, tensor<16xf32>, tensor<64x16xf32>, tensor<16x64xf32>, tensor<2xf32>)
// CHECK-SAME: {activation = #nl.activation<gelu>, chunks = array<i64: 1, 16>, epsilon = 1.000000e-05 : f64, local_objective = #nl.l2<reduction = mean>, lr = array<f64: 1.000000e-02, 1.000000e-03>, nl.level = array<i64: 1, 2>, signal = #nl.cms_signal<local>, variant = #nl.cms_variant<independent>} : tensor<2x?x16xf32>{{$}}
// CHECK: return %[[Y]] : tensor<2x?x16xf32>
func.func @independent_local(%x: tensor<2x?x16xf32>,
    %n0: tensor<16xf32>, %i0: tensor<32x16xf32>, %o0: tensor<16x32xf32>,
    %n1: tensor<16xf32>, %i1: tensor<64x16xf32>, %o1: tensor<16x64xf32>,
    %mix: tensor<2xf32>) -> tensor<2x?x16xf32> {
  %y = nl.cms "cms_ind" %x params(%n0, %i0, %o0, %n1, %i1, %o1, %mix
      : tensor<16xf32>, tensor<32x16xf32>, tensor<16x32xf32>,
        tensor<16xf32>, tensor<64x16xf32>, tensor<16x64xf32>, tensor<2xf32>) {
      chunks = array<i64: 1, 16>, variant = #nl.cms_variant<independent>,
      signal = #nl.cms_signal<local>, activation = #nl.activation<gelu>,
      epsilon = 1.0e-5, lr = array<f64: 0.01, 0.001>,
      local_objective = #nl.l2<reduction = mean>,
      nl.level = array<i64: 1, 2>} : tensor<2x?x16xf32>
  return %y : tensor<2x?x16xf32>
}

// Nested, learning from the task loss (no local objective), with dynamic
// hidden widths; then a one-block chain learning from a dot-product local
// objective. Sigmoid and softplus activations, f16.

// CHECK-LABEL: func.func @nested_task
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x8x4xf16>, %[[N0:[^:]+]]: tensor<4xf16>, %[[I0:[^:]+]]: tensor<?x4xf16>, %[[O0:[^:]+]]: tensor<4x?xf16>, %[[N1:[^:]+]]: tensor<4xf16>, %[[I1:[^:]+]]: tensor<8x4xf16>, %[[O1:[^:]+]]: tensor<4x8xf16>)
// CHECK: %[[Y:.+]] = nl.cms "cms_nested" %[[X]] params(%[[N0]], %[[I0]], %[[O0]], %[[N1]], %[[I1]], %[[O1]] : tensor<4xf16>, tensor<?x4xf16>, tensor<4x?xf16>, tensor<4xf16>, tensor<8x4xf16>, tensor<4x8xf16>)
// CHECK-SAME: {activation = #nl.activation<sigmoid>, chunks = array<i64: 2, 4>, lr = array<f64: 5.000000e-01, 2.500000e-01>, signal = #nl.cms_signal<task>, variant = #nl.cms_variant<nested>} : tensor<1x8x4xf16>{{$}}
// CHECK: %[[Z:.+]] = nl.cms "cms_seq_dot" %[[Y]] params(%[[N1]], %[[I1]], %[[O1]] : tensor<4xf16>, tensor<8x4xf16>, tensor<4x8xf16>)
// CHECK-SAME: {activation = #nl.activation<softplus>, chunks = array<i64: 8>, local_objective = #nl.dot, lr = array<f64: 1.000000e+00>, signal = #nl.cms_signal<local>, variant = #nl.cms_variant<sequential>} : tensor<1x8x4xf16>{{$}}
// CHECK: return %[[Z]] : tensor<1x8x4xf16>
func.func @nested_task(%x: tensor<1x8x4xf16>,
    %n0: tensor<4xf16>, %i0: tensor<?x4xf16>, %o0: tensor<4x?xf16>,
    %n1: tensor<4xf16>, %i1: tensor<8x4xf16>, %o1: tensor<4x8xf16>)
    -> tensor<1x8x4xf16> {
  %y = nl.cms "cms_nested" %x params(%n0, %i0, %o0, %n1, %i1, %o1
      : tensor<4xf16>, tensor<?x4xf16>, tensor<4x?xf16>,
        tensor<4xf16>, tensor<8x4xf16>, tensor<4x8xf16>) {
      chunks = array<i64: 2, 4>, variant = #nl.cms_variant<nested>,
      signal = #nl.cms_signal<task>, activation = #nl.activation<sigmoid>,
      lr = array<f64: 0.5, 0.25>} : tensor<1x8x4xf16>
  %z = nl.cms "cms_seq_dot" %y params(%n1, %i1, %o1
      : tensor<4xf16>, tensor<8x4xf16>, tensor<4x8xf16>) {
      chunks = array<i64: 8>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<local>, activation = #nl.activation<softplus>,
      lr = array<f64: 1.0>, local_objective = #nl.dot} : tensor<1x8x4xf16>
  return %z : tensor<1x8x4xf16>
}
