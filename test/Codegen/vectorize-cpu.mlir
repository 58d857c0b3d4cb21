// REQUIRES: x86_64
// Contractions reach LLVM as register blocks: an accumulator of a few rows
// by a few vectors of the output stays in registers over the whole
// reduction, and each step is one FMA per row, as wide as the target's
// vectors.

// The weight of y[b, t, o] = sum_i W[o, i] x[b, t, i] is transposed once, so
// that o is contiguous in every operand; the contraction's register blocks
// are vector contractions. The transpose itself goes by square tiles of one
// vector, transposed in registers.
// RUN: hope-compile %s --cpu=x86-64-v3 --compile-to=tiled | FileCheck %s --check-prefix=LINALG
// LINALG: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (384, 384) step (8, 8)
// LINALG: vector.transfer_read %arg1{{.*}} : tensor<384x384xf32>, vector<8x8xf32>
// LINALG: vector.transpose %{{.*}}, [1, 0] : vector<8x8xf32> to vector<8x8xf32>
// LINALG: scf.forall
// LINALG: vector.contract {{.*}} : vector<8x1xf32>, vector<1x16xf32> into vector<8x16xf32>

// Loops: batches, blocks of 64 tokens and blocks of 256 columns shared
// among threads (scf.parallel); in each, blocks of 8 rows and 2 vectors of
// columns accumulated over i in registers, with one multiply-add per row
// and i.
// RUN: hope-compile %s --cpu=x86-64-v3 --compile-to=loops | FileCheck %s --check-prefix=LOOPS
// LOOPS: %[[WT:.*]] = memref.alloc() {{.*}} : memref<384x384xf32>
// LOOPS: scf.parallel (%[[B:.*]], %[[T:.*]], %[[J:.*]]) = (%c0, %c0, %c0) to (%{{.*}}, %{{.*}}, %c384) step (%c1, %c64, %c256) {
// LOOPS: scf.for %[[R:.*]] = %c0 to %{{.*}} step %c8 {
// LOOPS: scf.for %[[O:.*]] = %c0 to %{{.*}} step %c16 {
// LOOPS: %[[ACC:.*]] = vector.transfer_read {{.*}} vector<8x16xf32>
// LOOPS-NEXT: %[[SUM:.*]] = scf.for %[[I:.*]] = %c0 to %c384 step %c1 iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x16xf32>) {
// LOOPS-COUNT-8: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// LOOPS: vector.transfer_write %[[SUM]]

// The parallel loops become OpenMP regions in which each thread runs its
// share of the iterations (no work-sharing loop).
// RUN: hope-compile %s --compile-to=llvm | FileCheck %s --check-prefix=OMP
// OMP: omp.parallel {
// OMP: llvm.call @omp_get_thread_num() : () -> i32
// OMP: llvm.call @omp_get_num_threads() : () -> i32
// OMP-NOT: omp.wsloop

// AVX2 (x86-64-v3): rows of 2 vectors of 8 floats; SSE2 only (x86-64): 2
// vectors of 4, fused only where the CPU can (fmuladd, not a libm fma call).
// RUN: hope-compile %s --cpu=x86-64-v3 --compile-to=llvm-ir | FileCheck %s --check-prefix=AVX2
// AVX2: call <16 x float> @llvm.fmuladd.v16f32(<16 x float>
// RUN: hope-compile %s --cpu=x86-64 --compile-to=llvm-ir | FileCheck %s --check-prefix=SSE2
// SSE2: call <8 x float> @llvm.fmuladd.v8f32(<8 x float>
// SSE2-NOT: @fmaf

// Any number of threads computes the same result; 13 tokens are a full
// block of 8 rows and a partial one of 5.
// RUN: hope-compile %s -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --num-threads=1 \
// RUN:     --input=2x13x384xf32=0.5 --input=384x384xf32=0.25 > %t.1.txt
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --num-threads=2 \
// RUN:     --input=2x13x384xf32=0.5 --input=384x384xf32=0.25 > %t.2.txt
// RUN: diff %t.1.txt %t.2.txt
// RUN: FileCheck %s --check-prefix=RESULT < %t.2.txt
// RESULT: y: 2x13x384xf32={{\[\[}}48 48 48
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --num-threads=-1 \
// RUN:     --input=2x13x384xf32=0.5 --input=384x384xf32=0.25 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: hope-run: error: --num-threads=-1 is out of range (0 for the default, or 1 to 1024)

func.func @forward(%x: tensor<?x?x384xf32> {nl.input = "x"},
                   %w: tensor<384x384xf32> {nl.input = "w"})
    -> (tensor<?x?x384xf32> {nl.output = "y"}) {
  %y = nl.linear %x, %w : tensor<?x?x384xf32>, tensor<384x384xf32>
  return %y : tensor<?x?x384xf32>
}
