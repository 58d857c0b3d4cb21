// REQUIRES: x86_64
// --cpu compiles for a named CPU and records its features: on the module
// (nl.target) until the manifest is written, in the LLVM dialect.

// RUN: hope-compile %s --cpu=x86-64 --compile-to=levels | FileCheck %s --check-prefix=BASELINE
// BASELINE: nl.target = {cpu = "x86-64", features = [
// BASELINE-SAME: "sse2"
// BASELINE-SAME: kind = "cpu", triple = "x86_64-
// BASELINE-NOT: avx512f

// RUN: hope-compile %s --cpu=x86-64-v4 --compile-to=levels | FileCheck %s --check-prefix=V4
// V4: nl.target = {cpu = "x86-64-v4", features = [{{.*}}"avx512f"

// RUN: hope-compile %s --cpu=x86-64 --compile-to=llvm | FileCheck %s --check-prefix=MANIFEST
// MANIFEST-NOT: nl.target
// MANIFEST: llvm.mlir.global external constant @hope_manifest(
// MANIFEST-SAME: \22target\22:{\22kind\22:\22cpu\22,\22cpu\22:\22x86-64\22,\22features\22:[{{.*}}\22sse2\22{{.*}}],\22triple\22:\22x86_64-
// MANIFEST-SAME: \22version\22:4

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
