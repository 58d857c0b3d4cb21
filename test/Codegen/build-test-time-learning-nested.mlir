// nl-build-test-time-learning on a nested CMS (chunks 1 and 2): block 0's
// meta-learnt initial state takes, at each boundary of block 1, the step of
// block 0's gradients summed since block 1's previous boundary (block 1's
// rate), and block 0 restarts from it. The numbers are checked against
// PyTorch in test/parity/test_cms_learning.py.
// RUN: hope-opt %s --nl-prepare-entry-points --nl-build-test-time-learning | FileCheck %s

// CHECK-LABEL: func.func @lm(
// CHECK: scf.for %{{[^ ]+}} = %{{[^ ]+}} to %{{[^ ]+}} step %c1 iter_args(%{{[^ ]+}} = %{{[^ ]+}}, %{{[^ ]+}} = %arg3, %[[N0:[^ ]+]] = %arg4, %{{.+}}, %[[SN0:[^ ]+]] = %arg10, %{{.+}}, %[[PN0:[^ ]+]] = %arg16, %{{.+}}, %[[QN0:[^ ]+]] = %arg19,
// Block 0's own update (chunk 1, rate 0.5).
// CHECK: %[[SUMN0:.+]] = arith.addf %[[SN0]], %[[G:[^ ]+]] : tensor<4xf64>
// CHECK: %[[STEPPED:.+]] = arith.subf %[[N0]], %{{.+}} : tensor<4xf64>
// CHECK: %[[OWN:.+]] = arith.select %[[ENDS:[^ ]+]], %[[STEPPED]], %[[N0]]
// CHECK: %[[OWNSUM:.+]] = arith.select %[[ENDS]], %{{.+}}, %[[SUMN0]]
// Its initial state's sum takes the same gradient; at block 1's boundaries
// (chunk 2) it steps with block 1's rate 0.25.
// CHECK: %[[META:.+]] = arith.addf %[[QN0]], %[[G]] : tensor<4xf64>
// CHECK: %[[R:.+]] = arith.remsi %{{.+}}, %c2_i64
// CHECK: %[[RESETS:.+]] = arith.andi
// CHECK: %[[LR:.+]] = arith.constant dense<2.500000e-01> : tensor<4xf64>
// CHECK: %[[METASTEP:.+]] = arith.mulf %[[LR]], %[[META]]
// CHECK: %[[STEPPEDINIT:.+]] = arith.subf %[[PN0]], %[[METASTEP]]
// CHECK: %[[NEWINIT:.+]] = arith.select %[[RESETS]], %[[STEPPEDINIT]], %[[PN0]]
// CHECK: %[[NEWMETA:.+]] = arith.select %[[RESETS]], %{{.+}}, %[[META]]
// Block 0 restarts from its new initial state, its sum from zero.
// CHECK: %[[NEWN0:.+]] = arith.select %[[RESETS]], %[[NEWINIT]], %[[OWN]]
// CHECK: %[[NEWSN0:.+]] = arith.select %[[RESETS]], %{{.+}}, %[[OWNSUM]]
// CHECK: scf.yield %{{[^ ]+}}, %{{[^ ]+}}, %[[NEWN0]], %{{.+}}, %[[NEWSN0]], %{{.+}}, %[[NEWINIT]], %{{.+}}, %[[NEWMETA]],

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
              %pn0: tensor<4xf64> {nl.state = "cms0_norm.initial"},
              %pi0: tensor<8x4xf64> {nl.state = "cms0_in.initial"},
              %po0: tensor<4x8xf64> {nl.state = "cms0_out.initial"},
              %qn0: tensor<4xf64> {nl.state = "cms0_norm.initial_grad_sum"},
              %qi0: tensor<8x4xf64> {nl.state = "cms0_in.initial_grad_sum"},
              %qo0: tensor<4x8xf64> {nl.state = "cms0_out.initial_grad_sum"},
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
        tensor<4xf64> {nl.state = "cms0_norm.initial"},
        tensor<8x4xf64> {nl.state = "cms0_in.initial"},
        tensor<4x8xf64> {nl.state = "cms0_out.initial"},
        tensor<4xf64> {nl.state = "cms0_norm.initial_grad_sum"},
        tensor<8x4xf64> {nl.state = "cms0_in.initial_grad_sum"},
        tensor<4x8xf64> {nl.state = "cms0_out.initial_grad_sum"},
        tensor<?x1xi64> {nl.state = "cms_last_token"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<5x4xf64>
  %y = nl.cms "cms" %x params(%n0, %i0, %o0, %n1, %i1, %o1
      : tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>,
        tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>) {
      chunks = array<i64: 1, 2>, variant = #nl.cms_variant<nested>,
      signal = #nl.cms_signal<task>, activation = #nl.activation<silu>,
      lr = array<f64: 0.5, 0.25>} : tensor<?x?x4xf64>
  %logits = nl.linear %y, %head : tensor<?x?x4xf64>, tensor<5x4xf64>
  %c1 = arith.constant 1 : index
  %length = tensor.dim %tokens, %c1 : tensor<?x?xi64>
  %length64 = arith.index_cast %length : index to i64
  %p = tensor.extract %position[] : tensor<i64>
  %next = arith.addi %p, %length64 : i64
  %positionNext = tensor.from_elements %next : tensor<i64>
  return %logits, %positionNext, %n0, %i0, %o0, %n1, %i1, %o1,
         %sn0, %si0, %so0, %sn1, %si1, %so1, %pn0, %pi0, %po0, %qn0, %qi0,
         %qo0, %last
      : tensor<?x?x5xf64>, tensor<i64>, tensor<4xf64>, tensor<8x4xf64>,
        tensor<4x8xf64>, tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>,
        tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>, tensor<4xf64>,
        tensor<8x4xf64>, tensor<4x8xf64>, tensor<4xf64>, tensor<8x4xf64>,
        tensor<4x8xf64>, tensor<4xf64>, tensor<8x4xf64>, tensor<4x8xf64>,
        tensor<?x1xi64>
}
