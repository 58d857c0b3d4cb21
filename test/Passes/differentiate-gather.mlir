// nl-differentiate's adjoint of a gather (nl.embedding's lowering: a table
// row per token id, read by tensor.extract in a linalg.generic body): a
// scatter-add, as a loop nest over the generic's iteration space that adds
// each point's result adjoint into the table's adjoint at the row it read.
// The token ids get no adjoint.

// RUN: hope-opt %s --nl-differentiate=functions=gather | FileCheck %s
// RUN: hope-opt %s --nl-differentiate=functions=gather -o %t.mlir
// RUN: hope-compile %t.mlir -O1 -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --function=gather_vjp \
// RUN:     --input=2x3xi64=0,2,0,4,0,2 --input=5x2xf64=0,0,0,0,0,0,0,0,0,0 \
// RUN:     --input=2x3x2xf64=1,10,1,10,1,10,1,10,1,10,1,10 | FileCheck %s --check-prefix=ROWS
// Row 0 is read three times, row 2 twice, row 4 once, rows 1 and 3 never.
// ROWS: result1: 5x2xf64=[3 30][0 0][2 20][0 0][1 10]

// CHECK-LABEL: func.func @gather_vjp(
// CHECK-SAME:    %[[IDS:[^:]*]]: tensor<2x3xi64>, %[[TABLE:[^:]*]]: tensor<5x2xf64>, %[[DY:[^:]*]]: tensor<2x3x2xf64>)
// CHECK-SAME:    -> (tensor<2x3x2xf64>, tensor<5x2xf64>)
// CHECK:         %[[Y:.*]] = linalg.generic
// CHECK:         %[[DT:.*]] = scf.for
// CHECK:           scf.for
// CHECK:             scf.for {{.*}} iter_args(%[[ACC:[^ ]*]] =
// CHECK:               %[[ID:.*]] = tensor.extract %[[IDS]]
// CHECK:               %[[ROW:.*]] = arith.index_cast %[[ID]]
// CHECK:               %[[G:.*]] = tensor.extract %[[DY]]
// CHECK:               %[[OLD:.*]] = tensor.extract %[[ACC]][%[[ROW]],
// CHECK:               %[[NEW:.*]] = arith.addf %[[OLD]], %[[G]]
// CHECK:               tensor.insert %[[NEW]] into %[[ACC]][%[[ROW]],
// CHECK:         return %[[Y]], %[[DT]]

#ids = affine_map<(b, t, d) -> (b, t)>
#out = affine_map<(b, t, d) -> (b, t, d)>
func.func @gather(%ids: tensor<2x3xi64>, %table: tensor<5x2xf64>) -> tensor<2x3x2xf64> {
  %empty = tensor.empty() : tensor<2x3x2xf64>
  %y = linalg.generic {indexing_maps = [#ids, #out],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ids : tensor<2x3xi64>) outs(%empty : tensor<2x3x2xf64>) {
  ^bb0(%id: i64, %unused: f64):
    %row = arith.index_cast %id : i64 to index
    %column = linalg.index 2 : index
    %value = tensor.extract %table[%row, %column] : tensor<5x2xf64>
    linalg.yield %value : f64
  } -> tensor<2x3x2xf64>
  return %y : tensor<2x3x2xf64>
}
