// nl-build-train-step's and hope-compile --train's diagnostics.

// RUN: not hope-compile %s --train --optimizer=adam --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: hope-compile: --optimizer=adam: unknown optimizer (sgd, adamw, muon or m3)
// RUN: not hope-opt %s --nl-build-train-step="optimizer=adam" 2>&1 | FileCheck %s --check-prefix=PASS-OPT
// PASS-OPT: error: nl-build-train-step: unknown optimizer 'adam' (sgd, adamw, muon or m3)

// Every hyper-parameter is checked once, by the tool and by the pass alike.
// RUN: not hope-compile %s --train --beta2=1 --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=BETA
// BETA: hope-compile: --beta2 must be below 1, got 1
// RUN: not hope-opt %s --nl-build-train-step="eps=-1" 2>&1 | FileCheck %s --check-prefix=PASS-EPS
// PASS-EPS: error: nl-build-train-step: eps must be finite and >= 0, got -1
// RUN: not hope-compile %s --train --m3-every=0 --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=EVERY
// EVERY: hope-compile: --m3-every must be at least 1 step
// RUN: not hope-compile %s --beta1=0.8 --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=FLAG-BETA
// FLAG-BETA: hope-compile: --beta1 applies to --train only

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
