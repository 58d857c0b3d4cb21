// An output in a folder that does not exist (or that is a folder) fails
// before any work: hope-compile would otherwise compile for minutes first.

// RUN: rm -rf %t.missing
// RUN: not hope-opt %s -o %t.missing/out.mlir 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: hope-opt: cannot write '{{.*}}missing/out.mlir': folder '{{.*}}missing' does not exist
// RUN: not hope-compile %s -o %t.missing/out.so 2>&1 | FileCheck %s --check-prefix=COMPILE
// COMPILE: hope-compile: cannot write '{{.*}}missing/out.so': folder '{{.*}}missing' does not exist
// RUN: mkdir -p %t.folder
// RUN: not hope-compile %s --compile-to=input -o %t.folder 2>&1 | FileCheck %s --check-prefix=FOLDER
// FOLDER: hope-compile: cannot write '{{.*}}folder': it is a folder
// RUN: not ls %t.missing

func.func @f(%x: tensor<?x4xf32> {nl.input = "x"}) -> (tensor<?x4xf32> {nl.output = "y"}) {
  return %x : tensor<?x4xf32>
}
