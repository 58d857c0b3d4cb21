// nl-build-train-step's and hope-compile --train's diagnostics.

// RUN: not hope-compile %s --train --optimizer=adam --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: error: nl-build-train-step: unknown optimizer 'adam' (sgd, adamw, muon or m3)

// RUN: not hope-compile %s --optimizer=sgd --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=FLAG
// FLAG: hope-compile: --optimizer applies to --train only

// RUN: not hope-compile %s --train --train-forward=other --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: error: nl-build-train-step: no entry point named 'other'

// RUN: not hope-opt %s --nl-build-train-step 2>&1 | FileCheck %s --check-prefix=MANIFEST
// MANIFEST: error: nl-build-train-step: the module has no manifest; run nl-prepare-entry-points first

// A carried state is not trained through (the one-shot form is).
// RUN: not hope-compile %s --train --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=STATE
// STATE: error: nl-build-train-step: 'model' takes the state 's'; train_step trains a forward without carried states (the one-shot form)
func.func @model(%x: tensor<4xf32> {nl.input = "x"},
                 %w: tensor<4xf32> {nl.weight = "w"},
                 %s: tensor<4xf32> {nl.state = "s"})
    -> (tensor<4xf32> {nl.output = "y"}, tensor<4xf32> {nl.state = "s"}) {
  %y = arith.mulf %x, %w : tensor<4xf32>
  %t = arith.addf %s, %y : tensor<4xf32>
  return %y, %t : tensor<4xf32>, tensor<4xf32>
}
