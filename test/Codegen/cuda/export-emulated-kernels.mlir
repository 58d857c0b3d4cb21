// nl-cuda-export-emulated-kernels: each lowered emulated kernel gets the
// entry the runtime's CPU stand-in for the driver calls,
// hope_kernel_<name>(void **params, grid[3], block[3], shared_bytes): one
// load per parameter through params (a memref is one bare pointer), grid,
// block and shared bytes widened, no service table (the kernel allocates
// nothing), the kernel's status returned; the kernel becomes internal and
// the kernel declarations' gpu.module goes.

// RUN: hope-opt %s --nl-cuda-export-emulated-kernels --split-input-file -verify-diagnostics | FileCheck %s

module attributes {gpu.container_module} {
  llvm.func @hope_emulated_scale(%p: !llvm.ptr, %n: i64, %gx: i64, %gy: i64, %gz: i64, %bx: i64, %by: i64, %bz: i64, %shared: i64, %services: !llvm.ptr {nl.services}) -> i32 attributes {hope_emulated_kernel = "scale"} {
    %ok = llvm.mlir.constant(0 : i32) : i32
    llvm.return %ok : i32
  }
  gpu.module @hope_kernels {
    llvm.func @scale() attributes {gpu.kernel}
  }
}

// CHECK-NOT: gpu.module
// CHECK: llvm.func internal @hope_emulated_scale(
// CHECK-LABEL: llvm.func @hope_kernel_scale(
// CHECK-SAME: %[[PARAMS:[^:]*]]: !llvm.ptr, %[[GRID:[^:]*]]: !llvm.ptr, %[[BLOCK:[^:]*]]: !llvm.ptr, %[[SHARED:[^:]*]]: i32) -> i32
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[PARAMS]][0]
// CHECK: %[[ADDRESS0:.*]] = llvm.load %[[SLOT0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P:.*]] = llvm.load %[[ADDRESS0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[SLOT1:.*]] = llvm.getelementptr %[[PARAMS]][1]
// CHECK: %[[ADDRESS1:.*]] = llvm.load %[[SLOT1]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[N:.*]] = llvm.load %[[ADDRESS1]] : !llvm.ptr -> i64
// CHECK: llvm.getelementptr %[[GRID]][0, 0]
// CHECK: llvm.getelementptr %[[BLOCK]][0, 2]
// CHECK: %[[BYTES:.*]] = llvm.zext %[[SHARED]] : i32 to i64
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[STATUS:.*]] = llvm.call @hope_emulated_scale(%[[P]], %[[N]], {{.*}}, %[[BYTES]], %[[NULL]])
// CHECK: llvm.return %[[STATUS]] : i32

// -----

module {
  // expected-error @+1 {{an emulated kernel needs its parameters, grid, block, shared bytes and the service table (run nl-route-allocations first), and returns an i32 status}}
  llvm.func @hope_emulated_void(%gx: i64, %gy: i64, %gz: i64, %bx: i64, %by: i64, %bz: i64, %shared: i64, %services: !llvm.ptr {nl.services}) attributes {hope_emulated_kernel = "void"} {
    llvm.return
  }
}

// -----

module {
  // expected-error @+1 {{an emulated kernel allocates memory through the service table, which it is not given}}
  llvm.func @hope_emulated_alloc(%gx: i64, %gy: i64, %gz: i64, %bx: i64, %by: i64, %bz: i64, %shared: i64, %services: !llvm.ptr {nl.services}) -> i32 attributes {hope_emulated_kernel = "alloc"} {
    %context = llvm.load %services : !llvm.ptr -> !llvm.ptr
    %ok = llvm.mlir.constant(0 : i32) : i32
    llvm.return %ok : i32
  }
}
