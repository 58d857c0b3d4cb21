"""CMS test-time learning of the HOPE LM (`hope-models hope-lm --streaming --cms-learning=LR
[--cms-signal=local]`), token by token, written for clarity (docs/training.md, "CMS test-time
learning"; semantics section 3).

At every position t the model runs with the CMS parameters theta_t of that moment. The loss of
position t is, with signal "task", the next-token cross-entropy CE(logits_t, token_{t+1}); with
signal "local", the sum over the blocks of ||branch_l(x_l) - x_l||^2 (#nl.l2<>), x_l block l's
input at t and branch_l(x) = W_out s(W_in RMSNorm(x)) its MLP branch, x_l held fixed (key and
target are data). Its gradient reaches theta_t only through position t: every state (the
memories, the convolution's history, the blocks' inputs at earlier positions) is held fixed.
Here that is literal: the prefix tokens[0..t] is recomputed with the parameters of each earlier
position as constants and a fresh leaf for position t alone, and torch.autograd.grad takes the
gradient of position t's loss with respect to that leaf. Gradient sums restart at each multiple
of a block's chunk C^(l): once the loss of position t is known, if (t + 1) % C^(l) == 0,
theta^(l) <- theta^(l) - lr^(l) * sum (lr^(l): block l's rate). With signal "task" the last
position of the sequence has no target; a local loss is known at once.

The nested CMS: block l < K - 1 also keeps its meta-learnt initial state phi^(l) (at first its
frozen weights) and the sum of its gradients since block l + 1's last boundary; at each boundary
of block l + 1, phi^(l) <- phi^(l) - lr^(l+1) * that sum (the slower level's rate), theta^(l) <-
phi^(l), both sums zero.

Every batch sequence adds its loss: the batch shares the blocks' parameters. The sequential,
independent (the mixing weights cms_mix stay fixed) and nested CMS (opts.cms_variant)."""

from __future__ import annotations

import torch

from . import hope_block as HB
from . import hope_lm as LM
from . import nl_ops

PARTS = ("_norm", "_in", "_out")


def cms_names(weights: dict) -> list[str]:
    """Every CMS block parameter of the LM, "layer<l>.cms<k>_norm|_in|_out"."""
    return sorted(n for n in weights if ".cms" in n and n.endswith(PARTS))


def block_index(name: str) -> int:
    """k of "layer<l>.cms<k>_<part>"."""
    return int(name.split(".cms")[1].split("_")[0])


def _cms(x_s, blocks, weights, opts: HB.HopeOptions):
    if opts.cms_variant == "independent":  # the mixing weights are not learnt at test time
        return HB.cms_independent_frozen(x_s, blocks, weights["cms_mix"], opts.cms_activation,
                                         opts.cms_eps)
    return HB.cms_sequential_frozen(x_s, blocks, opts.cms_activation, opts.cms_eps)


def local_loss(x_s, blocks, opts: HB.HopeOptions):
    """sum over the blocks of ||branch_l(x_l) - x_l||^2, x_l (the block's input: the CMS input, or
    the previous block's output in a chain) detached."""
    loss, x = 0.0, x_s
    for norm, w_in, w_out in blocks:
        key = x.detach()
        hidden = nl_ops.activation(opts.cms_activation,
                                   nl_ops.linear(nl_ops.rms_norm(key, norm, opts.cms_eps), w_in))
        branch = nl_ops.linear(hidden, w_out)
        loss = loss + ((branch - key) ** 2).sum()
        x = key + branch if opts.cms_variant != "independent" else x_s
    return loss


def _last_position(tokens, weights, opts, thetas):
    """The logits of the last position of `tokens` [B, t+1] and the sum of the blocks' local
    losses there; thetas[s] maps every CMS name to the parameters of position s."""
    layers = len({n.split(".")[0] for n in weights if n.startswith("layer")})
    x = weights["embedding"][tokens]
    local = 0.0
    for layer in range(layers):
        w = LM.layer_weights(weights, layer)
        levels = sorted({block_index(n) for n in thetas[0] if n.startswith(f"layer{layer}.cms")})
        blocks_at = [[tuple(th[f"layer{layer}.cms{k}{p}"] for p in PARTS) for k in levels]
                     for th in thetas]
        h = nl_ops.rms_norm(x, w["titans_norm"], opts.rms_eps)
        o_heads, _ = HB.self_modifying_titans(h, w, opts.selfmod)
        x1 = x + nl_ops.linear(nl_ops.merge_heads(o_heads), w["w_o"])
        local = local + local_loss(x1[:, -1], blocks_at[-1], opts)
        x = torch.stack([_cms(x1[:, s], blocks_at[s], w, opts) for s in range(x.shape[1])], dim=1)
    x = nl_ops.rms_norm(x[:, -1], weights["final_norm"])
    return nl_ops.linear(x, weights["lm_head"]), local


def hope_lm_learning(tokens: torch.Tensor, weights: dict, opts: HB.HopeOptions, chunks: list[int],
                     lr: float | list[float], signal: str = "task"):
    """(logits [B, T, V], theta after the last update, gradient sums of the unfinished chunks,
    the nested CMS's "<name>.initial" and "<name>.initial_grad_sum" (else empty)); lr: one rate
    for every block, or one per block (the fastest first)."""
    rates = list(lr) if isinstance(lr, (list, tuple)) else [lr] * len(chunks)
    names = cms_names(weights)
    chunk_of = {n: chunks[block_index(n)] for n in names}
    theta = {n: weights[n].clone() for n in names}
    sums = {n: torch.zeros_like(weights[n]) for n in names}
    # Nested: the faster blocks' meta-learnt initial states, reset at the next block's boundaries.
    faster = [n for n in names if block_index(n) + 1 < len(chunks)] \
        if opts.cms_variant == "nested" else []
    initial = {n: weights[n].clone() for n in faster}
    initial_sums = {n: torch.zeros_like(weights[n]) for n in faster}
    history = []  # the parameters of every earlier position (constants)
    logits = []
    T = tokens.shape[1]
    for t in range(T):
        leaf = {n: theta[n].clone().requires_grad_(True) for n in names}
        out, local = _last_position(tokens[:, : t + 1], weights, opts, history + [leaf])
        logits.append(out.detach())
        history.append({n: v.clone() for n, v in theta.items()})
        if signal == "task":
            if t + 1 == T:
                break  # the target of the last position is not known
            loss = torch.nn.functional.cross_entropy(out, tokens[:, t + 1], reduction="sum")
        else:
            loss = local
        grads = torch.autograd.grad(loss, [leaf[n] for n in names])
        for n, g in zip(names, grads):
            sums[n] = sums[n] + g
            if (t + 1) % chunk_of[n] == 0:
                theta[n] = theta[n] - rates[block_index(n)] * sums[n]
                sums[n] = torch.zeros_like(sums[n])
            if n in initial:
                initial_sums[n] = initial_sums[n] + g
                if (t + 1) % chunks[block_index(n) + 1] == 0:
                    initial[n] = initial[n] - rates[block_index(n) + 1] * initial_sums[n]
                    theta[n] = initial[n].clone()
                    sums[n] = torch.zeros_like(sums[n])
                    initial_sums[n] = torch.zeros_like(sums[n])
    meta = {f"{n}.initial": v for n, v in initial.items()}
    meta.update({f"{n}.initial_grad_sum": v for n, v in initial_sums.items()})
    return torch.stack(logits, dim=1), theta, sums, meta
