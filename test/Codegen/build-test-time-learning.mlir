// nl-build-test-time-learning on a small hand-written learning model (an
// embedding, a CMS of two blocks with chunks 1 and 2 and rates 0.5 and 0.25,
// the logits): the entry point becomes a loop over its tokens that runs the
// per-token model and the VJP of its loss, sums each parameter's gradient and
// applies it at its block's boundaries. The numbers are checked against
// PyTorch in test/parity/test_cms_learning.py.
// RUN: hope-opt %s --nl-prepare-entry-points --nl-build-test-time-learning | FileCheck %s

// CHECK-LABEL: func.func @lm(
// The piece's tokens after the last one of the previous piece, and their
// targets (-1: the last token's is not known yet).
// CHECK: %[[T:.+]] = tensor.dim %arg0, %c1
// CHECK: %[[EXTENDED:.+]] = arith.addi %[[T]], %c1
// CHECK: %[[PREV:.+]] = tensor.insert_slice %arg16 into
// CHECK: %[[EXT:.+]] = tensor.insert_slice %arg0 into %[[PREV]][%c0, %c1]
// CHECK: %[[MINUS1:.+]] = arith.constant -1 : i64
// CHECK: %[[FILLED:.+]] = linalg.fill ins(%[[MINUS1]] : i64)
// CHECK: %[[TARGETS:.+]] = tensor.insert_slice %arg0 into %[[FILLED]][%c0, %c0]
// Before the first piece (cms_last_token -1) there is nothing to recompute.
// CHECK: %[[FIRST:.+]] = tensor.extract %arg16[%c0, %c0]
// CHECK: %[[HAS:.+]] = arith.cmpi sge, %[[FIRST]]
// CHECK: %[[LOWER:.+]] = arith.select %[[HAS]], %c0, %c1 : index
// The per-token function's precondition, once on the whole piece.
// CHECK: nl.precondition %{{.+}}, "token ids must be in [0, 5)"
// CHECK: scf.for %[[I:[^ ]+]] = %[[LOWER]] to %[[EXTENDED]] step %c1 iter_args(%[[LOGITS:[^ ]+]] = %{{[^ ]+}}, %[[POS:[^ ]+]] = %arg3, %[[N0:[^ ]+]] = %arg4, %[[I0:[^ ]+]] = %arg5, %[[O0:[^ ]+]] = %arg6, %[[N1:[^ ]+]] = %arg7, %[[I1:[^ ]+]] = %arg8, %[[O1:[^ ]+]] = %arg9, %[[SN0:[^ ]+]] = %arg10, %[[SI0:[^ ]+]] = %arg11, %[[SO0:[^ ]+]] = %arg12, %[[SN1:[^ ]+]] = %arg13, %[[SI1:[^ ]+]] = %arg14, %[[SO1:[^ ]+]] = %arg15, %[[LAST:[^ ]+]] = %arg16)
// CHECK: %[[TOKEN:.+]] = tensor.extract_slice %[[EXT]][%{{.+}}, %[[I]]] [%{{.+}}, 1]
// CHECK: %[[KNOWN:.+]] = arith.cmpi ult, %[[I]], %[[T]]
// The forward (the embedding of this token), then the VJP, lowered: no CMS
// or embedding op is left.
// CHECK-NOT: nl.embedding
// CHECK: tensor.extract %arg1
// CHECK-NOT: nl.cms
// The logits of position i - 1 (i = 0 is the previous piece's last token).
// CHECK: %[[ROW:.+]] = arith.maxsi
// CHECK: tensor.insert_slice %{{.+}} into %[[LOGITS]][%{{.+}}, %[[ROW]], %{{.+}}] [%{{.+}}, 1, 5]
// CHECK: %[[P:.+]] = tensor.extract %[[POS]][]
// CHECK: %[[NEXT:.+]] = arith.addi %[[P]], %c1_i64
// Block 0 (chunk 1, rate 0.5): its norm's gradient is summed; the update and
// the restart of the sum when position + 1 ends a chunk and the target is
// known.
// CHECK: %[[SUMN0:.+]] = arith.addf %[[SN0]], %{{.+}} : tensor<4xf64>
// CHECK: %[[C1:.+]] = arith.constant 1 : i64
// CHECK: %[[R:.+]] = arith.remsi %[[NEXT]], %[[C1]]
// CHECK: %[[AT:.+]] = arith.cmpi eq, %[[R]], %{{.+}}
// CHECK: %[[ENDS:.+]] = arith.andi %[[KNOWN]], %[[AT]]
// CHECK: %[[LR:.+]] = arith.constant dense<5.000000e-01> : tensor<4xf64>
// CHECK: %[[STEP:.+]] = arith.mulf %[[LR]], %[[SUMN0]]
// CHECK: %[[STEPPED:.+]] = arith.subf %[[N0]], %[[STEP]]
// CHECK: %[[NEWN0:.+]] = arith.select %[[ENDS]], %[[STEPPED]], %[[N0]]
// CHECK: %[[NEWSN0:.+]] = arith.select %[[ENDS]], %{{.+}}, %[[SUMN0]]
// CHECK: arith.addf %[[SI0]], %{{.+}} : tensor<8x4xf64>
// CHECK: arith.addf %[[SO0]], %{{.+}} : tensor<4x8xf64>
// Block 1 (chunk 2, rate 0.25).
// CHECK: %[[SUMN1:.+]] = arith.addf %[[SN1]], %{{.+}} : tensor<4xf64>
// CHECK: %[[C2:.+]] = arith.constant 2 : i64
// CHECK: %[[R1:.+]] = arith.remsi %[[NEXT]], %[[C2]]
// CHECK: %[[AT1:.+]] = arith.cmpi eq, %[[R1]], %{{.+}}
// CHECK: %[[ENDS1:.+]] = arith.andi %[[KNOWN]], %[[AT1]]
// CHECK: %[[LR1:.+]] = arith.constant dense<2.500000e-01> : tensor<4xf64>
// CHECK: %[[STEP1:.+]] = arith.mulf %[[LR1]], %[[SUMN1]]
// CHECK: %[[STEPPED1:.+]] = arith.subf %[[N1]], %[[STEP1]]
// CHECK: %[[NEWN1:.+]] = arith.select %[[ENDS1]], %[[STEPPED1]], %[[N1]]
// CHECK: %[[NEWSN1:.+]] = arith.select %[[ENDS1]], %{{.+}}, %[[SUMN1]]
// The other states advance past every token whose target is known; the last
// token is the one the states stop before.
// CHECK: %[[NEWPOS:.+]] = arith.select %[[KNOWN]], %{{.+}}, %[[POS]] : tensor<i64>
// CHECK: %[[THIS:.+]] = tensor.cast %{{.+}} : tensor<?x?xi64> to tensor<?x1xi64>
// CHECK: %[[NEWLAST:.+]] = arith.select %[[KNOWN]], %[[LAST]], %[[THIS]] : tensor<?x1xi64>
// CHECK: scf.yield %{{.+}}, %[[NEWPOS]], %[[NEWN0]], %{{.+}}, %{{.+}}, %[[NEWN1]], %{{.+}}, %{{.+}}, %[[NEWSN0]], %{{.+}}, %{{.+}}, %[[NEWSN1]], %{{.+}}, %{{.+}}, %[[NEWLAST]] :
// CHECK: return
// The CMS is lowered inside the loop: no learning op is left.
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
              %so1: tensor<4x8xf64> {nl.state = "cms1_out.grad_sum"},
              %last: tensor<?x1xi64> {nl.state = "cms_last_token"})
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
        tensor<4x8xf64> {nl.state = "cms1_out.grad_sum"},
        tensor<?x1xi64> {nl.state = "cms_last_token"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<5x4xf64>
  %y = nl.cms "cms" %x params(%n0, %i0, %o0, %n1, %i1, %o1
      : tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>,
        tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>) {
      chunks = array<i64: 1, 2>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<task>, activation = #nl.activation<silu>,
      lr = array<f64: 0.5, 0.25>} : tensor<?x?x4xf64>
  %logits = nl.linear %y, %head : tensor<?x?x4xf64>, tensor<5x4xf64>
  // The position advances by the piece's length.
  %c1 = arith.constant 1 : index
  %length = tensor.dim %tokens, %c1 : tensor<?x?xi64>
  %length64 = arith.index_cast %length : index to i64
  %p = tensor.extract %position[] : tensor<i64>
  %next = arith.addi %p, %length64 : i64
  %positionNext = tensor.from_elements %next : tensor<i64>
  return %logits, %positionNext, %n0, %i0, %o0, %n1, %i1, %o1,
         %sn0, %si0, %so0, %sn1, %si1, %so1, %last
      : tensor<?x?x5xf64>, tensor<i64>, tensor<4xf64>, tensor<8x4xf64>,
        tensor<4x8xf64>, tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>,
        tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>, tensor<4xf64>,
        tensor<8x4xf64>, tensor<4x8xf64>, tensor<?x1xi64>
}
