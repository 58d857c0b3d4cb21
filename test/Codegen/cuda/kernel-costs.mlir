// nl-cuda-kernel-costs on two hand-written kernels whose counts are known
// by hand, as formulas of the entry point's sizes x[0] (batch B) and x[1]
// (tokens T).

// RUN: hope-opt %s --nl-cuda-kernel-costs | FileCheck %s

// loop_nest_0: one thread per element of y = x * x + x, then fma:
// 1 mulf + 1 addf + 1 fma (2) = 4 FLOPs per element, B*T*64 elements
// (the guard block * 256 + thread < B*T*64 passes exactly those threads).
// Reads x (4*64*B*T bytes), writes y (the same).
// CHECK-LABEL: kernel_costs = {
// CHECK-SAME: loop_nest_0 = {bytes_read = ["*", 256, "x[0]", "x[1]"], bytes_written = ["*", 256, "x[0]", "x[1]"], entry_point = "f", flops = ["*", 256, "x[0]", "x[1]"], grid = {{\[}}["max", ["ceildiv", ["*", 64, "x[0]", "x[1]"], 256], 1], 1, 1]}

// memory_stage_0: grid B x 2, ceildiv(T, 8) chunks; per chunk and block,
// the block's threads share 8 * 64 iterations of (mulf, addf) (the last
// chunk counted full) and thread 0 runs one divf: 8*64*2 + 1 = 1025
// FLOPs, so 2 * 1025 = 2050 per batch row and chunk. Reads x and the state
// s (4*2*64 bytes per batch row), writes s.
// CHECK-SAME: memory_stage_0 = {bytes_read = ["+", ["*", 512, "x[0]"], ["*", 256, "x[0]", "x[1]"]], bytes_written = ["*", 512, "x[0]"], entry_point = "f", flops = ["*", 2050, ["ceildiv", "x[1]", 8], "x[0]"], grid = ["x[0]", 2, 1]}

module attributes {nl.manifest = "{\"entry_points\":[{\"name\":\"f\",\"inputs\":[{\"name\":\"x\",\"shape\":[\"x[0]\",\"x[1]\",64]},{\"name\":\"s\",\"shape\":[\"x[0]\",2,64]}]}]}"} {
  func.func @f(%x: memref<?x?x64xf32>, %s: memref<?x2x64xf32>) -> memref<?x?x64xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c8 = arith.constant 8 : index
    %c64 = arith.constant 64 : index
    %c256 = arith.constant 256 : index
    %b = memref.dim %x, %c0 : memref<?x?x64xf32>
    %t = memref.dim %x, %c1 : memref<?x?x64xf32>
    %y = memref.alloc(%b, %t) : memref<?x?x64xf32>
    %bt = arith.muli %b, %t : index
    %total = arith.muli %bt, %c64 : index
    %blocks0 = arith.ceildivui %total, %c256 : index
    %blocks = arith.maxui %blocks0, %c1 : index
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %blocks, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
               module(@hope_kernels) function(@loop_nest_0) {
      %base = arith.muli %bx, %c256 : index
      %linear = arith.addi %base, %tx : index
      %inside = arith.cmpi ult, %linear, %total : index
      scf.if %inside {
        %k = arith.remui %linear, %c64 : index
        %rest = arith.divui %linear, %c64 : index
        %j = arith.remui %rest, %t : index
        %i = arith.divui %rest, %t : index
        %v = memref.load %x[%i, %j, %k] : memref<?x?x64xf32>
        %sq = arith.mulf %v, %v : f32
        %sum = arith.addf %sq, %v : f32
        %r = math.fma %sq, %sum, %v : f32
        memref.store %r, %y[%i, %j, %k] : memref<?x?x64xf32>
      }
      gpu.terminator
    }
    %chunks = arith.ceildivui %t, %c8 : index
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %b, %gy = %c2, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1)
               module(@hope_kernels) function(@memory_stage_0) {
      scf.for %chunk = %c0 to %chunks step %c1 {
        %start = arith.muli %chunk, %c8 : index
        %next = arith.addi %start, %c8 : index
        %end = arith.minui %next, %t : index
        %len = arith.subi %end, %start : index
        %count = arith.muli %len, %c64 : index
        scf.for %e = %tx to %count step %c256 {
          %k = arith.remui %e, %c64 : index
          %row = arith.divui %e, %c64 : index
          %tok = arith.addi %start, %row : index
          %v = memref.load %x[%bx, %tok, %k] : memref<?x?x64xf32>
          %w = memref.load %s[%bx, %by, %k] : memref<?x2x64xf32>
          %p = arith.mulf %v, %w : f32
          %q = arith.addf %p, %w : f32
          memref.store %q, %s[%bx, %by, %k] : memref<?x2x64xf32>
        }
        gpu.barrier
        %first = arith.cmpi eq, %tx, %c0 : index
        scf.if %first {
          %w = memref.load %s[%bx, %by, %c0] : memref<?x2x64xf32>
          %d = arith.divf %w, %w : f32
          memref.store %d, %s[%bx, %by, %c0] : memref<?x2x64xf32>
        }
        gpu.barrier
      }
      gpu.terminator
    }
    return %y : memref<?x?x64xf32>
  }
}
