// train_step's inputs are bound by name: a forward whose argument would share
// a name with one of train_step's own inputs is refused, naming both.

// RUN: not hope-compile %s --train --train-forward=input_named_lr --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=LR
// LR: error: nl-build-train-step: train_step's inputs are bound by name, and 'learning_rate' names both the forward's input 'learning_rate' and train_step's learning rate; rename the forward's argument
func.func @input_named_lr(%x: tensor<4xf32> {nl.input = "learning_rate"},
                          %w: tensor<4xf32> {nl.weight = "w"})
    -> (tensor<4xf32> {nl.output = "y"}) {
  %y = arith.mulf %x, %w : tensor<4xf32>
  return %y : tensor<4xf32>
}

// RUN: not hope-compile %s --train --train-forward=weight_named_like_a_state --compile-to=linalg 2>&1 | FileCheck %s --check-prefix=STATE
// STATE: error: nl-build-train-step: train_step's inputs are bound by name, and 'w.adamw_m' names both the weight 'w.adamw_m' and an optimizer state of 'w'; rename the forward's argument
func.func @weight_named_like_a_state(%x: tensor<4xf32> {nl.input = "x"},
                                     %w: tensor<4xf32> {nl.weight = "w"},
                                     %m: tensor<4xf32> {nl.weight = "w.adamw_m"})
    -> (tensor<4xf32> {nl.output = "y"}) {
  %y = arith.mulf %x, %w : tensor<4xf32>
  %z = arith.addf %y, %m : tensor<4xf32>
  return %z : tensor<4xf32>
}

// A forward input named `lr` (a memory level's inner rate) is no clash.
// RUN: hope-compile %s --train --train-forward=distinct --compile-to=linalg | FileCheck %s --check-prefix=OK
// OK: func.func @train_step(
func.func @distinct(%x: tensor<4xf32> {nl.input = "lr"},
                    %w: tensor<4xf32> {nl.weight = "w"})
    -> (tensor<4xf32> {nl.output = "y"}) {
  %y = arith.mulf %x, %w : tensor<4xf32>
  return %y : tensor<4xf32>
}
