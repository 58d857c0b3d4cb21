// The kernel bench/gpu-check carries to a GPU: a chunked linear-memory update in the gpu
// dialect, lowered by mlir-opt-22's gpu-lower-to-nvvm-pipeline (nvvm-attach-target,
// gpu-module-to-binary) to cubins for sm_80 and sm_90 and to PTX (bench/gpucheck/cubin.py).
// It has the shape of the CUDA target's memory-stage kernels (shared/docs/cuda.md): one
// thread block per (batch, head) on a dynamic grid, the state in workgroup memory, the chunk
// loop inside the kernel, barriers between its phases.
//
// Per (batch, head) b, chunk-aggregated gradient descent on 0.5 |W k_t - v_t|^2, every token
// of a chunk reading the chunk-start state (the CPU reference: cubin_check.c):
//   o_t = W q_t,  e_t = W k_t - v_t      (t in the chunk, W its start state)
//   W  <- W - eta * sum_t e_t k_t^T       (at the chunk's end)
// d = 16, chunk C = 16, T = 128 (8 chunks); 256 threads: thread x is (i, j) = (x / 16, x % 16),
// the element W[i][j] in the update and (token i of the chunk, row j) in the reads.
//
// The kernel is written as a gpu.func (not a gpu.launch to outline) so that its parameters
// are exactly (w0, k, v, q, o, w_out, eta), in this order, each memref as MLIR's descriptor
// (allocated pointer, aligned pointer, offset, 3 sizes, 3 strides): the loader's layout.
module attributes {gpu.container_module} {
  gpu.module @chunked_memory {
    gpu.func @chunked_memory(%w0: memref<?x16x16xf32>, %k: memref<?x128x16xf32>,
                             %v: memref<?x128x16xf32>, %q: memref<?x128x16xf32>,
                             %o: memref<?x128x16xf32>, %w_out: memref<?x16x16xf32>, %eta: f32)
        workgroup(%W : memref<16x16xf32, #gpu.address_space<workgroup>>,
                  %E : memref<16x16xf32, #gpu.address_space<workgroup>>)
        kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c16 = arith.constant 16 : index
      %c128 = arith.constant 128 : index
      %zero = arith.constant 0.0 : f32
      %b = gpu.block_id x
      %x = gpu.thread_id x
      %i = arith.divui %x, %c16 : index
      %j = arith.remui %x, %c16 : index
      %w_init = memref.load %w0[%b, %i, %j] : memref<?x16x16xf32>
      memref.store %w_init, %W[%i, %j] : memref<16x16xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      scf.for %c = %c0 to %c128 step %c16 {
        // Reads at the chunk-start state: thread (t, r) = (i, j), token c + t, row r.
        %tok = arith.addi %c, %i : index
        %sums:2 = scf.for %s = %c0 to %c16 step %c1 iter_args(%pk = %zero, %pq = %zero) -> (f32, f32) {
          %wrs = memref.load %W[%j, %s] : memref<16x16xf32, #gpu.address_space<workgroup>>
          %ks = memref.load %k[%b, %tok, %s] : memref<?x128x16xf32>
          %qs = memref.load %q[%b, %tok, %s] : memref<?x128x16xf32>
          %mk = arith.mulf %wrs, %ks : f32
          %mq = arith.mulf %wrs, %qs : f32
          %nk = arith.addf %pk, %mk : f32
          %nq = arith.addf %pq, %mq : f32
          scf.yield %nk, %nq : f32, f32
        }
        %vr = memref.load %v[%b, %tok, %j] : memref<?x128x16xf32>
        %e = arith.subf %sums#0, %vr : f32
        memref.store %e, %E[%i, %j] : memref<16x16xf32, #gpu.address_space<workgroup>>
        memref.store %sums#1, %o[%b, %tok, %j] : memref<?x128x16xf32>
        // Every error of the chunk is written, and every read of W done, before W changes.
        gpu.barrier
        %g = scf.for %t = %c0 to %c16 step %c1 iter_args(%acc = %zero) -> (f32) {
          %et = memref.load %E[%t, %i] : memref<16x16xf32, #gpu.address_space<workgroup>>
          %tt = arith.addi %c, %t : index
          %kt = memref.load %k[%b, %tt, %j] : memref<?x128x16xf32>
          %m = arith.mulf %et, %kt : f32
          %a = arith.addf %acc, %m : f32
          scf.yield %a : f32
        }
        %wij = memref.load %W[%i, %j] : memref<16x16xf32, #gpu.address_space<workgroup>>
        %step = arith.mulf %eta, %g : f32
        %new = arith.subf %wij, %step : f32
        memref.store %new, %W[%i, %j] : memref<16x16xf32, #gpu.address_space<workgroup>>
        // The next chunk reads W and overwrites E only after every update of this one.
        gpu.barrier
      }
      %w_fin = memref.load %W[%i, %j] : memref<16x16xf32, #gpu.address_space<workgroup>>
      memref.store %w_fin, %w_out[%b, %i, %j] : memref<?x16x16xf32>
      gpu.return
    }
  }
}
