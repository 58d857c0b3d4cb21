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

// -----

// A weight's initialisation (nl.init, nl.init_scale): on weights only, a
// known rule, a shape the rule fits, a finite float scale.
// expected-error @+1 {{'nl.init' on argument #0 needs a weight argument (nl.weight)}}
func.func private @init_on_input(tensor<4x4xf32> {nl.input = "x", nl.init = "token_shift"})

// -----

// expected-error @+1 {{'nl.init' on argument #0 must name an initialisation rule: "seeded" or "token_shift"}}
func.func private @unknown_init(tensor<4x4xf32> {nl.weight = "conv", nl.init = "shift"})

// -----

// expected-error @+1 {{'nl.init' on argument #0 of type 'tensor<4xf32>': token_shift initialises a causal convolution's taps [D, W] with W >= 2}}
func.func private @shift_of_a_vector(tensor<4xf32> {nl.weight = "conv", nl.init = "token_shift"})

// -----

// expected-error @+1 {{'nl.init' on argument #0 of type 'tensor<4x1xf32>': token_shift initialises}}
func.func private @shift_of_one_tap(tensor<4x1xf32> {nl.weight = "conv", nl.init = "token_shift"})

// -----

// expected-error @+1 {{'nl.init_scale' on argument #0 needs a tensor of static shape}}
func.func private @scale_of_dynamic(tensor<?x4xf32> {nl.weight = "w", nl.init_scale = 2.0 : f64})

// -----

// expected-error @+1 {{'nl.init_scale' on argument #0 must be a float}}
func.func private @scale_not_a_float(tensor<4xf32> {nl.weight = "w", nl.init_scale = 2 : i64})

// -----

// expected-error @+1 {{'nl.init_scale' on argument #0 of type 'tensor<4xf32>': the scale must be finite, got inf}}
func.func private @scale_infinite(tensor<4xf32> {nl.weight = "w", nl.init_scale = 0x7FF0000000000000 : f64})
