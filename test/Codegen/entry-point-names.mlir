// An entry point is exported as hope_entry_<name>, which the runtime looks up
// only for C identifiers: hope-compile refuses other names at the function,
// instead of writing an artifact that hope-run then refuses.

// RUN: not hope-compile %s --compile-to=levels 2>&1 | FileCheck %s
// CHECK: entry-point-names.mlir:[[@LINE+1]]:1: error: entry point name 'my-model' is not a C identifier (letters, digits and '_', not starting with a digit): the artifact exports it as hope_entry_<name>
func.func @"my-model"(%x: tensor<?x4xf32> {nl.input = "x"})
    -> (tensor<?x4xf32> {nl.output = "y"}) {
  return %x : tensor<?x4xf32>
}

// A leading digit is refused too; a C identifier passes.
// RUN: sed 's/@"my-model"/@"2nd"/' %s | not hope-compile - --compile-to=levels 2>&1 | FileCheck %s --check-prefix=DIGIT
// DIGIT: error: entry point name '2nd' is not a C identifier
// RUN: sed 's/@"my-model"/@my_model_2/' %s | hope-compile - --compile-to=levels | FileCheck %s --check-prefix=VALID
// VALID: func.func @my_model_2(
