// REQUIRES: x86_64
// Contractions reach LLVM as loops whose innermost one runs over the
// output's contiguous dimension, and LLVM vectorises them into FMAs as wide
// as the target's vectors.

// The weight of y[b, t, o] = sum_i W[o, i] x[b, t, i] is transposed once, so
// that o is contiguous in every operand, and o becomes the innermost loop,
// after the reduction over i.
// RUN: hope-compile %s --compile-to=linalg | FileCheck %s --check-prefix=LINALG
// LINALG-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// LINALG-DAG: #[[WT:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// LINALG-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// LINALG: %[[T:.*]] = linalg.transpose ins(%arg1 : tensor<384x384xf32>) {{.*}} permutation = [1, 0]
// LINALG: linalg.generic {indexing_maps = [#[[X]], #[[WT]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%arg0, %[[T]] :

// Loops: batch and tokens shared among threads (scf.parallel), the
// multiply-add in the innermost loop, over o.
// RUN: hope-compile %s --compile-to=loops | FileCheck %s --check-prefix=LOOPS
// LOOPS: %[[WT:.*]] = memref.alloc() {{.*}} : memref<384x384xf32>
// LOOPS: scf.parallel (%[[B:.*]], %[[T:.*]]) = (%c0, %c0) to (%dim, %dim_0) step (%c1, %c1) {
// LOOPS-NEXT: scf.for %[[I:.*]] = %c0 to %c384 step %c1 {
// LOOPS-NEXT: scf.for %[[O:.*]] = %c0 to %c384 step %c1 {
// LOOPS-NEXT: %[[XV:.*]] = memref.load %arg0[%[[B]], %[[T]], %[[I]]]
// LOOPS-NEXT: %[[WV:.*]] = memref.load %[[WT]][%[[I]], %[[O]]]
// LOOPS-NEXT: %[[YV:.*]] = memref.load %[[Y:.*]][%[[B]], %[[T]], %[[O]]]
// LOOPS-NEXT: %[[SUM:.*]] = llvm.intr.fmuladd(%[[XV]], %[[WV]], %[[YV]])
// LOOPS-NEXT: memref.store %[[SUM]], %[[Y]][%[[B]], %[[T]], %[[O]]]

// The parallel loops become OpenMP work-sharing loops.
// RUN: hope-compile %s --compile-to=llvm | FileCheck %s --check-prefix=OMP
// OMP: omp.parallel {
// OMP: omp.wsloop {
// OMP-NEXT: omp.loop_nest

// AVX2 (x86-64-v3): 8 floats per FMA.
// RUN: hope-compile %s --cpu=x86-64-v3 --compile-to=llvm-ir | FileCheck %s --check-prefix=AVX2
// AVX2: call <8 x float> @llvm.fmuladd.v8f32(<8 x float>
// SSE2 only (x86-64): still vectorised, 4 floats, fused only where the CPU can.
// RUN: hope-compile %s --cpu=x86-64 --compile-to=llvm-ir | FileCheck %s --check-prefix=SSE2
// SSE2: call <4 x float> @llvm.fmuladd.v4f32(<4 x float>

// Any number of threads computes the same result.
// RUN: hope-compile %s -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --num-threads=1 \
// RUN:     --input=2x3x384xf32=0.5 --input=384x384xf32=0.25 > %t.1.txt
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --num-threads=2 \
// RUN:     --input=2x3x384xf32=0.5 --input=384x384xf32=0.25 > %t.2.txt
// RUN: diff %t.1.txt %t.2.txt
// RUN: FileCheck %s --check-prefix=RESULT < %t.2.txt
// RESULT: y: 2x3x384xf32={{\[\[}}48 48 48
// RUN: not %hope_obj_root/bin/hope-run --module=%t.so --num-threads=-1 \
// RUN:     --input=2x3x384xf32=0.5 --input=384x384xf32=0.25 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: hope-run: error: the number of threads must be 0 (the default) or more, got -1

func.func @forward(%x: tensor<?x?x384xf32> {nl.input = "x"},
                   %w: tensor<384x384xf32> {nl.input = "w"})
    -> (tensor<?x?x384xf32> {nl.output = "y"}) {
  %y = nl.linear %x, %w : tensor<?x?x384xf32>, tensor<384x384xf32>
  return %y : tensor<?x?x384xf32>
}
