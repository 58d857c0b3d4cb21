// The weights hope-models writes are what the compiled model binds: the
// runtime checks every weight's name, dtype and shape against the manifest.

// RUN: hope-models memory-level --config=mlp-dgd -o %t.mlir --weights-out=%t.safetensors
// RUN: hope-compile %t.mlir -o %t.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.so --weights=%t.safetensors \
// RUN:   --input=1x2x3x8xf32=0.5 --input=1x2x3x8xf32=0.25 --input=1x2x3xf32=0.1 \
// RUN:   --input=1x2x3xf32=1 --input=1x2x3x8xf32=1 --output=- | FileCheck %s
// CHECK: y: 1x2x3x8xf32=[

// f64, with a momentum rate.
// RUN: hope-models memory-level --config=linear-momentum --dtype=f64 -o %t.f64.mlir --weights-out=%t.f64.safetensors
// RUN: hope-compile %t.f64.mlir -o %t.f64.so
// RUN: %hope_obj_root/bin/hope-run --module=%t.f64.so --weights=%t.f64.safetensors \
// RUN:   --input=1x2x5x8xf64=0.5 --input=1x2x5x8xf64=0.25 --input=1x2x5xf64=0.1 \
// RUN:   --input=1x2x5xf64=1 --input=1x2x5xf64=0.9 --input=1x2x5x8xf64=1 --output=- | FileCheck %s --check-prefix=F64
// F64: y: 1x2x5x8xf64=[
