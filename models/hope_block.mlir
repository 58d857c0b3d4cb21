// A HOPE block (Nested Learning, section 8): self-modifying Titans followed by
// a three-level Continuum Memory System.
//
//   width 512, 8 heads of 64, memories are per-head MLPs of hidden width 64;
//   C_other = 8 for M_k, M_v, M_eta, M_alpha; C_mem = 64 for M_mem;
//   CMS chunk sizes 1, 16, 256 with hidden width 2048.
//
// Batch and sequence length are dynamic. Built by the same code in C++:
// models/lib/HopeBlock.cpp (the unit tests check that both are equivalent).

!mk = !nl.memory<8 heads, 64 -> 64, f32>
!mr = !nl.memory<8 heads, 64 -> 1, f32>

func.func @hope_block(
    %x: tensor<?x?x512xf32> {nl.input = "x"},
    %titans_norm: tensor<512xf32> {nl.weight = "titans_norm"}, %conv: tensor<512x4xf32> {nl.weight = "conv"},
    %w_q: tensor<512x512xf32> {nl.weight = "w_q"}, %w_o: tensor<512x512xf32> {nl.weight = "w_o"},
    %mk_w1: tensor<8x64x64xf32> {nl.weight = "mk_w1"}, %mk_w2: tensor<8x64x64xf32> {nl.weight = "mk_w2"},
    %mv_w1: tensor<8x64x64xf32> {nl.weight = "mv_w1"}, %mv_w2: tensor<8x64x64xf32> {nl.weight = "mv_w2"},
    %meta_w1: tensor<8x64x64xf32> {nl.weight = "meta_w1"}, %meta_w2: tensor<8x1x64xf32> {nl.weight = "meta_w2"}, %meta_skip: tensor<8x1x64xf32> {nl.weight = "meta_skip"},
    %malpha_w1: tensor<8x64x64xf32> {nl.weight = "malpha_w1"}, %malpha_w2: tensor<8x1x64xf32> {nl.weight = "malpha_w2"}, %malpha_skip: tensor<8x1x64xf32> {nl.weight = "malpha_skip"},
    %mmem_w1: tensor<8x64x64xf32> {nl.weight = "mmem_w1"}, %mmem_w2: tensor<8x64x64xf32> {nl.weight = "mmem_w2"},
    %cms0_norm: tensor<512xf32> {nl.weight = "cms0_norm"}, %cms0_in: tensor<2048x512xf32> {nl.weight = "cms0_in"}, %cms0_out: tensor<512x2048xf32> {nl.weight = "cms0_out"},
    %cms1_norm: tensor<512xf32> {nl.weight = "cms1_norm"}, %cms1_in: tensor<2048x512xf32> {nl.weight = "cms1_in"}, %cms1_out: tensor<512x2048xf32> {nl.weight = "cms1_out"},
    %cms2_norm: tensor<512xf32> {nl.weight = "cms2_norm"}, %cms2_in: tensor<2048x512xf32> {nl.weight = "cms2_in"}, %cms2_out: tensor<512x2048xf32> {nl.weight = "cms2_out"})
    -> (tensor<?x?x512xf32> {nl.output = "y"}) {
  // Inputs of the memories: pre-norm, causal depthwise convolution (window 4),
  // heads.
  %h = nl.rms_norm %x, %titans_norm : tensor<?x?x512xf32>, tensor<512xf32>
  %c = nl.causal_conv %h, %conv : tensor<?x?x512xf32>, tensor<512x4xf32>
  %xh = nl.split_heads %c into 8 heads : tensor<?x?x512xf32>

  // The five memories, all learning by DGD on the L2 objective.
  %mk = nl.memory "M_k" init(%mk_w1, %mk_w2 : tensor<8x64x64xf32>, tensor<8x64x64xf32>) {
      every = #nl.every<8 tokens>,
      model = #nl.mlp<hidden = 64, activation = silu, residual = identity>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !mk
  %mv = nl.memory "M_v" init(%mv_w1, %mv_w2 : tensor<8x64x64xf32>, tensor<8x64x64xf32>) {
      every = #nl.every<8 tokens>,
      model = #nl.mlp<hidden = 64, activation = silu, residual = identity>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !mk
  %meta = nl.memory "M_eta" init(%meta_w1, %meta_w2, %meta_skip : tensor<8x64x64xf32>, tensor<8x1x64xf32>, tensor<8x1x64xf32>) {
      every = #nl.every<8 tokens>,
      model = #nl.mlp<hidden = 64, activation = silu, residual = learned>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !mr
  %malpha = nl.memory "M_alpha" init(%malpha_w1, %malpha_w2, %malpha_skip : tensor<8x64x64xf32>, tensor<8x1x64xf32>, tensor<8x1x64xf32>) {
      every = #nl.every<8 tokens>,
      model = #nl.mlp<hidden = 64, activation = silu, residual = learned>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !mr
  %mmem = nl.memory "M_mem" init(%mmem_w1, %mmem_w2 : tensor<8x64x64xf32>, tensor<8x64x64xf32>) {
      every = #nl.every<64 tokens>,
      model = #nl.mlp<hidden = 64, activation = silu, residual = identity>,
      objective = #nl.l2<>, rule = #nl.dgd<>} : !mk

  // Keys, values and rates, computed at the chunk-start state.
  %k_raw = nl.read %mk(%xh) at chunk_start : !mk, tensor<?x8x?x64xf32>
  %k = nl.l2_normalize %k_raw : tensor<?x8x?x64xf32>
  %v = nl.read %mv(%xh) at chunk_start : !mk, tensor<?x8x?x64xf32>
  %eta_raw = nl.read %meta(%xh) at chunk_start : !mr, tensor<?x8x?x64xf32>
  %eta = nl.rate softplus %eta_raw scale 1.000000e-03 : tensor<?x8x?x1xf32>
  %alpha_raw = nl.read %malpha(%xh) at chunk_start : !mr, tensor<?x8x?x64xf32>
  %alpha = nl.rate sigmoid %alpha_raw : tensor<?x8x?x1xf32>

  // Static, L2-normalised queries.
  %q_flat = nl.linear %c, %w_q : tensor<?x?x512xf32>, tensor<512x512xf32>
  %q_raw = nl.split_heads %q_flat into 8 heads : tensor<?x?x512xf32>
  %q = nl.l2_normalize %q_raw : tensor<?x8x?x64xf32>

  // Self-generated targets vhat_r = M_r(v_t), behind a stop-gradient.
  %vk_raw = nl.read %mk(%v) at chunk_start : !mk, tensor<?x8x?x64xf32>
  %vk = nl.stop_gradient %vk_raw : tensor<?x8x?x64xf32>
  nl.update %mk keys(%k) values(%vk) lr(%eta) retention(%alpha)
      : !mk, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>
  %vv_raw = nl.read %mv(%v) at chunk_start : !mk, tensor<?x8x?x64xf32>
  %vv = nl.stop_gradient %vv_raw : tensor<?x8x?x64xf32>
  nl.update %mv keys(%k) values(%vv) lr(%eta) retention(%alpha)
      : !mk, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>
  %veta_raw = nl.read %meta(%v) at chunk_start : !mr, tensor<?x8x?x64xf32>
  %veta = nl.stop_gradient %veta_raw : tensor<?x8x?x1xf32>
  nl.update %meta keys(%k) values(%veta) lr(%eta) retention(%alpha)
      : !mr, tensor<?x8x?x64xf32>, tensor<?x8x?x1xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>
  %valpha_raw = nl.read %malpha(%v) at chunk_start : !mr, tensor<?x8x?x64xf32>
  %valpha = nl.stop_gradient %valpha_raw : tensor<?x8x?x1xf32>
  nl.update %malpha keys(%k) values(%valpha) lr(%eta) retention(%alpha)
      : !mr, tensor<?x8x?x64xf32>, tensor<?x8x?x1xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>
  %vmem_raw = nl.read %mmem(%v) at chunk_start : !mk, tensor<?x8x?x64xf32>
  %vmem = nl.stop_gradient %vmem_raw : tensor<?x8x?x64xf32>
  nl.update %mmem keys(%k) values(%vmem) lr(%eta) retention(%alpha)
      : !mk, tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>, tensor<?x8x?xf32>, tensor<?x8x?xf32>

  // Output: M_mem read at the chunk start, heads merged, projected, residual.
  %o_heads = nl.read %mmem(%q) at chunk_start : !mk, tensor<?x8x?x64xf32>
  %o_flat = nl.merge_heads %o_heads : tensor<?x8x?x64xf32>
  %o = nl.linear %o_flat, %w_o : tensor<?x?x512xf32>, tensor<512x512xf32>
  %x1 = arith.addf %x, %o : tensor<?x?x512xf32>

  // Continuum Memory System: three MLP blocks (each with its own pre-norm
  // and residual) at chunk sizes 1, 16 and 256; frozen in the forward pass.
  %y = nl.cms "cms" %x1 params(
      %cms0_norm, %cms0_in, %cms0_out, %cms1_norm, %cms1_in, %cms1_out,
      %cms2_norm, %cms2_in, %cms2_out
      : tensor<512xf32>, tensor<2048x512xf32>, tensor<512x2048xf32>,
        tensor<512xf32>, tensor<2048x512xf32>, tensor<512x2048xf32>,
        tensor<512xf32>, tensor<2048x512xf32>, tensor<512x2048xf32>) {
      chunks = array<i64: 1, 16, 256>, variant = #nl.cms_variant<sequential>,
      signal = #nl.cms_signal<none>, activation = #nl.activation<silu>}
      : tensor<?x?x512xf32>
  return %y : tensor<?x?x512xf32>
}
