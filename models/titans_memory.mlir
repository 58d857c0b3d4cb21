// A Titans neural memory in the form of titans-pytorch's NeuralMemory: the
// chunk-aggregated variant with one update per chunk of 64 tokens.
//
//   width 384, 4 heads of 96; the memory is a per-head residual MLP of depth 2
//   (hidden 384, GELU) with a LayerNorm on its branch whose scale is part of
//   the state (ResidualNorm); L2 objective averaged over features;
//   learning rate max_lr * sigmoid(.) per token (max_lr = 1e-2); momentum and
//   retention per chunk from the mean-pooled chunk; linearisation period 64.
//
// titans-pytorch gates with a decay factor d = sigmoid(W_d x); the retention
// here is alpha = 1 - d = sigmoid(-W_d x): the weight exporter negates W_d.
// Reads see the state after the last complete chunk (read point `after`).

!mem = !nl.memory<4 heads, 96 -> 96, f32>

func.func @titans_memory(
    %x: tensor<?x?x384xf32> {nl.input = "x"},
    %store_norm: tensor<384xf32> {nl.weight = "store_norm"}, %retrieve_norm: tensor<384xf32> {nl.weight = "retrieve_norm"},
    %w_k: tensor<384x384xf32> {nl.weight = "w_k"}, %w_v: tensor<384x384xf32> {nl.weight = "w_v"}, %w_q: tensor<384x384xf32> {nl.weight = "w_q"},
    %w_lr: tensor<4x384xf32> {nl.weight = "w_lr"}, %w_momentum: tensor<4x384xf32> {nl.weight = "w_momentum"}, %w_retention: tensor<4x384xf32> {nl.weight = "w_retention"},
    %w_out: tensor<384x384xf32> {nl.weight = "w_out"},
    %mem_w1: tensor<4x384x96xf32> {nl.weight = "mem_w1"}, %mem_w2: tensor<4x96x384xf32> {nl.weight = "mem_w2"}, %mem_norm: tensor<4x96xf32> {nl.weight = "mem_norm"})
    -> (tensor<?x?x384xf32> {nl.output = "y"}) {
  // Keys, values and rates from the store-normed sequence.
  %s = nl.rms_norm %x, %store_norm : tensor<?x?x384xf32>, tensor<384xf32>
  %k_flat = nl.linear %s, %w_k : tensor<?x?x384xf32>, tensor<384x384xf32>
  %k = nl.split_heads %k_flat into 4 heads : tensor<?x?x384xf32>
  %v_flat = nl.linear %s, %w_v : tensor<?x?x384xf32>, tensor<384x384xf32>
  %v = nl.split_heads %v_flat into 4 heads : tensor<?x?x384xf32>
  %lr_flat = nl.linear %s, %w_lr : tensor<?x?x384xf32>, tensor<4x384xf32>
  %lr_raw = nl.split_heads %lr_flat into 4 heads : tensor<?x?x4xf32>
  %lr = nl.rate sigmoid %lr_raw scale 1.000000e-02 : tensor<?x4x?x1xf32>

  // Per-chunk momentum and retention from the mean-pooled chunk.
  %pooled = nl.chunk_pool %s chunk 64 : tensor<?x?x384xf32>
  %beta_flat = nl.linear %pooled, %w_momentum : tensor<?x?x384xf32>, tensor<4x384xf32>
  %beta_raw = nl.split_heads %beta_flat into 4 heads : tensor<?x?x4xf32>
  %beta = nl.rate sigmoid %beta_raw : tensor<?x4x?x1xf32>
  %alpha_flat = nl.linear %pooled, %w_retention : tensor<?x?x384xf32>, tensor<4x384xf32>
  %alpha_raw = nl.split_heads %alpha_flat into 4 heads : tensor<?x?x4xf32>
  %alpha = nl.rate sigmoid %alpha_raw : tensor<?x4x?x1xf32>

  %memory = nl.memory "memory" init(%mem_w1, %mem_w2, %mem_norm : tensor<4x384x96xf32>, tensor<4x96x384xf32>, tensor<4x96xf32>) {
      every = #nl.every<64 tokens>,
      model = #nl.mlp<hidden = 384, activation = gelu, residual = identity, norm = post>,
      objective = #nl.l2<reduction = mean>,
      rule = #nl.momentum_gd<order = 1, retention = chunk, momentum = chunk>,
      chunk_aggregated = #nl.chunk_aggregated<linearize = 64>} : !mem
  nl.update %memory keys(%k) values(%v) lr(%lr) retention(%alpha) momentum(%beta)
      : !mem, tensor<?x4x?x96xf32>, tensor<?x4x?x96xf32>, tensor<?x4x?xf32>,
        tensor<?x4x?xf32>, tensor<?x4x?xf32>

  // Retrieval with queries from the retrieve-normed sequence.
  %r = nl.rms_norm %x, %retrieve_norm : tensor<?x?x384xf32>, tensor<384xf32>
  %q_flat = nl.linear %r, %w_q : tensor<?x?x384xf32>, tensor<384x384xf32>
  %q = nl.split_heads %q_flat into 4 heads : tensor<?x?x384xf32>
  %y_heads = nl.read %memory(%q) at after : !mem, tensor<?x4x?x96xf32>
  %y_flat = nl.merge_heads %y_heads : tensor<?x4x?x96xf32>
  %y = nl.linear %y_flat, %w_out : tensor<?x?x384xf32>, tensor<384x384xf32>
  return %y : tensor<?x?x384xf32>
}
