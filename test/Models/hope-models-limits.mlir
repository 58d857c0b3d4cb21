// Sizes that would exhaust memory are refused before anything is built or
// written, naming the estimate; a missing output folder leaves no file behind.

// RUN: not hope-models hope-block --config=tiny --width=100000000 -o %t.mlir 2>&1 | FileCheck %s --check-prefix=WIDTH
// WIDTH: hope-models: hope-block --config=tiny: the weights would take about {{[0-9.]+}} GiB, more than --max-weights-size=64 GiB
// RUN: not hope-models hope-block --config=tiny --width=100000000 2>&1 | count 1
// A huge --layers is estimated from one and two layers, without building it.
// RUN: not hope-models hope-lm --config=tiny --layers=1000000000 2>&1 | FileCheck %s --check-prefix=LAYERS
// LAYERS: hope-models: hope-lm --config=tiny: the weights would take about {{[0-9.]+}} GiB, more than --max-weights-size=64 GiB
// RUN: not hope-models hope-lm --config=tiny --layers=100000 --max-weights-size=100000 2>&1 | FileCheck %s --check-prefix=OPS
// OPS: hope-models: hope-lm --config=tiny: the IR would have about {{[0-9]+}} operations, more than --max-ops=1000000
// The limits are options: a tiny limit refuses the tiny model.
// RUN: not hope-models hope-block --config=tiny --max-ops=10 2>&1 | FileCheck %s --check-prefix=SMALL
// SMALL: the IR would have about {{[0-9]+}} operations, more than --max-ops=10
// RUN: hope-models hope-lm --config=tiny --layers=9 -o /dev/null

// RUN: rm -rf %t.out && mkdir %t.out
// RUN: not hope-models hope-block --config=tiny -o %t.out/m.mlir --weights-out=%t.out/missing/w.safetensors 2>&1 | FileCheck %s --check-prefix=FOLDER
// FOLDER: hope-models: cannot write '{{.*}}missing/w.safetensors': folder '{{.*}}missing' does not exist
// RUN: not hope-models hope-block --config=tiny -o %t.out/missing/m.mlir 2>&1 | FileCheck %s --check-prefix=FOLDER-IR
// FOLDER-IR: hope-models: cannot write '{{.*}}missing/m.mlir': folder '{{.*}}missing' does not exist
// RUN: not hope-models hope-block --config=tiny --streaming -o %t.out/m.mlir --initial-state-out=%t.out/missing/s.safetensors 2>&1 | FileCheck %s --check-prefix=FOLDER-STATE
// FOLDER-STATE: hope-models: cannot write '{{.*}}missing/s.safetensors': folder '{{.*}}missing' does not exist
// RUN: ls %t.out | count 0
