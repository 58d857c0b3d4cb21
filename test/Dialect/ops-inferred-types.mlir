// Result types inferred by nl.linear, nl.split_heads, nl.merge_heads,
// nl.rate, nl.chunk_pool and nl.read (their custom forms do not spell them),
// static and dynamic. The generic form prints them; the second run checks
// they survive a round trip through the custom form.
// RUN: hope-opt %s --mlir-print-op-generic | FileCheck %s
// RUN: hope-opt %s | hope-opt --mlir-print-op-generic | FileCheck %s

// CHECK-LABEL: sym_name = "linear"
// CHECK: "nl.linear"(%{{.+}}, %{{.+}}) : (tensor<?x?x64xf32>, tensor<32x64xf32>) -> tensor<?x?x32xf32>
// CHECK: "nl.linear"(%{{.+}}, %{{.+}}) : (tensor<64xf32>, tensor<32x64xf32>) -> tensor<32xf32>
// CHECK: "nl.linear"(%{{.+}}, %{{.+}}) : (tensor<2x?xf32>, tensor<8x16xf32>) -> tensor<2x8xf32>
// CHECK: "nl.linear"(%{{.+}}, %{{.+}}) : (tensor<2x3x16xf16>, tensor<?x16xf16>) -> tensor<2x3x?xf16>
// CHECK: "nl.linear"(%{{.+}}, %{{.+}}) : (tensor<2x3x16xf16>, tensor<8x?xf16>) -> tensor<2x3x8xf16>
func.func @linear(%a: tensor<?x?x64xf32>, %b: tensor<64xf32>, %w: tensor<32x64xf32>,
                  %c: tensor<2x?xf32>, %v: tensor<8x16xf32>, %d: tensor<2x3x16xf16>,
                  %u: tensor<?x16xf16>, %t: tensor<8x?xf16>) {
  %0 = nl.linear %a, %w : tensor<?x?x64xf32>, tensor<32x64xf32>
  %1 = nl.linear %b, %w : tensor<64xf32>, tensor<32x64xf32>
  %2 = nl.linear %c, %v : tensor<2x?xf32>, tensor<8x16xf32>
  %3 = nl.linear %d, %u : tensor<2x3x16xf16>, tensor<?x16xf16>
  %4 = nl.linear %d, %t : tensor<2x3x16xf16>, tensor<8x?xf16>
  return
}

// CHECK-LABEL: sym_name = "heads"
// CHECK: "nl.split_heads"(%{{.+}}) <{heads = 4 : i64}> : (tensor<?x?x32xf32>) -> tensor<?x4x?x8xf32>
// CHECK: "nl.split_heads"(%{{.+}}) <{heads = 4 : i64}> : (tensor<2x5x?xf32>) -> tensor<2x4x5x?xf32>
// CHECK: "nl.split_heads"(%{{.+}}) <{heads = 1 : i64}> : (tensor<2x5x7xbf16>) -> tensor<2x1x5x7xbf16>
// CHECK: "nl.merge_heads"(%{{.+}}) : (tensor<?x4x?x8xf32>) -> tensor<?x?x32xf32>
// CHECK: "nl.merge_heads"(%{{.+}}) : (tensor<2x?x3x8xf32>) -> tensor<2x3x?xf32>
// CHECK: "nl.merge_heads"(%{{.+}}) : (tensor<2x4x3x?xf32>) -> tensor<2x3x?xf32>
func.func @heads(%a: tensor<?x?x32xf32>, %b: tensor<2x5x?xf32>, %c: tensor<2x5x7xbf16>,
                 %d: tensor<?x4x?x8xf32>, %e: tensor<2x?x3x8xf32>,
                 %f: tensor<2x4x3x?xf32>) {
  %0 = nl.split_heads %a into 4 heads : tensor<?x?x32xf32>
  %1 = nl.split_heads %b into 4 heads : tensor<2x5x?xf32>
  %2 = nl.split_heads %c into 1 heads : tensor<2x5x7xbf16>
  %3 = nl.merge_heads %d : tensor<?x4x?x8xf32>
  %4 = nl.merge_heads %e : tensor<2x?x3x8xf32>
  %5 = nl.merge_heads %f : tensor<2x4x3x?xf32>
  return
}

// CHECK-LABEL: sym_name = "rate"
// CHECK: "nl.rate"(%{{.+}}) <{kind = 2 : i32, scale = 1.000000e+00 : f64}> : (tensor<?x4x?x1xf32>) -> tensor<?x4x?xf32>
// CHECK: "nl.rate"(%{{.+}}) <{kind = 3 : i32, scale = 2.000000e+00 : f64}> : (tensor<2x4x3x?xf16>) -> tensor<2x4x3xf16>
func.func @rate(%a: tensor<?x4x?x1xf32>, %b: tensor<2x4x3x?xf16>) {
  %0 = nl.rate sigmoid %a : tensor<?x4x?x1xf32>
  %1 = nl.rate softplus %b scale 2.0 : tensor<2x4x3x?xf16>
  return
}

// ceil(T / C) chunks, the last one possibly shorter.

// CHECK-LABEL: sym_name = "chunk_pool"
// CHECK: "nl.chunk_pool"(%{{.+}}) <{chunk = 64 : i64}> : (tensor<2x100x16xf32>) -> tensor<2x2x16xf32>
// CHECK: "nl.chunk_pool"(%{{.+}}) <{chunk = 64 : i64}> : (tensor<1x64x8xf32>) -> tensor<1x1x8xf32>
// CHECK: "nl.chunk_pool"(%{{.+}}) <{chunk = 8 : i64}> : (tensor<1x65x8xf32>) -> tensor<1x9x8xf32>
// CHECK: "nl.chunk_pool"(%{{.+}}) <{chunk = 8 : i64}> : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
func.func @chunk_pool(%a: tensor<2x100x16xf32>, %b: tensor<1x64x8xf32>,
                      %c: tensor<1x65x8xf32>, %d: tensor<?x?x?xf32>) {
  %0 = nl.chunk_pool %a chunk 64 : tensor<2x100x16xf32>
  %1 = nl.chunk_pool %b chunk 64 : tensor<1x64x8xf32>
  %2 = nl.chunk_pool %c chunk 8 : tensor<1x65x8xf32>
  %3 = nl.chunk_pool %d chunk 8 : tensor<?x?x?xf32>
  return
}

// The result has the memory's heads and output width and the query's batch
// and tokens, whatever the query leaves dynamic.

// CHECK-LABEL: sym_name = "read"
// CHECK: "nl.read"(%{{.+}}, %{{.+}}) <{point = 0 : i32}> : (!nl.memory<4 heads, 16 -> 8, f32>, tensor<?x?x?x?xf32>) -> tensor<?x4x?x8xf32>
// CHECK: "nl.read"(%{{.+}}, %{{.+}}) <{point = 1 : i32}> : (!nl.memory<4 heads, 16 -> 8, f32>, tensor<2x4x7x16xf32>) -> tensor<2x4x7x8xf32>
func.func @read(%m: !nl.memory<4 heads, 16 -> 8, f32>, %a: tensor<?x?x?x?xf32>,
                %b: tensor<2x4x7x16xf32>) {
  %0 = nl.read %m(%a) at after : !nl.memory<4 heads, 16 -> 8, f32>, tensor<?x?x?x?xf32>
  %1 = nl.read %m(%b) at chunk_start : !nl.memory<4 heads, 16 -> 8, f32>, tensor<2x4x7x16xf32>
  return
}
