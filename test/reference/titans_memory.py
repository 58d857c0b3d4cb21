"""The function of models/titans_memory.mlir, token by token.

Semantics: /work/shared/docs/nested-learning.md section 2 (chunk-aggregated variant, read point
`after`) and section 9 (titans-pytorch); the model file's comment (retention = 1 - decay).
Weights are named exactly like the function arguments of @titans_memory (x excluded):

    store_norm [D], retrieve_norm [D], w_k / w_v / w_q [H*d, D], w_lr / w_momentum /
    w_retention [H, D], w_out [D, H*d], mem_w1 [H, hidden, d], mem_w2 [H, d, hidden],
    mem_norm [H, d]

The memory: a per-head residual MLP (depth = number of mem_w* weights, GELU) with a LayerNorm
on its branch whose scale is state (`norm = post`); L2 objective averaged over features;
lr = max_lr * sigmoid(W_lr s) per token; momentum beta and retention alpha per chunk from the
mean-pooled chunk; one update per chunk of C tokens, linearised over `linearize` tokens.

Optional extra weights, absent from the model file, reproduce titans-pytorch features (see
README.md, "Differences"): b_lr [H], b_momentum [H] (or [O, H]), b_retention [H] (biases of the
rate projections), w_momentum [O, H, D] (momentum of order O > 1), w_gate [H, D] (retrieval gate
y_h *= sigmoid(w_gate_h r)), q_norm / k_norm / out_norm [H, d] (per-head RMSNorm scales of
q, k and the retrieved values). Without mem_norm the memory is a plain MLP (no residual).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import memory as M
from . import nl_ops


@dataclass(frozen=True)
class TitansOptions:
    heads: int = 4
    chunk: int = 64
    #: linearisation period B (multiple of chunk) or None (= the whole sequence)
    linearize: int | None = 64
    max_lr: float = 1e-2
    activation: str = "gelu"
    #: epsilon of every RMSNorm (nl.rms_norm's default 1e-6)
    rms_eps: float = nl_ops.RMS_NORM_EPS
    ln_eps: float = 1e-5
    #: see memory.MemorySpec.ln_scale_center (0: project, 1: titans-pytorch's gamma + 1)
    ln_scale_center: float = 0.0
    #: the last partial chunk updates the state (project) or is left for the next call
    partial_chunk_update: bool = False
    newton_schulz: bool = False
    ns_eps: float = 0.0

    @classmethod
    def titans_pytorch(cls, heads: int, chunk: int, batch_size: int | None, dtype: torch.dtype, **kw):
        """The options under which this reference reproduces titans-pytorch 0.5.5's NeuralMemory
        (its nn.RMSNorm(eps=None) uses torch.finfo(dtype).eps)."""
        return cls(
            heads=heads,
            chunk=chunk,
            linearize=batch_size,
            rms_eps=torch.finfo(dtype).eps,
            ln_scale_center=1.0,
            partial_chunk_update=False,
            ns_eps=1e-7,
            **kw,
        )


def memory_spec(weights: dict, opts: TitansOptions) -> M.MemorySpec:
    depth = len([n for n in weights if n.startswith("mem_w")])
    has_norm = "mem_norm" in weights
    model = M.MLPModel(
        hidden=weights["mem_w1"].shape[-2] if depth > 1 else 0,
        depth=depth,
        activation=opts.activation,
        residual="identity" if has_norm else "none",
        norm="post" if has_norm else "none",
    )
    order = _momentum_order(weights)
    rule = M.MomentumGD(order=order, newton_schulz=opts.newton_schulz, lr="token", retention="chunk", momentum="chunk")
    return M.MemorySpec(
        model=model,
        objective=M.L2(reduction="mean"),
        rule=rule,
        chunk=opts.chunk,
        chunk_aggregated=M.ChunkAggregated(opts.linearize),
        ln_eps=opts.ln_eps,
        ln_scale_center=opts.ln_scale_center,
        ns_eps=opts.ns_eps,
        partial_chunk_update=opts.partial_chunk_update,
    )


def _momentum_order(weights: dict) -> int:
    if "w_momentum" not in weights:
        return 0
    return 1 if weights["w_momentum"].ndim == 2 else weights["w_momentum"].shape[0]


def _head_rms(x: torch.Tensor, scale: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-head RMSNorm of [B, H, T, d] with a scale [H, d]."""
    return nl_ops.rms_norm(x, scale[None, :, None, :], eps)


def _rate(kind, s, w, b, heads, scale=1.0):
    """nl.linear -> nl.split_heads into H heads of width 1 -> nl.rate; optional bias b [H]."""
    z = nl_ops.linear(s, w)
    if b is not None:
        z = z + b
    return nl_ops.rate(kind, nl_ops.split_heads(z, heads), scale)


def titans_memory(
    x: torch.Tensor,
    weights: dict,
    opts: TitansOptions = TitansOptions(),
    init_momentum=None,
    return_state: bool = False,
):
    """@titans_memory(x, **weights) -> y [B, T, D]; with return_state also the final state
    (`nl.final_state`: mem_w1.., mem_norm as [B, H, ...], then the momentum buffers)."""
    w = weights
    heads = opts.heads
    spec = memory_spec(w, opts)
    order = spec.rule.order

    # Keys, values and rates from the store-normed sequence.
    s = nl_ops.rms_norm(x, w["store_norm"], opts.rms_eps)
    k = nl_ops.split_heads(nl_ops.linear(s, w["w_k"]), heads)
    if "k_norm" in w:
        k = _head_rms(k, w["k_norm"], opts.rms_eps)
    v = nl_ops.split_heads(nl_ops.linear(s, w["w_v"]), heads)
    lr = _rate("sigmoid", s, w["w_lr"], w.get("b_lr"), heads, opts.max_lr)

    # Per-chunk momentum and retention from the mean-pooled chunk.
    pooled = nl_ops.chunk_pool(s, opts.chunk)
    betas = []
    for n in range(order):
        wm = w["w_momentum"] if order == 1 and w["w_momentum"].ndim == 2 else w["w_momentum"][n]
        bm = w.get("b_momentum")
        if bm is not None and bm.ndim == 2:
            bm = bm[n]
        betas.append(_rate("sigmoid", pooled, wm, bm, heads))
    alpha = _rate("sigmoid", pooled, w["w_retention"], w.get("b_retention"), heads)

    depth = spec.model.depth
    init = [w[f"mem_w{l}"] for l in range(1, depth + 1)]
    if "mem_norm" in w:
        init.append(w["mem_norm"])
    run = M.run_memory(spec, init, k, v, lr, alpha, betas, init_momentum=init_momentum)

    # Retrieval with queries from the retrieve-normed sequence, read point `after`.
    r = nl_ops.rms_norm(x, w["retrieve_norm"], opts.rms_eps)
    q = nl_ops.split_heads(nl_ops.linear(r, w["w_q"]), heads)
    if "q_norm" in w:
        q = _head_rms(q, w["q_norm"], opts.rms_eps)
    y_heads = run.read(q, "after")
    if "out_norm" in w:
        y_heads = _head_rms(y_heads, w["out_norm"], opts.rms_eps)
    if "w_gate" in w:
        gate = torch.sigmoid(nl_ops.split_heads(nl_ops.linear(r, w["w_gate"]), heads))
        y_heads = y_heads * gate
    y = nl_ops.linear(nl_ops.merge_heads(y_heads), w["w_out"])
    if return_state:
        return y, run.final_state()
    return y
