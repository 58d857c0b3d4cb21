"""CMS test-time learning of the HOPE LM (`hope-models hope-lm --streaming --cms-learning=LR`),
token by token, written for clarity (docs/training.md, "CMS test-time learning"; semantics
section 3).

At every position t the model runs with the CMS parameters theta_t of that moment. The loss of
position t is the next-token cross-entropy CE(logits_t, token_{t+1}); its gradient reaches
theta_t only through position t: every state (the memories, the convolution's history, the
blocks' inputs at earlier positions) is held fixed. Here that is literal: the prefix
tokens[0..t] is recomputed with the parameters of each earlier position as constants and a
fresh leaf for position t alone, and torch.autograd.grad takes the gradient of position t's
loss with respect to that leaf. Gradient sums restart at each multiple of a block's chunk
C^(l): once the target of position t is known, if (t + 1) % C^(l) == 0,
theta^(l) <- theta^(l) - lr * sum. The last position of the sequence has no target.
Every batch sequence adds its loss: the batch shares the blocks' parameters. The sequential and
independent CMS (opts.cms_variant; the independent one's mixing weights cms_mix stay fixed)."""

from __future__ import annotations

import torch

from . import hope_block as HB
from . import hope_lm as LM
from . import nl_ops

PARTS = ("_norm", "_in", "_out")


def cms_names(weights: dict) -> list[str]:
    """Every CMS block parameter of the LM, "layer<l>.cms<k>_norm|_in|_out"."""
    return sorted(n for n in weights if ".cms" in n and n.endswith(PARTS))


def _block_per_position(x, weights, opts: HB.HopeOptions, blocks_at):
    """A HOPE block whose CMS at position s runs with blocks_at[s] = [(norm, W_in, W_out), ...]."""
    h = nl_ops.rms_norm(x, weights["titans_norm"], opts.rms_eps)
    o_heads, _ = HB.self_modifying_titans(h, weights, opts.selfmod)
    x1 = x + nl_ops.linear(nl_ops.merge_heads(o_heads), weights["w_o"])
    if opts.cms_variant == "independent":  # the mixing weights are not learnt at test time
        def cms(x_s, blocks):
            return HB.cms_independent_frozen(x_s, blocks, weights["cms_mix"], opts.cms_activation,
                                             opts.cms_eps)
    else:
        def cms(x_s, blocks):
            return HB.cms_sequential_frozen(x_s, blocks, opts.cms_activation, opts.cms_eps)
    return torch.stack([cms(x1[:, s], blocks_at[s]) for s in range(x.shape[1])], dim=1)


def _logits_last(tokens, weights, opts, thetas):
    """The logits of the last position of `tokens` [B, t+1]; thetas[s] maps every CMS name to
    the parameters of position s."""
    layers = len({n.split(".")[0] for n in weights if n.startswith("layer")})
    x = weights["embedding"][tokens]
    for layer in range(layers):
        w = LM.layer_weights(weights, layer)
        levels = sorted({int(n[len(f"layer{layer}.cms"):].split("_")[0]) for n in thetas[0]
                         if n.startswith(f"layer{layer}.cms")})
        blocks_at = [[tuple(th[f"layer{layer}.cms{k}{p}"] for p in PARTS) for k in levels] for th in thetas]
        x = _block_per_position(x, w, opts, blocks_at)
    x = nl_ops.rms_norm(x[:, -1], weights["final_norm"])
    return nl_ops.linear(x, weights["lm_head"])


def hope_lm_learning(tokens: torch.Tensor, weights: dict, opts: HB.HopeOptions, chunks: list[int],
                     lr: float):
    """(logits [B, T, V], theta after the last update, gradient sums of the unfinished chunks)."""
    names = cms_names(weights)
    chunk_of = {n: chunks[int(n.split(".cms")[1].split("_")[0])] for n in names}
    theta = {n: weights[n].clone() for n in names}
    sums = {n: torch.zeros_like(weights[n]) for n in names}
    history = []  # the parameters of every earlier position (constants)
    logits = []
    T = tokens.shape[1]
    for t in range(T):
        leaf = {n: theta[n].clone().requires_grad_(True) for n in names}
        out = _logits_last(tokens[:, : t + 1], weights, opts, history + [leaf])
        logits.append(out.detach())
        history.append({n: v.clone() for n, v in theta.items()})
        if t + 1 == T:
            break  # the target of the last position is not known
        loss = torch.nn.functional.cross_entropy(out, tokens[:, t + 1], reduction="sum")
        grads = torch.autograd.grad(loss, [leaf[n] for n in names])
        for n, g in zip(names, grads):
            sums[n] = sums[n] + g
            if (t + 1) % chunk_of[n] == 0:
                theta[n] = theta[n] - lr * sums[n]
                sums[n] = torch.zeros_like(sums[n])
    return torch.stack(logits, dim=1), theta, sums
