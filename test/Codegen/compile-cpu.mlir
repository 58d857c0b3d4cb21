// REQUIRES: x86_64
// --cpu compiles for a named CPU and records its features in the manifest.

// RUN: hope-compile %s --cpu=x86-64 --compile-to=levels | FileCheck %s --check-prefix=BASELINE
// BASELINE: \22cpu\22:\22x86-64\22,\22features\22:[
// BASELINE-SAME: \22sse2\22
// BASELINE-NOT: avx512f

// RUN: hope-compile %s --cpu=x86-64-v4 --compile-to=levels | FileCheck %s --check-prefix=V4
// V4: \22cpu\22:\22x86-64-v4\22,\22features\22:[{{.*}}\22avx512f\22

// The artifact for the baseline loads here (every x86-64 CPU has its
// features).
// RUN: hope-compile %s --cpu=x86-64 -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --list | FileCheck %s --check-prefix=LOADS
// LOADS: model {{.*}}cpu x86-64

// RUN: not hope-compile %s --cpu=pentium9 -o %t.bad.so 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: hope-compile: --cpu=pentium9: LLVM does not know the CPU 'pentium9'
// UNKNOWN-NOT: not a recognized processor

func.func @forward(%x: tensor<?x8xf32> {nl.input = "x"}) -> (tensor<?x8xf32> {nl.output = "y"}) {
  %y = nl.activation silu %x : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
