// nl.embedding: a gather of table rows, and a precondition that every token
// id is a row of the table, checked before the artifact runs.

// RUN: hope-compile %s --compile-to=linalg | FileCheck %s
// CHECK-LABEL: func.func @forward.preconditions(
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%arg0 : tensor<?x?xi64>)
// CHECK: arith.cmpi slt
// CHECK: arith.cmpi sge
// CHECK-LABEL: func.func @forward(
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<?x?xi64>)
// CHECK: %[[ROW:.*]] = arith.index_cast
// CHECK: %[[COLUMN:.*]] = linalg.index 2 : index
// CHECK: tensor.extract %arg1[%[[ROW]], %[[COLUMN]]] : tensor<5x2xf32>

// RUN: hope-compile %s -O1 -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --input=2x2xi64=4,0,1,4 \
// RUN:     --input=5x2xf32=0,1,10,11,20,21,30,31,40,41 | FileCheck %s --check-prefix=ROWS
// ROWS: x: 2x2x2xf32={{\[\[}}40 41][0 1]]{{\[\[}}10 11][40 41]]
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=1x2xi64=0,5 \
// RUN:     --input=5x2xf32=0 2>&1 | FileCheck %s --check-prefix=BEYOND
// BEYOND: hope-run: error: forward: input 'tokens' breaks a precondition: token ids must be in [0, 5)
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --input=1x2xi64=-1,0 \
// RUN:     --input=5x2xf32=0 2>&1 | FileCheck %s --check-prefix=BEYOND

func.func @forward(%ids: tensor<?x?xi64> {nl.input = "tokens"},
                   %table: tensor<5x2xf32> {nl.input = "table"})
    -> (tensor<?x?x2xf32> {nl.output = "x"}) {
  %x = nl.embedding %ids, %table : tensor<?x?xi64>, tensor<5x2xf32>
  return %x : tensor<?x?x2xf32>
}
