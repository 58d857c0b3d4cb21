// nl-route-allocations: every function of the artifact takes the service
// table (runtime/include/hope/artifact.h) as its last argument, passes it on,
// and allocates through it; nothing calls the C library's allocator.

// RUN: hope-opt %s --split-input-file --nl-route-allocations --verify-diagnostics | FileCheck %s

// CHECK: llvm.func @entry(%[[N:.*]]: i64, %[[S:.*]]: !llvm.ptr {nl.services})
// CHECK:   %[[CTXP:.*]] = llvm.getelementptr %[[S]][0, 2] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(i32, i32, ptr, ptr, ptr)>
// CHECK:   %[[CTX:.*]] = llvm.load %[[CTXP]] : !llvm.ptr -> !llvm.ptr
// CHECK:   %[[SIXTEEN:.*]] = llvm.mlir.constant(16 : i64) : i64
// CHECK:   %[[FNP:.*]] = llvm.getelementptr %[[S]][0, 3]
// CHECK:   %[[FN:.*]] = llvm.load %[[FNP]] : !llvm.ptr -> !llvm.ptr
// CHECK:   %[[P:.*]] = llvm.call %[[FN]](%[[CTX]], %[[N]], %[[SIXTEEN]]) : !llvm.ptr, (!llvm.ptr, i64, i64) -> !llvm.ptr
// CHECK:   llvm.call @part(%[[P]], %[[S]]) : (!llvm.ptr, !llvm.ptr) -> ()
// CHECK:   %[[CTXP2:.*]] = llvm.getelementptr %[[S]][0, 2]
// CHECK:   %[[CTX2:.*]] = llvm.load %[[CTXP2]]
// CHECK:   %[[FREEP:.*]] = llvm.getelementptr %[[S]][0, 4]
// CHECK:   %[[FREE:.*]] = llvm.load %[[FREEP]]
// CHECK:   llvm.call %[[FREE]](%[[CTX2]], %[[P]]) : !llvm.ptr, (!llvm.ptr, !llvm.ptr) -> ()
// CHECK:   llvm.call @expf
// CHECK: llvm.func @part(%{{.*}}: !llvm.ptr, %[[S2:.*]]: !llvm.ptr {nl.services})
// CHECK:   omp.parallel
// CHECK:     %[[ALIGN:.*]] = llvm.mlir.constant(64 : i64)
// CHECK:     %[[SIZE:.*]] = llvm.mlir.constant(256 : i64)
// CHECK:     llvm.getelementptr %[[S2]][0, 3]
// CHECK:     llvm.call %{{.*}}(%{{.*}}, %[[SIZE]], %[[ALIGN]]) : !llvm.ptr, (!llvm.ptr, i64, i64) -> !llvm.ptr
// Declarations keep their signatures; the generic functions are gone.
// CHECK: llvm.func @expf(f32) -> f32
// CHECK-NOT: _mlir_memref_to_llvm
module {
  llvm.func @_mlir_memref_to_llvm_alloc(i64) -> !llvm.ptr
  llvm.func @_mlir_memref_to_llvm_aligned_alloc(i64, i64) -> !llvm.ptr
  llvm.func @_mlir_memref_to_llvm_free(!llvm.ptr)
  llvm.func @entry(%n: i64) {
    %p = llvm.call @_mlir_memref_to_llvm_alloc(%n) : (i64) -> !llvm.ptr
    llvm.call @part(%p) : (!llvm.ptr) -> ()
    llvm.call @_mlir_memref_to_llvm_free(%p) : (!llvm.ptr) -> ()
    %one = llvm.mlir.constant(1.0 : f32) : f32
    %e = llvm.call @expf(%one) : (f32) -> f32
    llvm.return
  }
  llvm.func @part(%p: !llvm.ptr) {
    omp.parallel {
      %align = llvm.mlir.constant(64 : i64) : i64
      %size = llvm.mlir.constant(256 : i64) : i64
      %q = llvm.call @_mlir_memref_to_llvm_aligned_alloc(%align, %size) : (i64, i64) -> !llvm.ptr
      llvm.call @_mlir_memref_to_llvm_free(%q) : (!llvm.ptr) -> ()
      omp.terminator
    }
    llvm.return
  }
  llvm.func @expf(f32) -> f32
}

// -----

// The C library's allocator would bypass the table.
module {
  llvm.func @malloc(i64) -> !llvm.ptr
  llvm.func @entry(%n: i64) {
    // expected-error @below {{calls 'malloc' directly: lower memrefs with finalize-memref-to-llvm{use-generic-functions=true} so that every allocation goes through the service table}}
    %p = llvm.call @malloc(%n) : (i64) -> !llvm.ptr
    llvm.return
  }
}
