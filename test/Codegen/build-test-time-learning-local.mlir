// nl-build-test-time-learning with signal = local: each block learns its
// local objective (its MLP branch regressed on its own input, a
// stop-gradient), whose loss is known at once: the loop runs over the piece's
// tokens alone (no last token, no targets) and every token counts. The
// numbers are checked against PyTorch in test/parity/test_cms_learning.py.
// RUN: hope-opt %s --nl-prepare-entry-points --nl-build-test-time-learning | FileCheck %s

// CHECK-LABEL: func.func @lm(
// No last token, no targets: the loop runs over the piece's tokens.
// CHECK: %[[T:.+]] = tensor.dim %arg0, %c1
// CHECK-NOT: linalg.fill ins(%{{.+}} : i64)
// CHECK: nl.precondition %{{.+}}, "token ids must be in [0, 5)"
// CHECK: scf.for %[[I:[^ ]+]] = %c0 to %[[T]] step %c1 iter_args(%[[LOGITS:[^ ]+]] = %{{[^ ]+}}, %[[POS:[^ ]+]] = %arg3, %[[N0:[^ ]+]] = %arg4, %{{.+}}, %[[SN0:[^ ]+]] = %arg10,
// CHECK: tensor.extract_slice %arg0[%{{.+}}, %[[I]]] [%{{.+}}, 1]
// Every token's loss is known.
// CHECK: %[[KNOWN:.+]] = arith.constant true
// The key and target of the first block's objective: its input, a
// stop-gradient (the second block's too).
// CHECK: nl.stop_gradient %{{.+}} : tensor<?x?x4xf64>
// CHECK: nl.stop_gradient %{{.+}} : tensor<?x?x4xf64>
// The logits of this token go to row i.
// CHECK: tensor.insert_slice %{{.+}} into %[[LOGITS]][%{{.+}}, %[[I]], %{{.+}}] [%{{.+}}, 1, 5]
// CHECK: %[[P:.+]] = tensor.extract %[[POS]][]
// CHECK: %[[NEXT:.+]] = arith.addi %[[P]], %c1_i64
// Block 0 (chunk 1, rate 0.5): the sum and the update at the boundary.
// CHECK: %[[SUMN0:.+]] = arith.addf %[[SN0]], %{{.+}} : tensor<4xf64>
// CHECK: %[[R:.+]] = arith.remsi %[[NEXT]], %{{.+}}
// CHECK: %[[AT:.+]] = arith.cmpi eq, %[[R]], %{{.+}}
// CHECK: %[[ENDS:.+]] = arith.andi %[[KNOWN]], %[[AT]]
// CHECK: %[[LR:.+]] = arith.constant dense<5.000000e-01> : tensor<4xf64>
// CHECK: %[[STEP:.+]] = arith.mulf %[[LR]], %[[SUMN0]]
// CHECK: %[[STEPPED:.+]] = arith.subf %[[N0]], %[[STEP]]
// CHECK: arith.select %[[ENDS]], %[[STEPPED]], %[[N0]]
// The states advance past every token: no select on the position.
// CHECK-NOT: arith.select %{{.+}}, %{{.+}}, %[[POS]]
// CHECK: scf.yield
// CHECK: return
// CHECK-NOT: nl.cms

func.func @lm(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
              %emb: tensor<5x4xf64> {nl.weight = "embedding"},
              %head: tensor<5x4xf64> {nl.weight = "head"},
              %position: tensor<i64> {nl.state = "position"},
              %n0: tensor<4xf64> {nl.state = "cms0_norm"},
              %i0: tensor<8x4xf64> {nl.state = "cms0_in"},
              %o0: tensor<4x8xf64> {nl.state = "cms0_out"},
              %n1: tensor<4xf64> {nl.state = "cms1_norm"},
              %i1: tensor<8x4xf64> {nl.state = "cms1_in"},
              %o1: tensor<4x8xf64> {nl.state = "cms1_out"},
              %sn0: tensor<4xf64> {nl.state = "cms0_norm.grad_sum"},
              %si0: tensor<8x4xf64> {nl.state = "cms0_in.grad_sum"},
              %so0: tensor<4x8xf64> {nl.state = "cms0_out.grad_sum"},
              %sn1: tensor<4xf64> {nl.state = "cms1_norm.grad_sum"},
              %si1: tensor<8x4xf64> {nl.state = "cms1_in.grad_sum"},
              %so1: tensor<4x8xf64> {nl.state = "cms1_out.grad_sum"})
    -> (tensor<?x?x5xf64> {nl.output = "logits"},
        tensor<i64> {nl.state = "position"},
        tensor<4xf64> {nl.state = "cms0_norm"},
        tensor<8x4xf64> {nl.state = "cms0_in"},
        tensor<4x8xf64> {nl.state = "cms0_out"},
        tensor<4xf64> {nl.state = "cms1_norm"},
        tensor<8x4xf64> {nl.state = "cms1_in"},
        tensor<4x8xf64> {nl.state = "cms1_out"},
        tensor<4xf64> {nl.state = "cms0_norm.grad_sum"},
        tensor<8x4xf64> {nl.state = "cms0_in.grad_sum"},
        tensor<4x8xf64> {nl.state = "cms0_out.grad_sum"},
        tensor<4xf64> {nl.state = "cms1_norm.grad_sum"},
        tensor<8x4xf64> {nl.state = "cms1_in.grad_sum"},
        tensor<4x8xf64> {nl.state = "cms1_out.grad_sum"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<5x4xf64>
  %y = nl.cms "cms" %x params(%n0, %i0, %o0, %n1, %i1, %o1
      : tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>,
        tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>) {
      chunks = array<i64: 1, 2>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<local>, local_objective = #nl.l2<>,
      activation = #nl.activation<silu>, lr = array<f64: 0.5, 0.25>}
      : tensor<?x?x4xf64>
  %logits = nl.linear %y, %head : tensor<?x?x4xf64>, tensor<5x4xf64>
  // The position advances by the piece's length.
  %c1 = arith.constant 1 : index
  %length = tensor.dim %tokens, %c1 : tensor<?x?xi64>
  %length64 = arith.index_cast %length : index to i64
  %p = tensor.extract %position[] : tensor<i64>
  %next = arith.addi %p, %length64 : i64
  %positionNext = tensor.from_elements %next : tensor<i64>
  return %logits, %positionNext, %n0, %i0, %o0, %n1, %i1, %o1,
         %sn0, %si0, %so0, %sn1, %si1, %so1
      : tensor<?x?x5xf64>, tensor<i64>, tensor<4xf64>, tensor<8x4xf64>,
        tensor<4x8xf64>, tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>,
        tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>, tensor<4xf64>,
        tensor<8x4xf64>, tensor<4x8xf64>
}
