// Diagnostics of the entry-point attributes (NLDialect's region argument and
// result attribute verifiers) and of `nl.manifest`.
// RUN: hope-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{unknown nl attribute 'nl.output' on argument #0 (expected one of nl.input, nl.weight, nl.state)}}
func.func private @output_argument(tensor<4xf32> {nl.output = "y"})

// -----

// expected-error @+1 {{unknown nl attribute 'nl.level' on argument #1 (expected one of nl.input, nl.weight, nl.state)}}
func.func private @level_argument(tensor<4xf32> {nl.input = "x"}, tensor<4xf32> {nl.level = array<i64: 1>})

// -----

// expected-error @+1 {{unknown nl attribute 'nl.input' on result #1 (expected one of nl.output, nl.state)}}
func.func private @input_result() -> (tensor<4xf32> {nl.output = "y"}, tensor<4xf32> {nl.input = "x"})

// -----

// expected-error @+1 {{unknown nl attribute 'nl.weight' on result #0 (expected one of nl.output, nl.state)}}
func.func private @weight_result() -> (tensor<4xf32> {nl.weight = "w"})

// -----

// expected-error @+1 {{'nl.weight' on argument #1 must be a non-empty string naming it}}
func.func private @weight_not_a_string(tensor<4xf32> {nl.input = "x"}, tensor<4xf32> {nl.weight = 1 : i64})

// -----

// expected-error @+1 {{'nl.state' on argument #0 must be a non-empty string naming it}}
func.func private @state_empty_argument(tensor<4xf32> {nl.state = ""})

// -----

// expected-error @+1 {{'nl.state' on result #0 must be a non-empty string naming it}}
func.func private @state_empty_result() -> (tensor<4xf32> {nl.state = ""})

// -----

// expected-error @+1 {{'nl.output' on result #0 must be a non-empty string naming it}}
func.func private @output_symbol() -> (tensor<4xf32> {nl.output = @y})

// -----

// expected-error @+1 {{'nl.manifest' must be a string on a module}}
func.func private @manifest_on_function() attributes {nl.manifest = "{}"}

// -----

// expected-error @+1 {{'nl.manifest' must be a string on a module}}
module attributes {nl.manifest = 1 : i64} {
}

// -----

// Entry-point roles are argument and result attributes, not op attributes.
// expected-error @+1 {{unknown nl attribute 'nl.input'}}
func.func private @input_on_function() attributes {nl.input = "x"}
