// A precondition check that reads input data runs on the device: its body
// moves into a loop nest of one iteration that stores the verdict into a
// status word, its accumulator becomes private (memref.alloca), and the
// check returns the word read through the runtime. A check of shapes alone
// stays on the host. Then nl-cuda-form-kernels makes the nest a kernel.

// RUN: hope-opt %s --split-input-file --nl-cuda-device-data-preconditions | FileCheck %s
// RUN: hope-opt %s --split-input-file --nl-cuda-device-data-preconditions --nl-cuda-form-kernels | FileCheck %s --check-prefix=KERNEL

// CHECK-LABEL: func.func @lm.preconditions(
// CHECK-SAME: %[[TOKENS:.*]]: memref<?xi64>
// CHECK: %[[WORD:.*]] = memref.alloc() : memref<i32>
// CHECK: scf.parallel (%{{.*}}) = (%c0{{.*}}) to (%c1{{.*}}) step (%c1{{.*}}) {
// CHECK: %[[BAD:.*]] = memref.alloca() : memref<i64>
// CHECK: scf.for
// CHECK: memref.load %[[TOKENS]]
// CHECK: memref.store %{{.*}}, %[[WORD]][] : memref<i32>
// CHECK-NOT: memref.dealloc
// CHECK: scf.reduce
// CHECK: %[[POINTER:.*]] = memref.extract_aligned_pointer_as_index %[[WORD]]
// CHECK: %[[ADDRESS:.*]] = arith.index_cast %[[POINTER]] : index to i64
// CHECK: %[[STATUS:.*]] = nl.read_device_status %[[ADDRESS]]
// CHECK: return %[[STATUS]] : i32

// KERNEL-LABEL: func.func @lm.preconditions(
// KERNEL: gpu.launch
// KERNEL-SAME: function(@loop_nest_0)
// KERNEL: memref.alloca() : memref<i64>
// KERNEL: gpu.terminator
// KERNEL: nl.read_device_status
// KERNEL: memref.dealloc
// KERNEL: return
func.func @lm.preconditions(%tokens: memref<?xi64>) -> i32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i64
  %vocabulary = arith.constant 256 : i64
  %bad = memref.alloc() : memref<i64>
  memref.store %zero, %bad[] : memref<i64>
  %n = memref.dim %tokens, %c0 : memref<?xi64>
  scf.for %i = %c0 to %n step %c1 {
    %t = memref.load %tokens[%i] : memref<?xi64>
    %low = arith.cmpi slt, %t, %zero : i64
    %high = arith.cmpi sge, %t, %vocabulary : i64
    %out = arith.ori %low, %high : i1
    %one = arith.extui %out : i1 to i64
    %sum = memref.load %bad[] : memref<i64>
    %next = arith.addi %sum, %one : i64
    memref.store %next, %bad[] : memref<i64>
  }
  %total = memref.load %bad[] : memref<i64>
  memref.dealloc %bad : memref<i64>
  %broken = arith.cmpi ne, %total, %zero : i64
  %status = arith.extui %broken : i1 to i32
  return %status : i32
}
func.func @lm(%tokens: memref<?xi64>) {
  return
}

// -----

// CHECK-LABEL: func.func @shapes.preconditions(
// CHECK-NOT: nl.read_device_status
// CHECK: memref.dim
// CHECK-NOT: nl.read_device_status
// CHECK: return
func.func @shapes.preconditions(%x: memref<?xf32>) -> i32 {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %empty = arith.cmpi eq, %n, %c0 : index
  %status = arith.extui %empty : i1 to i32
  return %status : i32
}
func.func @shapes(%x: memref<?xf32>) {
  return
}
