// nl-build-test-time-learning's diagnostics: every error it emits, each at
// the function or the CMS op it is about.
// RUN: hope-opt %s --nl-prepare-entry-points --nl-build-test-time-learning -split-input-file -verify-diagnostics

// Without the manifest the pass cannot name the arguments (each case alike).
// RUN: not hope-opt %s --nl-build-test-time-learning -split-input-file 2>&1 | FileCheck %s --check-prefix=MANIFEST
// MANIFEST: error: nl-build-test-time-learning: 'two_inputs' has no manifest entry; run nl-prepare-entry-points first

// The learning CMS of every case below; @lm's states are those a learning
// function needs (hope-models hope-lm --streaming --cms-learning=LR).

// expected-error @+1 {{nl-build-test-time-learning: 'two_inputs' must take one input (the token ids)}}
func.func @two_inputs(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                      %more: tensor<?x?xi64> {nl.input = "more"},
                      %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                      %n: tensor<2xf64> {nl.weight = "norm"},
                      %i: tensor<2x2xf64> {nl.weight = "in"},
                      %o: tensor<2x2xf64> {nl.weight = "out"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y : tensor<?x?x2xf64>
}

// -----

// The input is not token ids.
// expected-error @+1 {{nl-build-test-time-learning: a learning CMS needs an entry point from i64 tokens [B, T] to logits [B, T, V], V static}}
func.func @not_tokens(%x: tensor<?x?x2xf64> {nl.input = "x"},
                      %n: tensor<2xf64> {nl.weight = "norm"},
                      %i: tensor<2x2xf64> {nl.weight = "in"},
                      %o: tensor<2x2xf64> {nl.weight = "out"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"}) {
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y : tensor<?x?x2xf64>
}

// -----

// The vocabulary (the logits' last size) is dynamic.
// expected-error @+1 {{nl-build-test-time-learning: a learning CMS needs an entry point from i64 tokens [B, T] to logits [B, T, V], V static}}
func.func @dynamic_vocabulary(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                              %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                              %head: tensor<?x2xf64> {nl.weight = "head"},
                              %n: tensor<2xf64> {nl.weight = "norm"},
                              %i: tensor<2x2xf64> {nl.weight = "in"},
                              %o: tensor<2x2xf64> {nl.weight = "out"})
    -> (tensor<?x?x?xf64> {nl.output = "logits"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  %logits = nl.linear %y, %head : tensor<?x?x2xf64>, tensor<?x2xf64>
  return %logits : tensor<?x?x?xf64>
}

// -----

// expected-error @+1 {{nl-build-test-time-learning: the state 'history' has no result of the same name}}
func.func @unreturned_state(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                            %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                            %history: tensor<?x2xf64> {nl.state = "history"},
                            %n: tensor<2xf64> {nl.weight = "norm"},
                            %i: tensor<2x2xf64> {nl.weight = "in"},
                            %o: tensor<2x2xf64> {nl.weight = "out"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y : tensor<?x?x2xf64>
}

// -----

// A second output: the token loop carries states only.
// expected-error @+1 {{nl-build-test-time-learning: every result but the logits must be a state carried from an argument of the same name}}
func.func @second_output(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                         %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                         %n: tensor<2xf64> {nl.weight = "norm"},
                         %i: tensor<2x2xf64> {nl.weight = "in"},
                         %o: tensor<2x2xf64> {nl.weight = "out"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"},
        tensor<?x?x2xf64> {nl.output = "embedded"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y, %x : tensor<?x?x2xf64>, tensor<?x?x2xf64>
}

// -----

// Not the streaming form: no position, no last token.
// expected-error @+1 {{nl-build-test-time-learning: a learning CMS needs the states 'cms_last_token' (i64 [B, 1]) and 'position' (the streaming form)}}
func.func @one_shot(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                    %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                    %n: tensor<2xf64> {nl.weight = "norm"},
                    %i: tensor<2x2xf64> {nl.weight = "in"},
                    %o: tensor<2x2xf64> {nl.weight = "out"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y : tensor<?x?x2xf64>
}

// -----

// The block's parameters are weights: nothing carries what it learns.
func.func @weight_params(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                         %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                         %position: tensor<i64> {nl.state = "position"},
                         %n: tensor<2xf64> {nl.weight = "norm"},
                         %i: tensor<2x2xf64> {nl.weight = "in"},
                         %o: tensor<2x2xf64> {nl.weight = "out"},
                         %last: tensor<?x1xi64> {nl.state = "cms_last_token"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"},
        tensor<i64> {nl.state = "position"},
        tensor<?x1xi64> {nl.state = "cms_last_token"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  // expected-error @+1 {{nl-build-test-time-learning: parameter 0 of a learning CMS must be a state argument of the entry point}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y, %position, %last : tensor<?x?x2xf64>, tensor<i64>, tensor<?x1xi64>
}

// -----

// The second parameter has no gradient sum.
func.func @no_grad_sum(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                       %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                       %position: tensor<i64> {nl.state = "position"},
                       %n: tensor<2xf64> {nl.state = "norm"},
                       %i: tensor<2x2xf64> {nl.state = "in"},
                       %o: tensor<2x2xf64> {nl.state = "out"},
                       %sn: tensor<2xf64> {nl.state = "norm.grad_sum"},
                       %so: tensor<2x2xf64> {nl.state = "out.grad_sum"},
                       %last: tensor<?x1xi64> {nl.state = "cms_last_token"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"},
        tensor<i64> {nl.state = "position"},
        tensor<2xf64> {nl.state = "norm"}, tensor<2x2xf64> {nl.state = "in"},
        tensor<2x2xf64> {nl.state = "out"},
        tensor<2xf64> {nl.state = "norm.grad_sum"},
        tensor<2x2xf64> {nl.state = "out.grad_sum"},
        tensor<?x1xi64> {nl.state = "cms_last_token"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  // expected-error @+1 {{nl-build-test-time-learning: the learnt parameter 'in' needs the state 'in.grad_sum'}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y, %position, %n, %i, %o, %sn, %so, %last
      : tensor<?x?x2xf64>, tensor<i64>, tensor<2xf64>, tensor<2x2xf64>,
        tensor<2x2xf64>, tensor<2xf64>, tensor<2x2xf64>, tensor<?x1xi64>
}

// -----

// The learning CMS ops of a function share one signal.
func.func @mixed_signals(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                         %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                         %position: tensor<i64> {nl.state = "position"},
                         %n: tensor<2xf64> {nl.state = "norm"},
                         %i: tensor<2x2xf64> {nl.state = "in"},
                         %o: tensor<2x2xf64> {nl.state = "out"},
                         %last: tensor<?x1xi64> {nl.state = "cms_last_token"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"},
        tensor<i64> {nl.state = "position"},
        tensor<2xf64> {nl.state = "norm"}, tensor<2x2xf64> {nl.state = "in"},
        tensor<2x2xf64> {nl.state = "out"},
        tensor<?x1xi64> {nl.state = "cms_last_token"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  // expected-error @+1 {{nl-build-test-time-learning: the learning CMS ops of a function must share one signal (task or local)}}
  %z = nl.cms "cms2" %y params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<local>, local_objective = #nl.l2<>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %z, %position, %n, %i, %o, %last
      : tensor<?x?x2xf64>, tensor<i64>, tensor<2xf64>, tensor<2x2xf64>,
        tensor<2x2xf64>, tensor<?x1xi64>
}

// -----

// A local objective needs the position (no last token: its loss needs no
// later token).
// expected-error @+1 {{nl-build-test-time-learning: a learning CMS needs the state 'position' (the streaming form)}}
func.func @local_one_shot(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                          %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                          %n: tensor<2xf64> {nl.state = "norm"},
                          %i: tensor<2x2xf64> {nl.state = "in"},
                          %o: tensor<2x2xf64> {nl.state = "out"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"},
        tensor<2xf64> {nl.state = "norm"}, tensor<2x2xf64> {nl.state = "in"},
        tensor<2x2xf64> {nl.state = "out"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<local>, local_objective = #nl.l2<>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x2xf64>
  return %y, %n, %i, %o
      : tensor<?x?x2xf64>, tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>
}

// -----

// #nl.l2<reduction = mean> divides by the feature width, which is dynamic.
func.func @local_mean_dynamic(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                              %emb: tensor<3x?xf64> {nl.weight = "embedding"},
                              %head: tensor<3x?xf64> {nl.weight = "head"},
                              %position: tensor<i64> {nl.state = "position"},
                              %n: tensor<?xf64> {nl.state = "norm"},
                              %i: tensor<2x?xf64> {nl.state = "in"},
                              %o: tensor<?x2xf64> {nl.state = "out"})
    -> (tensor<?x?x3xf64> {nl.output = "logits"},
        tensor<i64> {nl.state = "position"},
        tensor<?xf64> {nl.state = "norm"}, tensor<2x?xf64> {nl.state = "in"},
        tensor<?x2xf64> {nl.state = "out"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x?xf64>
  // expected-error @+1 {{nl-build-test-time-learning: a local objective with reduction = mean needs a static feature width}}
  %y = nl.cms "cms" %x params(%n, %i, %o : tensor<?xf64>, tensor<2x?xf64>, tensor<?x2xf64>) {chunks = array<i64: 2>, variant = #nl.cms_variant<sequential>, signal = #nl.cms_signal<local>, local_objective = #nl.l2<reduction = mean>, activation = #nl.activation<silu>, lr = array<f64: 0.5>} : tensor<?x?x?xf64>
  %logits = nl.linear %y, %head : tensor<?x?x?xf64>, tensor<3x?xf64>
  return %logits, %position, %n, %i, %o
      : tensor<?x?x3xf64>, tensor<i64>, tensor<?xf64>, tensor<2x?xf64>,
        tensor<?x2xf64>
}

// -----

// The nested CMS resets a block at the next block's boundaries: those must
// be boundaries of the faster block too, and fewer.
func.func @nested_chunks(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                         %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                         %position: tensor<i64> {nl.state = "position"},
                         %n: tensor<2xf64> {nl.state = "norm"},
                         %i: tensor<2x2xf64> {nl.state = "in"},
                         %o: tensor<2x2xf64> {nl.state = "out"},
                         %last: tensor<?x1xi64> {nl.state = "cms_last_token"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"},
        tensor<i64> {nl.state = "position"},
        tensor<2xf64> {nl.state = "norm"}, tensor<2x2xf64> {nl.state = "in"},
        tensor<2x2xf64> {nl.state = "out"},
        tensor<?x1xi64> {nl.state = "cms_last_token"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  // expected-error @+1 {{nl-build-test-time-learning: the nested CMS needs each block's chunk to be a multiple of the previous block's, larger: block 1 has 3, block 0 2}}
  %y = nl.cms "cms" %x params(%n, %i, %o, %n, %i, %o : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2, 3>, variant = #nl.cms_variant<nested>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5, 0.25>} : tensor<?x?x2xf64>
  return %y, %position, %n, %i, %o, %last
      : tensor<?x?x2xf64>, tensor<i64>, tensor<2xf64>, tensor<2x2xf64>,
        tensor<2x2xf64>, tensor<?x1xi64>
}

// -----

// The faster block of a nested CMS needs its meta-learnt initial state.
func.func @nested_no_initial(%tokens: tensor<?x?xi64> {nl.input = "tokens"},
                             %emb: tensor<3x2xf64> {nl.weight = "embedding"},
                             %position: tensor<i64> {nl.state = "position"},
                             %n0: tensor<2xf64> {nl.state = "n0"},
                             %i0: tensor<2x2xf64> {nl.state = "i0"},
                             %o0: tensor<2x2xf64> {nl.state = "o0"},
                             %n1: tensor<2xf64> {nl.weight = "n1"},
                             %i1: tensor<2x2xf64> {nl.weight = "i1"},
                             %o1: tensor<2x2xf64> {nl.weight = "o1"},
                             %s: tensor<2xf64> {nl.state = "n0.grad_sum"},
                             %last: tensor<?x1xi64> {nl.state = "cms_last_token"})
    -> (tensor<?x?x2xf64> {nl.output = "logits"},
        tensor<i64> {nl.state = "position"},
        tensor<2xf64> {nl.state = "n0"}, tensor<2x2xf64> {nl.state = "i0"},
        tensor<2x2xf64> {nl.state = "o0"},
        tensor<2xf64> {nl.state = "n0.grad_sum"},
        tensor<?x1xi64> {nl.state = "cms_last_token"}) {
  %x = nl.embedding %tokens, %emb : tensor<?x?xi64>, tensor<3x2xf64>
  // expected-error @+1 {{nl-build-test-time-learning: the learnt parameter 'n0' needs the state 'n0.initial'}}
  %y = nl.cms "cms" %x params(%n0, %i0, %o0, %n1, %i1, %o1 : tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {chunks = array<i64: 2, 4>, variant = #nl.cms_variant<nested>, signal = #nl.cms_signal<task>, activation = #nl.activation<silu>, lr = array<f64: 0.5, 0.25>} : tensor<?x?x2xf64>
  return %y, %position, %n0, %i0, %o0, %s, %last
      : tensor<?x?x2xf64>, tensor<i64>, tensor<2xf64>, tensor<2x2xf64>,
        tensor<2x2xf64>, tensor<2xf64>, tensor<?x1xi64>
}
