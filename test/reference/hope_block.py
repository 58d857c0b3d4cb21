"""The function of models/hope_block.mlir, token by token: self-modifying Titans, then a frozen CMS.

Semantics: /work/shared/docs/nested-learning.md section 4 (self-modifying Titans, HOPE block),
section 2 (DGD, read points) and section 3 (CMS, sequential, no learning signal);
docs/design.md ("HOPE block"). Weights are named like the arguments of @hope_block (x excluded):

    titans_norm [D], conv [D, W], w_q [D, D], w_o [D, D],
    mk_w1 / mv_w1 / mmem_w1 [H, hidden, d], mk_w2 / mv_w2 / mmem_w2 [H, d, hidden],
    meta_w1 / malpha_w1 [H, hidden, d], meta_w2 / malpha_w2 [H, 1, hidden],
    meta_skip / malpha_skip [H, 1, d],
    cms{l}_norm [D], cms{l}_in [hidden_l, D], cms{l}_out [D, hidden_l]

Per token t (1-based) and head, with r(t) the memory's own chunk start (C_other for M_k, M_v,
M_eta, M_alpha; C_mem for M_mem):
    k_t = l2n(M_k(x_t)), v_t = M_v(x_t), eta_t = eta_scale softplus(M_eta(x_t)),
    alpha_t = sigmoid(M_alpha(x_t))           -- all at the chunk-start states
    q_t = l2n(W_q c_t) (static)                -- or l2n(M_q(x_t)) with adaptive_q
    every memory r: vhat = stopgrad(M_r(v_t)) at its chunk start; DGD on ||M_r(k_t) - vhat||^2
    o_t = M_mem(q_t) at the read point (chunk_start by default)
then o = W_o merge_heads(o), x1 = x + o, y = CMS(x1).

Options (SelfModOptions) reproduce nested-learning 0.2.0's SelfModifyingTitans (README.md).
Optional weights: mq_w1 / mq_w2 (adaptive_q); without `conv` no convolution is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from . import memory as M
from . import nl_ops

#: memory name -> weight prefix in the model file
MEMORIES = {"M_k": "mk", "M_v": "mv", "M_eta": "meta", "M_alpha": "malpha", "M_mem": "mmem", "M_q": "mq"}


@dataclass(frozen=True)
class SelfModOptions:
    heads: int = 8
    chunk_other: int = 8
    chunk_mem: int = 64
    activation: str = "silu"
    eta_scale: float = 1e-3
    objective: M.L2 | M.Dot = field(default_factory=M.L2)
    #: vhat_r = stop_gradient(M_r(v)) (default) or differentiated inside the inner gradient
    stopgrad_vhat: bool = True
    #: with stopgrad_vhat, the stop-gradient cuts the inner gradient only: the outer gradient
    #: flows through vhat into v and M_r (hope-models --target-outer-gradient)
    vhat_outer_gradient: bool = False
    #: read point of the output read o_t = M_mem(q_t)
    read_point: str = "chunk_start"
    step_size: str = "plain"
    #: DGD rank-1 term (nested-learning: use_rank1_precond)
    rank1: bool = True
    #: M_alpha and alpha_t; False: alpha_t = 1 and no M_alpha (nested-learning: use_alpha)
    use_alpha: bool = True
    #: DGD momentum with a constant beta (nested-learning: momentum > 0); None: no momentum
    momentum: float | None = None
    #: sixth memory M_q for the queries (needs mq_w1, mq_w2)
    adaptive_q: bool = False
    #: L2-normalise q and k (nested-learning: qk_l2_norm)
    qk_l2_norm: bool = True
    l2_eps: float = nl_ops.L2_NORMALIZE_EPS
    ln_eps: float = 1e-5
    #: alpha_t = sigmoid(M_alpha(x_t) + retention_bias) (hope-models --retention-bias)
    retention_bias: float = 0.0
    #: v_t = l2n(M_v(x_t)) (hope-models --normalize-values)
    normalize_values: bool = False
    #: eta_t = eta_scale * sigmoid(M_eta(x_t)), bounded, instead of softplus (hope-models --bounded-eta)
    bounded_eta: bool = False
    #: M_mem's own eta scale (hope-models --memory-eta-scale); None: eta_scale
    memory_eta_scale: float | None = None
    #: M_mem's model: "mlp" (the paper's 2-layer MLP) or "linear", M_mem(x) = x + W x with the one
    #: weight mmem_w1 [H, d, d] (DGD on it is a gated delta rule; hope-models --memory-model)
    memory_model: str = "mlp"

    @classmethod
    def nested_learning(cls, chunk_other: int, chunk_mem: int | None = None, **kw):
        """The options under which self_modifying_titans reproduces nested-learning 0.2.0's
        SelfModifyingTitans.forward_with_updates (one head, GELU, F.normalize eps 1e-6)."""
        base = dict(
            heads=1,
            chunk_other=chunk_other,
            chunk_mem=chunk_other if chunk_mem is None else chunk_mem,
            activation="gelu",
            l2_eps=1e-6,
        )
        base.update(kw)
        return cls(**base)


@dataclass(frozen=True)
class HopeOptions:
    selfmod: SelfModOptions = field(default_factory=SelfModOptions)
    rms_eps: float = nl_ops.RMS_NORM_EPS
    cms_activation: str = "silu"
    cms_eps: float = nl_ops.RMS_NORM_EPS
    #: sequential, independent (y = sum_l w_l block_l(x), w = the weight cms_mix [K]) or nested
    #: (frozen: the same function as sequential; semantics section 3)
    cms_variant: str = "sequential"
    #: "titans" (self-modifying Titans) or "attention" (HOPE-Attention: causal softmax attention
    #: with weights attn_norm, w_q, w_k, w_v, w_o over selfmod.heads heads)
    mixer: str = "titans"


def memory_spec(prefix: str, weights: dict, opts: SelfModOptions) -> M.MemorySpec:
    """#nl.mlp<hidden, silu, residual = identity | learned> with #nl.l2<> and #nl.dgd<>; a linear
    M_mem is #nl.mlp<depth = 1, residual = identity>."""
    w1 = weights[f"{prefix}_w1"]
    depth = 2
    if f"{prefix}_skip" in weights:
        residual = "learned"
    elif prefix == "mmem" and opts.memory_model == "linear":
        depth, residual = 1, "identity"
    elif w1.shape[-1] == weights[f"{prefix}_w2"].shape[-2]:
        residual = "identity"
    else:
        residual = "none"
    chunk = opts.chunk_mem if prefix == "mmem" else opts.chunk_other
    return M.MemorySpec(
        model=M.MLPModel(hidden=w1.shape[-2], depth=depth, activation=opts.activation, residual=residual),
        objective=opts.objective,
        rule=M.DGD(momentum=opts.momentum is not None, step_size=opts.step_size, rank1=opts.rank1),
        chunk=chunk,
        ln_eps=opts.ln_eps,
    )


def _init(prefix: str, weights: dict) -> list[torch.Tensor]:
    names = [f"{prefix}_w1", f"{prefix}_w2", f"{prefix}_skip"]
    return [weights[n] for n in names if n in weights]


def _pick(t: torch.Tensor, b: int, h: int, per_head_ndim: int) -> torch.Tensor:
    return t[h] if t.ndim == per_head_ndim + 1 else t[b, h]


def self_modifying_titans(h: torch.Tensor, weights: dict, opts: SelfModOptions = SelfModOptions()):
    """Self-modifying Titans on the normed input h [B, T, D]: causal conv, memories, output read.

    Returns (o_heads [B, H, T, d], final) where final maps a memory name ("M_k", ...) to its
    `nl.final_state` list ([B, H, ...] parameters, then DGD momentum buffers when present).
    """
    heads = opts.heads
    c = nl_ops.causal_conv(h, weights["conv"]) if "conv" in weights else h
    xh = nl_ops.split_heads(c, heads)
    bsz, _, tokens, _ = xh.shape

    def l2n(z):
        return nl_ops.l2_normalize(z, opts.l2_eps) if opts.qk_l2_norm else z

    q_static = None
    if not opts.adaptive_q:
        q_static = l2n(nl_ops.split_heads(nl_ops.linear(c, weights["w_q"]), heads))

    names = ["M_k", "M_v", "M_eta"] + (["M_alpha"] if opts.use_alpha else []) + ["M_mem"]
    if opts.adaptive_q:
        names.append("M_q")
    specs = {n: memory_spec(MEMORIES[n], weights, opts) for n in names}
    inits = {n: _init(MEMORIES[n], weights) for n in names}

    out_rows = []
    finals_bh = {n: [] for n in names}
    for b in range(bsz):
        row = []
        finals_b = {n: [] for n in names}
        for hd in range(heads):
            theta, mom, layout, ref = {}, {}, {}, {}
            for n in names:
                spec = specs[n]
                theta[n] = [_pick(w, b, hd, 2) for w in inits[n]]
                d_in, d_out = M.widths(spec, theta[n])
                layout[n] = M.state_layout(spec.model, d_in, d_out)
                mom[n] = [[torch.zeros_like(w) for w in theta[n]]] if opts.momentum is not None else []
            o_list = []
            for t in range(1, tokens + 1):
                t0 = t - 1
                for n in names:
                    if t0 % specs[n].chunk == 0:  # token t opens a chunk of memory n
                        ref[n] = theta[n]
                x_t = xh[b, hd, t0]
                # Inputs of every update, at the chunk-start states.
                k = l2n(M.apply(specs["M_k"], ref["M_k"], x_t))
                v = M.apply(specs["M_v"], ref["M_v"], x_t)
                if opts.normalize_values:
                    v = nl_ops.l2_normalize(v, opts.l2_eps)
                eta_raw = nl_ops.activation("sigmoid" if opts.bounded_eta else "softplus",
                                            M.apply(specs["M_eta"], ref["M_eta"], x_t)[0])
                eta = opts.eta_scale * eta_raw
                etas = {n: eta for n in names}
                if opts.memory_eta_scale is not None:
                    etas["M_mem"] = opts.memory_eta_scale * eta_raw
                if opts.use_alpha:
                    alpha = torch.sigmoid(M.apply(specs["M_alpha"], ref["M_alpha"], x_t)[0] + opts.retention_bias)
                else:
                    alpha = 1.0
                if opts.adaptive_q:
                    q = l2n(M.apply(specs["M_q"], ref["M_q"], x_t))
                else:
                    q = q_static[b, hd, t0]
                if opts.read_point == "chunk_start":
                    o_list.append(M.apply(specs["M_mem"], ref["M_mem"], q))
                # DGD on ||M_r(k_t) - vhat_{r,t}||^2 for every memory r.
                beta = None if opts.momentum is None else torch.tensor(opts.momentum, dtype=h.dtype)
                for n in names:
                    spec = specs[n]
                    if opts.stopgrad_vhat:
                        # token_grad takes a tensor target as a constant of the inner gradient;
                        # .detach() also cuts the outer one
                        target = M.apply(spec, ref[n], v)
                        if not opts.vhat_outer_gradient:
                            target = target.detach()
                    else:
                        target = (lambda th, spec=spec, v=v: M.apply(spec, th, v))
                    g = M.token_grad(spec, ref[n], k, target)
                    theta[n], new_mom = M.dgd_step(spec, layout[n], theta[n], mom[n], g, k, etas[n], alpha, beta)
                    if opts.momentum is not None:
                        mom[n] = new_mom
                if opts.read_point == "after":
                    # theta_{C floor(t/C)}: the state after this token's update at a chunk end.
                    state = theta["M_mem"] if t % specs["M_mem"].chunk == 0 else ref["M_mem"]
                    o_list.append(M.apply(specs["M_mem"], state, q))
                elif opts.read_point != "chunk_start":
                    raise ValueError(f"unknown read point {opts.read_point!r}")
            row.append(torch.stack(o_list))
            for n in names:
                finals_b[n].append(theta[n] + (mom[n][0] if mom[n] else []))
        out_rows.append(torch.stack(row))
        for n in names:
            finals_bh[n].append(finals_b[n])
    final = {}
    for n in names:
        count = len(finals_bh[n][0][0])
        final[n] = [
            torch.stack([torch.stack([finals_bh[n][b][hd][i] for hd in range(heads)]) for b in range(bsz)])
            for i in range(count)
        ]
    return torch.stack(out_rows), final


def cms_sequential_frozen(x: torch.Tensor, blocks, activation: str = "silu", eps: float = nl_ops.RMS_NORM_EPS):
    """`nl.cms` with variant sequential and signal none: block_l(x) = x + W_out s(W_in RMSNorm(x))
    (semantics §3), applied in order; blocks = [(norm, W_in, W_out), ...]."""
    for norm, w_in, w_out in blocks:
        x = x + nl_ops.linear(nl_ops.activation(activation, nl_ops.linear(nl_ops.rms_norm(x, norm, eps), w_in)), w_out)
    return x


def cms_independent_frozen(x: torch.Tensor, blocks, mix: torch.Tensor, activation: str = "silu",
                           eps: float = nl_ops.RMS_NORM_EPS):
    """`nl.cms` with variant independent and signal none: y = sum_l w_l block_l(x), every block
    on the same input x (semantics §3)."""
    return sum(mix[l] * cms_sequential_frozen(x, [block], activation, eps) for l, block in enumerate(blocks))


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float | None = None):
    """`nl.causal_attention`, token by token: [B, H, T, d] each; query t attends to keys s <= t
    with softmax(scale q_t . k_s), scale = 1/sqrt(d) by default."""
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    out = torch.empty_like(q)
    for t in range(q.shape[2]):
        scores = scale * torch.einsum("bhd,bhsd->bhs", q[:, :, t], k[:, :, : t + 1])
        out[:, :, t] = torch.einsum("bhs,bhsd->bhd", torch.softmax(scores, dim=-1), v[:, :, : t + 1])
    return out


def hope_block(x: torch.Tensor, weights: dict, opts: HopeOptions = HopeOptions(), return_state: bool = False):
    """@hope_block(x, **weights) -> y [B, T, D] (models/hope_block.mlir)."""
    if opts.mixer == "attention":
        h = nl_ops.rms_norm(x, weights["attn_norm"], opts.rms_eps)
        q, k, v = (nl_ops.split_heads(nl_ops.linear(h, weights[w]), opts.selfmod.heads)
                   for w in ("w_q", "w_k", "w_v"))
        o_heads, final = causal_attention(q, k, v), {}
    elif opts.mixer == "titans":
        h = nl_ops.rms_norm(x, weights["titans_norm"], opts.rms_eps)
        o_heads, final = self_modifying_titans(h, weights, opts.selfmod)
    else:
        raise ValueError(f"unknown mixer {opts.mixer!r}")
    o = nl_ops.linear(nl_ops.merge_heads(o_heads), weights["w_o"])
    x1 = x + o
    levels = sorted(int(n[3:-5]) for n in weights if n.startswith("cms") and n.endswith("_norm"))
    blocks = [(weights[f"cms{l}_norm"], weights[f"cms{l}_in"], weights[f"cms{l}_out"]) for l in levels]
    if opts.cms_variant == "independent":
        y = cms_independent_frozen(x1, blocks, weights["cms_mix"], opts.cms_activation, opts.cms_eps)
    elif opts.cms_variant in ("sequential", "nested"):
        y = cms_sequential_frozen(x1, blocks, opts.cms_activation, opts.cms_eps)
    else:
        raise ValueError(f"unknown CMS variant {opts.cms_variant!r}")
    if return_state:
        return y, final
    return y
