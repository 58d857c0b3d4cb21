// hope-compile's phases: each can be printed, all can be dumped, and the
// artifact exports the ABI of docs/artifact-abi.md.

// RUN: hope-compile --list-phases | FileCheck %s --check-prefix=PHASES
// PHASES:      input
// PHASES-NEXT: levels
// PHASES-NEXT: memories
// PHASES-NEXT: linalg
// PHASES-NEXT: tiled
// PHASES-NEXT: bufferized
// PHASES-NEXT: loops
// PHASES-NEXT: llvm
// PHASES-NEXT: llvm-ir

// RUN: hope-compile %s --compile-to=levels | FileCheck %s --check-prefix=LEVELS
// LEVELS: module attributes {nl.manifest = "{{.*}}\22name\22:\22x\22,\22role\22:\22input\22,\22shape\22:[\22x[0]\22,\22x[1]\22,8]
// LEVELS-SAME: \22name\22:\22w\22,\22role\22:\22weight\22,\22shape\22:[8,8]
// LEVELS-SAME: \22name\22:\22y\22,\22role\22:\22output\22,\22shape\22:[\22x[0]\22,\22x[1]\22,8]
// LEVELS: func.func @forward({{.*}}bufferization.writable = false{{.*}}) -> tensor<?x?x8xf32> attributes {llvm.emit_c_interface}

// RUN: hope-compile %s --compile-to=linalg | FileCheck %s --check-prefix=LINALG
// LINALG-NOT: {{= nl\.}}
// LINALG: linalg.generic

// RUN: hope-compile %s --compile-to=llvm | FileCheck %s --check-prefix=LLVM
// LLVM-DAG: llvm.func @hope_entry_forward(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// LLVM-DAG: llvm.call @_mlir_ciface_forward
// LLVM-DAG: llvm.mlir.global external constant @hope_manifest
// LLVM-NOT: llvm.func @hope_free
// LLVM-NOT: llvm.func @malloc

// RUN: rm -rf %t.phases && hope-compile %s -o %t.so --dump-phases-to=%t.phases
// RUN: ls %t.phases | FileCheck %s --check-prefix=DUMP
// DUMP:      00-input.mlir
// DUMP-NEXT: 01-levels.mlir
// DUMP-NEXT: 02-memories.mlir
// DUMP-NEXT: 03-linalg.mlir
// DUMP-NEXT: 04-tiled.mlir
// DUMP-NEXT: 05-bufferized.mlir
// DUMP-NEXT: 06-loops.mlir
// DUMP-NEXT: 07-llvm.mlir
// DUMP-NEXT: 08-llvm-ir.ll
// RUN: llvm-nm -D --defined-only %t.so | FileCheck %s --check-prefix=SYMBOLS
// SYMBOLS-DAG: T hope_entry_forward
// SYMBOLS-DAG: R hope_manifest
// RUN: llvm-nm -D --undefined-only %t.so | FileCheck %s --check-prefix=IMPORTS
// IMPORTS-NOT: {{ (malloc|free|aligned_alloc|hope_.*)$}}

// Errors: unknown phase, unknown target, no output.
// RUN: not hope-compile %s --compile-to=nowhere 2>&1 | FileCheck %s --check-prefix=BADPHASE
// BADPHASE: hope-compile: unknown phase 'nowhere' (see --list-phases)
// RUN: not hope-compile %s --target=tpu -o %t.so 2>&1 | FileCheck %s --check-prefix=BADTARGET
// BADTARGET: hope-compile: unknown --target='tpu'; this build compiles for: cpu, cuda, cuda-emulated{{$}}
// RUN: hope-compile --target=cpu --list-phases | FileCheck %s --check-prefix=PHASES
// RUN: hope-compile --help | FileCheck %s --check-prefix=HELP
// HELP: --target=<string> {{.*}}What to compile for (default 'cpu'): 'cpu': a shared library
// RUN: not hope-compile %s 2>&1 | FileCheck %s --check-prefix=NOOUT
// NOOUT: hope-compile: give the output library with -o

func.func @forward(%x: tensor<?x?x8xf32> {nl.input = "x"}, %g: tensor<8xf32> {nl.weight = "g"},
                   %w: tensor<8x8xf32> {nl.weight = "w"}) -> (tensor<?x?x8xf32> {nl.output = "y"}) {
  %h = nl.rms_norm %x, %g : tensor<?x?x8xf32>, tensor<8xf32>
  %l = nl.linear %h, %w : tensor<?x?x8xf32>, tensor<8x8xf32>
  %y = arith.addf %x, %l : tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}
