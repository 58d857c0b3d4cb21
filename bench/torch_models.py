"""Chunk-parallel PyTorch baselines of the HOPE block and the Titans neural memory.

The semantics are fixed by the token-by-token references in test/reference/ (hope_block.py,
titans_memory.py, memory.py, nl_ops.py); these functions compute the SAME function (up to
floating-point rounding: no approximation anywhere) the way a performance-minded PyTorch user
would write it: every (batch, head) pair and, for HOPE, every memory of a shape class is one
batch entry of a batched matmul, everything that depends only on a chunk-start state is
computed for all tokens of the chunk at once, and the sequential parts are exact closed forms.
Weights are the references' dicts (the names of the model files / safetensors files); options
are the references' dataclasses (HopeOptions / SelfModOptions, TitansOptions).

Each model is a driver over chunks around one per-chunk step

    step(state, chunk_inputs) -> (state, chunk_outputs)

which is what `torch.compile(step, dynamic=False, fullgraph=True)` compiles (make_hope_block /
make_titans_memory with compile=True). State-independent work (norms, projections, the causal
convolution, rates, the CMS chain, the output projection) runs once over the whole sequence
outside the step. A last partial chunk (T not a multiple of the chunk) runs through the same
step function eagerly (not compiled), so its semantics are those of the full chunks. Call
under torch.no_grad() / torch.inference_mode() for speed. The inner gradients are written out
by hand, not taken with autograd, but every op is differentiable: autograd of an outer loss
through the HOPE block gives its training gradients, second-order terms included
(test/reference/test_chunk_parallel.py checks them against the reference's; hope-bench's
training rows use them).

HOPE block (self-modifying Titans + frozen CMS), per step of C = gcd(C_other, C_mem) tokens
--------------------------------------------------------------------------------------------
Every memory r (M_k, M_v, M_eta, M_alpha, M_mem, optionally M_q) is a 2-layer MLP
M(x) = skip(x) + W_2 s(W_1 x); its chunk-start ("reference") state ref_r is the state at the
last multiple of its chunk size C_r, which for C = gcd(C_other, C_mem) is constant inside a step.
The memories are stacked: W_1 of all memories as [M, B*H, hidden, d], W_2 of the width-d
memories (M_mem, M_k, M_v, M_q; identity residual) as [Mv, B*H, d, hidden], W_2 and W_skip of
the width-1 memories (M_eta, M_alpha) as [Ms, B*H, 1, ...].
  1. k, v, eta, alpha (and q with adaptive_q) of the C tokens: the x-reads of M_k, M_v, M_eta,
     M_alpha (M_q) at their reference states, batched over [memory, B*H, C].
  2. targets vhat_r = M_r(v_t) and predictions M_r(k_t) at ref_r for all r, and the per-token
     gradients written as outer products ("atoms"): g_t(W_1) = d1_t k_t^T,
     g_t(W_2) = d2_t a_t^T, g_t(W_skip) = d2_t k_t^T (stopgrad_vhat = False adds the atoms of
     the target's path, with v_t instead of k_t).
  3. DGD over the C tokens in closed form. With gamma_t = alpha_1 ... alpha_t,
     W_t = alpha_t W_{t-1} - eta_t (W_{t-1} k_t) k_t^T - eta_t D_t   (input side W_1, W_skip)
     (D_t = g_t, or the momentum direction beta D_{t-1} + g_t) gives
        W_C = gamma_C W_0 + sum_s (gamma_C / gamma_s) (u_s k_s^T - eta_s D_s)
     where u_t = -eta_t W_{t-1} k_t solves ONE unit lower-triangular system per (b, h),
        (I + L) U = -eta * Y,   L[t,s] = eta_t (gamma_{t-1}/gamma_s) (k_t . k_s)  (s < t),
     Y_t = the part of W_{t-1} k_t that does not depend on U (W_0 k_t, the atoms' k-products,
     the momentum buffer), shared by all memories (eta, alpha, k are common to all of them).
     The output-side W_2 has no rank-1 term: W_C = gamma_C W_0 - sum_s (gamma_C/gamma_s) eta_s D_s.
     Only products and ratios of the alphas are needed (exp of cumulative log-sigmoids).
  4. the output read o_t = M_mem(q_t) at ref_mem (`chunk_start`), or for `after` the state
     after the step for a token that closes an M_mem chunk.

Titans memory (chunk-aggregated momentum GD, titans-pytorch form), per block of K chunks
--------------------------------------------------------------------------------------------
The per-token gradients at the linearisation state are independent of the updates inside a
linearisation block (B = `linearize` tokens, K = B / C chunks; `linearize = None`: the whole
sequence, blocks of `block_chunks` chunks), so one step computes the gradients of all K*C
tokens with batched matmuls (a hand-written backward pass through the MLP and its LayerNorm),
sums them per chunk (G_i = sum_t lr_t g_t), runs the K-step momentum / retention recurrence on
the state (elementwise, exact), and reads all K chunks at once: the first C-1 tokens of chunk i
read theta_{i-1}, the last one theta_i (`after` at chunk granularity).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO / "test") not in sys.path:
    sys.path.insert(0, str(_REPO / "test"))

from reference import memory as M  # noqa: E402
from reference.hope_block import HopeOptions  # noqa: E402  (the references' option classes)
from reference.titans_memory import TitansOptions  # noqa: E402

__all__ = [
    "hope_block_chunked",
    "titans_memory_chunked",
    "make_hope_block",
    "make_titans_memory",
    "flops_hope_block",
    "flops_titans_memory",
    "HopeOptions",
    "TitansOptions",
]

# ======================================================================================
# Stateless pieces (the nl ops, batched)
# ======================================================================================


def _rms_norm(x, scale, eps):
    return scale * x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps)


def _l2_normalize(x, eps):
    return x / torch.clamp(torch.sqrt((x * x).sum(dim=-1, keepdim=True)), min=eps)


def _split_heads(x, heads):
    """[B, T, H*d] -> [B*H, T, d]."""
    b, t, hd = x.shape
    return x.reshape(b, t, heads, hd // heads).transpose(1, 2).reshape(b * heads, t, hd // heads)


def _merge_heads(x, batch):
    """[B*H, T, d] -> [B, T, H*d]."""
    bh, t, d = x.shape
    return x.reshape(batch, bh // batch, t, d).transpose(1, 2).reshape(batch, t, -1)


def _act(kind, z):
    if kind == "silu":
        return F.silu(z)
    if kind == "gelu":
        return F.gelu(z)  # the exact erf form, like nl_ops.activation
    raise ValueError(f"unknown activation {kind!r}")


def _act_and_slope(kind, z):
    """(s(z), s'(z))."""
    if kind == "silu":
        sg = torch.sigmoid(z)
        return z * sg, sg * (1.0 + z * (1.0 - sg))
    if kind == "gelu":
        cdf = 0.5 * (1.0 + torch.erf(z * (1.0 / math.sqrt(2.0))))
        pdf = torch.exp(-0.5 * z * z) * (1.0 / math.sqrt(2.0 * math.pi))
        return z * cdf, cdf + z * pdf
    raise ValueError(f"unknown activation {kind!r}")


def _causal_conv(x, weight):
    """nl.causal_conv: y[b,t,c] = sum_j weight[c,j] x[b, t-(W-1)+j, c] (depthwise conv1d)."""
    width = weight.shape[1]
    y = F.conv1d(x.transpose(1, 2), weight[:, None, :], padding=width - 1, groups=x.shape[-1])
    return y[..., : x.shape[1]].transpose(1, 2)


def _mT(w):
    return w.transpose(-1, -2)


# ======================================================================================
# HOPE block
# ======================================================================================

_PREFIX = {"M_k": "mk", "M_v": "mv", "M_eta": "meta", "M_alpha": "malpha", "M_mem": "mmem", "M_q": "mq"}


@dataclass(frozen=True)
class _HopeCfg:
    """Everything static about one self-modifying Titans configuration (hashable)."""

    vec: tuple  # width-d memories, identity residual; vec[0] = "M_mem" unless linear_mem
    sca: tuple  # width-1 memories (M_eta, M_alpha)
    skip: bool  # the width-1 memories have W_skip (else no residual)
    chunks: tuple  # chunk size of every memory, in vec + sca (+ M_mem when linear_mem) order
    activation: str
    eta_scale: float
    objective: str  # "l2" | "dot"
    l2_coef_vec: float  # dL/dpred = coef * (pred - target), width-d / width-1 memories
    l2_coef_sca: float
    stopgrad: bool
    vhat_outer_gradient: bool  # stopgrad on the inner objective only: the outer gradient flows
    read_after: bool
    normalized: bool
    rank1: bool
    use_alpha: bool
    momentum: Optional[float]
    adaptive_q: bool
    qk_norm: bool
    l2_eps: float
    retention_bias: float
    normalize_values: bool
    eta_sigmoid: bool  # eta = eta_scale * sigmoid(M_eta(x)) (bounded) instead of softplus
    memory_eta_scale: Optional[float]  # M_mem's own eta scale (None: eta_scale)
    linear_mem: bool  # M_mem(x) = x + W x (depth 1), outside the stacks (_linear_mem_step)

    @property
    def names(self):
        """The stacked memories."""
        return self.vec + self.sca


def _hope_cfg(weights, o) -> _HopeCfg:
    linear_mem = o.memory_model == "linear"
    vec = (() if linear_mem else ("M_mem",)) + ("M_k", "M_v") + (("M_q",) if o.adaptive_q else ())
    sca = ("M_eta",) + (("M_alpha",) if o.use_alpha else ())
    skips = {f"{_PREFIX[n]}_skip" in weights for n in sca}
    if len(skips) != 1:
        raise NotImplementedError("M_eta and M_alpha must both have W_skip or both not")
    for n in vec:
        if f"{_PREFIX[n]}_skip" in weights:
            raise NotImplementedError(f"{n} with a learned skip")
    hidden = {weights[f"{_PREFIX[n]}_w1"].shape[-2] for n in vec + sca}
    if len(hidden) != 1:
        raise NotImplementedError("memories of different hidden widths")
    obj = o.objective
    if type(obj).__name__ == "Dot":
        kind, cv, cs = "dot", 0.0, 0.0
    else:
        d = weights["mk_w2"].shape[-2]
        cv = cs = 1.0 if obj.half else 2.0
        if obj.reduction == "mean":
            cv, cs = cv / d, cs / 1.0
        kind = "l2"
    if o.read_point not in ("chunk_start", "after"):
        raise ValueError(f"unknown read point {o.read_point!r}")
    if linear_mem and (o.momentum is not None or not o.stopgrad_vhat or o.objective != M.L2()):
        raise NotImplementedError("a linear M_mem with DGD momentum, without the stop-gradient or "
                                  "with another objective than the summed L2")
    names = vec + sca + (("M_mem",) if linear_mem else ())
    return _HopeCfg(
        vec=vec, sca=sca, skip=skips.pop(),
        chunks=tuple(o.chunk_mem if n == "M_mem" else o.chunk_other for n in names),
        activation=o.activation, eta_scale=float(o.eta_scale), objective=kind,
        l2_coef_vec=cv, l2_coef_sca=cs, stopgrad=o.stopgrad_vhat,
        vhat_outer_gradient=o.vhat_outer_gradient, read_after=o.read_point == "after",
        normalized=o.step_size == "normalized", rank1=o.rank1, use_alpha=o.use_alpha,
        momentum=None if o.momentum is None else float(o.momentum), adaptive_q=o.adaptive_q,
        qk_norm=o.qk_l2_norm, l2_eps=o.l2_eps, retention_bias=float(o.retention_bias),
        normalize_values=o.normalize_values,
        eta_sigmoid=o.bounded_eta,
        memory_eta_scale=None if o.memory_eta_scale is None else float(o.memory_eta_scale),
        linear_mem=linear_mem,
    )


def _hope_step_rates(cfg: _HopeCfg, st: dict, x, q_static, start, at_mem_end):
    """_hope_step, with M_mem's own eta scale when it has one: the memories
    interact inside a step only through k, v, eta and alpha, all read at the step's reference
    states, so M_mem's new state (and the output read) from a step with M_mem's rate and the
    other memories' from a step with eta are exactly those of one step with per-memory rates
    (at twice the cost)."""
    if cfg.memory_eta_scale is None or cfg.linear_mem:
        return _hope_step(cfg, st, x, q_static, start, at_mem_end)
    other, _ = _hope_step(cfg, st, x, q_static, start, at_mem_end)
    mem_cfg = dataclasses.replace(cfg, eta_scale=cfg.memory_eta_scale, memory_eta_scale=None)
    mem, o = _hope_step(mem_cfg, st, x, q_static, start, at_mem_end)
    for name in ("w1", "w2v", "m1", "m2v"):  # index 0: M_mem (cfg.vec[0])
        if name in other:
            other[name] = torch.cat([mem[name][:1], other[name][1:]])
    return other, o


def _mlp_stack(cfg, w1, w2v, w2s, sk, x, nv):
    """Apply stacked memories to x [BH, C, d]: w1 [G, BH, hid, d], the first nv of them
    width-d (w2v [nv, BH, d, hid], identity residual), the rest width-1 (w2s, sk).
    Returns (z [G,BH,C,hid], s(z), out_vec [nv,BH,C,d], out_sca [G-nv,BH,C,1])."""
    z = torch.matmul(x, _mT(w1))
    a = _act(cfg.activation, z)
    out_v = x + torch.matmul(a[:nv], _mT(w2v))
    out_s = torch.matmul(a[nv:], _mT(w2s))
    if sk is not None:
        out_s = out_s + torch.matmul(x, _mT(sk))
    return z, a, out_v, out_s


def _hope_step(cfg: _HopeCfg, st: dict, x, q_static, start, at_mem_end):
    """One step of C tokens of self-modifying Titans, all (batch, head) pairs and memories at once.

    st: w1 [M,BH,hid,d], w2v [Mv,BH,d,hid], w2s [Ms,BH,1,hid], (sk [Ms,BH,1,d]) -- the current
    states --, r1 / r2v / r2s / (rsk) -- the reference (chunk-start) states --, (m1, m2v, m2s,
    msk -- DGD momentum). x [BH, C, d] the convolved input of the C tokens, q_static [BH, C, d]
    (None with adaptive_q), start [M] bool: the step opens a chunk of memory r, at_mem_end:
    bool tensor, the step closes an M_mem chunk (used by read_point `after`).
    Returns (new st, o [BH, C, d])."""
    mv = len(cfg.vec)
    C = x.shape[1]
    dt = x.dtype
    w1, w2v, w2s, sk = st["w1"], st["w2v"], st["w2s"], st.get("sk")
    col = start[: len(cfg.names)].view(-1, 1, 1, 1)
    r1 = torch.where(col, w1, st["r1"])
    r2v = torch.where(col[:mv], w2v, st["r2v"])
    r2s = torch.where(col[mv:], w2s, st["r2s"])
    rsk = torch.where(col[mv:], sk, st["rsk"]) if cfg.skip else None

    # 1. keys, values, rates (and adaptive queries) from M_k, M_v, (M_q), M_eta, M_alpha at ref.
    off = 0 if cfg.linear_mem else 1  # the stacks' first memory is M_mem's, whose x-read is unused
    _, _, ov, os_ = _mlp_stack(cfg, r1[off:], r2v[off:], r2s, rsk, x, mv - off)
    l2n = (lambda z: _l2_normalize(z, cfg.l2_eps)) if cfg.qk_norm else (lambda z: z)
    k, v = l2n(ov[0]), (_l2_normalize(ov[1], cfg.l2_eps) if cfg.normalize_values else ov[1])
    q = l2n(ov[2]) if cfg.adaptive_q else q_static
    rate = (torch.sigmoid if cfg.eta_sigmoid else F.softplus)(os_[0, ..., 0])  # [BH, C]
    eta = cfg.eta_scale * rate
    if cfg.use_alpha:
        log_alpha = F.logsigmoid(os_[1, ..., 0] + cfg.retention_bias)
    else:
        log_alpha = torch.zeros_like(eta)
    if cfg.normalized:
        eta = eta / (1.0 + eta)

    # 2. targets M_r(v) and predictions M_r(k) at ref_r; per-token gradient atoms.
    zv, av, tv, ts = _mlp_stack(cfg, r1, r2v, r2s, rsk, v, mv)
    if cfg.stopgrad and not cfg.vhat_outer_gradient:  # like nl.stop_gradient: no outer gradient either
        tv, ts = tv.detach(), ts.detach()
    zk, ak, pv, ps = _mlp_stack(cfg, r1, r2v, r2s, rsk, k, mv)
    if cfg.objective == "l2":
        d2v, d2s = cfg.l2_coef_vec * (pv - tv), cfg.l2_coef_sca * (ps - ts)
        e2v, e2s = -d2v, -d2s  # dL/dtarget (used without stop-gradient)
    else:
        d2v, d2s = -tv, -ts
        e2v, e2s = -pv, -ps

    def back(d2v_, d2s_, z):
        da = torch.cat([torch.matmul(d2v_, r2v), torch.matmul(d2s_, r2s)], dim=0)
        return da * _act_and_slope(cfg.activation, z)[1]

    d1 = back(d2v, d2s, zk)
    # atoms (delta [G, BH, C, rows], name of the input rows X [.., C, cols]): g_t = sum delta_t X_t^T
    xs = {"k": k, "v": v, "akv": ak[:mv], "aks": ak[mv:], "avv": av[:mv], "avs": av[mv:]}
    atoms = {"w1": [(d1, "k")], "w2v": [(d2v, "akv")], "w2s": [(d2s, "aks")], "sk": [(d2s, "k")]}
    if not cfg.stopgrad:
        atoms["w1"].append((back(e2v, e2s, zv), "v"))
        atoms["w2v"].append((e2v, "avv"))
        atoms["w2s"].append((e2s, "avs"))
        atoms["sk"].append((e2s, "v"))
    in_params = ["w1"] + (["sk"] if cfg.skip else [])
    params = in_params + ["w2v", "w2s"]
    mom_name = {"w1": "m1", "w2v": "m2v", "w2s": "m2s", "sk": "msk"}

    # 3. DGD over the C tokens in closed form (see the module docstring).
    cs = torch.cumsum(log_alpha, dim=-1)  # log gamma_t
    csx = cs - log_alpha  # log gamma_{t-1}
    strict = torch.ones(C, C, dtype=torch.bool, device=x.device).tril(-1)
    dm = torch.exp(torch.where(strict, csx[:, :, None] - cs[:, None, :], float("-inf")))  # gamma_{t-1}/gamma_s
    dfin = torch.exp(cs[:, -1:] - cs)  # gamma_C / gamma_s
    g_last = torch.exp(cs[:, -1]).view(-1, 1, 1)  # gamma_C
    de = dm * eta[:, None, :]
    dfe = dfin * eta
    beta = cfg.momentum
    if beta is None:
        a_prev, a_fin = -de, -dfe  # coefficient of atom s in W_{t-1} (strictly lower) / in W_C
    else:
        idx = torch.arange(C, device=x.device)
        expo = (idx[:, None] - idx[None, :]).to(dt)
        bm = torch.where(expo >= 0, torch.pow(torch.full_like(expo, beta), expo.clamp(min=0)), 0.0)
        bpow = torch.pow(torch.full((C,), beta, dtype=dt, device=x.device), (idx + 1).to(dt))
        brev = torch.flip(torch.pow(torch.full((C,), beta, dtype=dt, device=x.device), idx.to(dt)), (0,))
        a_prev, a_fin = -torch.matmul(de, bm), -torch.matmul(dfe, bm)
        c_prev, c_fin = -torch.matmul(de, bpow), -torch.matmul(dfe, bpow).view(-1, 1, 1)

    u = {}  # (gamma_C/gamma_s) u_s of every input-side matrix, [G, BH, C, rows]
    if cfg.rank1:
        # u_t = -eta_t W_{t-1} k_t: (I + L) U = -eta Y, one triangular solve for all memories.
        kx = {"k": torch.matmul(k, _mT(k))}
        if not cfg.stopgrad:
            kx["v"] = torch.matmul(k, _mT(v))
        g_prev = torch.exp(csx)[..., None]  # gamma_{t-1}
        ys = []
        for name in in_params:
            y = g_prev * torch.matmul(k, _mT(st[name]))  # gamma_{t-1} W_0 k_t
            if beta is not None:
                y = y + c_prev[..., None] * torch.matmul(k, _mT(st[mom_name[name]]))
            for delta, tag in atoms[name]:
                y = y + torch.matmul(a_prev * kx[tag], delta)
            ys.append(y)
        lower = eta[..., None] * dm * kx["k"]
        rhs = torch.cat([(-eta[..., None] * y).permute(1, 2, 0, 3).flatten(2) for y in ys], dim=-1)
        sol = torch.linalg.solve_triangular(lower, rhs, upper=False, unitriangular=True) * dfin[..., None]
        off = 0
        for name, y in zip(in_params, ys):
            g, bh, _, rows = y.shape
            u[name] = sol[..., off : off + g * rows].reshape(bh, C, g, rows).permute(2, 0, 1, 3)
            off += g * rows

    # W_C = gamma_C W_0 (+ c_fin S_0) + sum_s [a_fin_s g_s + (gamma_C/gamma_s) u_s k_s^T]
    new = {}
    for name in params:
        w = g_last * st[name]
        if beta is not None:
            w = w + c_fin * st[mom_name[name]]
        for delta, tag in atoms[name]:
            coef = a_fin[..., None] * delta
            if tag == "k" and name in u:
                coef = coef + u[name]
            w = w + torch.matmul(_mT(coef), xs[tag])
        new[name] = w
        if beta is not None:  # S_C = beta^C S_0 + sum_s beta^(C-s) g_s
            m = beta**C * st[mom_name[name]]
            for delta, tag in atoms[name]:
                m = m + torch.matmul(_mT(brev[:, None] * delta), xs[tag])
            new[mom_name[name]] = m

    # 4. the output read of M_mem.
    if cfg.linear_mem:
        eta_mem = rate * (cfg.eta_scale if cfg.memory_eta_scale is None else cfg.memory_eta_scale)
        if cfg.normalized:
            eta_mem = eta_mem / (1.0 + eta_mem)
        o = _linear_mem_step(cfg, st, new, k, v, q, eta_mem, log_alpha, start[-1], at_mem_end)
    else:
        o = q + torch.matmul(_act(cfg.activation, torch.matmul(q, _mT(r1[0]))), _mT(r2v[0]))
    if cfg.read_after and not cfg.linear_mem:
        ql = q[:, -1:]
        ol = ql + torch.matmul(_act(cfg.activation, torch.matmul(ql, _mT(new["w1"][0]))), _mT(new["w2v"][0]))
        o = torch.cat([o[:, :-1], torch.where(at_mem_end, ol, o[:, -1:])], dim=1)

    out = {n: new[n] for n in ("w1", "w2v", "w2s", "sk", "wm", "rwm") if n in new}
    if beta is not None:
        out.update({m: new[m] for m in ("m1", "m2v", "m2s", "msk") if m in new})
    out.update(r1=r1, r2v=r2v, r2s=r2s)
    if cfg.skip:
        out["rsk"] = rsk
    return out, o


def _linear_mem_step(cfg: _HopeCfg, st, new, k, v, q, eta, log_alpha, start, at_mem_end):
    """A linear M_mem, M(x) = x + W x, over the C tokens of a step, token by token (C is small):
    W_t = W_{t-1} (alpha_t I - eta_t k_t k_t^T) - eta_t g_t with g_t = 2 (M_ref(k_t) - vhat_t) k_t^T
    at the chunk-start state W_ref, vhat_t = M_ref(v_t) behind the stop-gradient. Writes wm / rwm
    into `new`; returns the read o [BH, C, d] (at W_ref, or after the step with `after`)."""
    ref = torch.where(start, st["wm"], st["rwm"])
    target = v + torch.matmul(v, _mT(ref))
    if not cfg.vhat_outer_gradient:
        target = target.detach()
    err = 2.0 * (k + torch.matmul(k, _mT(ref)) - target)  # [BH, C, d]
    alpha = torch.exp(log_alpha)
    w = st["wm"]
    for t in range(k.shape[1]):
        kt, et = k[:, t, :, None], eta[:, t, None, None]
        keep = alpha[:, t, None, None] * w
        if cfg.rank1:
            keep = keep - et * torch.matmul(torch.matmul(w, kt), _mT(kt))
        w = keep - et * torch.matmul(err[:, t, :, None], _mT(kt))
    new["wm"], new["rwm"] = w, ref
    o = q + torch.matmul(q, _mT(ref))
    if cfg.read_after:
        ql = q[:, -1:]
        o = torch.cat([o[:, :-1], torch.where(at_mem_end, ql + torch.matmul(ql, _mT(w)), o[:, -1:])], dim=1)
    return o


def _hope_init(cfg: _HopeCfg, weights, bsz, momentum_on):
    """Stacked per-(batch, head) states from the per-head weights [H, ...] (or [B, H, ...])."""

    def stack(names, suffix):
        ts = []
        for n in names:
            w = weights[f"{_PREFIX[n]}_{suffix}"]
            if w.ndim == 3:
                w = w.unsqueeze(0).expand(bsz, *w.shape)
            ts.append(w.reshape(-1, *w.shape[2:]))
        return torch.stack(ts).contiguous()

    st = {"w1": stack(cfg.names, "w1"), "w2v": stack(cfg.vec, "w2"), "w2s": stack(cfg.sca, "w2")}
    if cfg.skip:
        st["sk"] = stack(cfg.sca, "skip")
    for n in list(st):
        st["r" + n[1:] if n != "sk" else "rsk"] = torch.zeros_like(st[n])
        if momentum_on:
            st["m" + n[1:] if n != "sk" else "msk"] = torch.zeros_like(st[n])
    if cfg.linear_mem:
        w = weights["mmem_w1"]
        st["wm"] = (w.unsqueeze(0).expand(bsz, *w.shape) if w.ndim == 3 else w).reshape(-1, *w.shape[-2:])
        st["rwm"] = torch.zeros_like(st["wm"])
    return st


def _hope_final(cfg: _HopeCfg, st, bsz):
    """The references' `final` dict: name -> [W_1, W_2, (W_skip), (momenta)] as [B, H, ...]."""
    final = {}
    mv = len(cfg.vec)
    for i, n in enumerate(cfg.names):
        vec = i < mv
        keys = ["w1", "w2v" if vec else "w2s"] + ([] if vec or not cfg.skip else ["sk"])
        j = i if vec else i - mv
        params = [st["w1"][i]] + [st[key][j] for key in keys[1:]]
        if cfg.momentum is not None:
            params += [st["m1"][i]] + [st["m" + key[1:] if key != "sk" else "msk"][j] for key in keys[1:]]
        final[n] = [p.reshape(bsz, -1, *p.shape[1:]) for p in params]
    if cfg.linear_mem:
        final["M_mem"] = [st["wm"].reshape(bsz, -1, *st["wm"].shape[1:])]
    return final


def _l2n_opt(so, z):
    return _l2_normalize(z, so.l2_eps) if so.qk_l2_norm else z


class ChunkedHopeBlock:
    """hope_block(x, weights, opts, return_state) computed chunk-parallel; with compile=True the
    per-step function is torch.compile'd (one compiled graph per static configuration)."""

    def __init__(self, compile: bool = False, fullgraph: bool = True, backend: str = "inductor"):
        self.compile = compile
        self.fullgraph = fullgraph
        self.backend = backend  # "eager": dynamo's graph capture only (tests of the drivers)
        self._steps = {}

    def step_fn(self, cfg: _HopeCfg, full: bool):
        if not (self.compile and full):
            return lambda *a: _hope_step_rates(cfg, *a)
        if cfg not in self._steps:
            def step(st, x, q, start, at_end):
                return _hope_step_rates(cfg, st, x, q, start, at_end)

            self._steps[cfg] = torch.compile(step, dynamic=False, fullgraph=self.fullgraph, backend=self.backend)
        return self._steps[cfg]

    def self_modifying_titans(self, h, weights, so):
        """(o_heads [B, H, T, d], final) like reference.hope_block.self_modifying_titans."""
        cfg = _hope_cfg(weights, so)
        bsz, tokens, _ = h.shape
        c = _causal_conv(h, weights["conv"]) if "conv" in weights else h
        xh = _split_heads(c, so.heads)
        qs = None if so.adaptive_q else _l2n_opt(so, _split_heads(torch.matmul(c, _mT(weights["w_q"])), so.heads))
        st = _hope_init(cfg, weights, bsz, so.momentum is not None)
        g = math.gcd(so.chunk_other, so.chunk_mem)
        masks = {}
        outs = []
        for s0 in range(0, tokens, g):
            n = min(g, tokens - s0)
            key = (tuple(s0 % c_r == 0 for c_r in cfg.chunks), (s0 + n) % so.chunk_mem == 0)
            if key not in masks:
                masks[key] = (torch.tensor(key[0], device=h.device), torch.tensor(key[1], device=h.device))
            start, at_end = masks[key]
            q = None if qs is None else qs[:, s0 : s0 + n]
            st, o = self.step_fn(cfg, n == g)(st, xh[:, s0 : s0 + n], q, start, at_end)
            outs.append(o)
        o = torch.cat(outs, dim=1)
        return o.reshape(bsz, so.heads, tokens, -1), _hope_final(cfg, st, bsz)

    def __call__(self, x, weights, opts: HopeOptions = HopeOptions(), return_state: bool = False):
        h = _rms_norm(x, weights["titans_norm"], opts.rms_eps)
        o_heads, final = self.self_modifying_titans(h, weights, opts.selfmod)
        bsz = x.shape[0]
        o = _merge_heads(o_heads.reshape(-1, *o_heads.shape[2:]), bsz)
        y = x + torch.matmul(o, _mT(weights["w_o"]))
        levels = sorted(int(n[3:-5]) for n in weights if n.startswith("cms") and n.endswith("_norm"))
        for l in levels:
            hl = _rms_norm(y, weights[f"cms{l}_norm"], opts.cms_eps)
            hl = _act(opts.cms_activation, torch.matmul(hl, _mT(weights[f"cms{l}_in"])))
            y = y + torch.matmul(hl, _mT(weights[f"cms{l}_out"]))
        return (y, final) if return_state else y


def make_hope_block(compile: bool = False, fullgraph: bool = True, backend: str = "inductor") -> ChunkedHopeBlock:
    """A callable (x, weights, opts=HopeOptions(), return_state=False) -> y (, final)."""
    return ChunkedHopeBlock(compile, fullgraph, backend)


def hope_block_chunked(x, weights, opts: HopeOptions = HopeOptions(), return_state: bool = False):
    """reference.hope_block.hope_block, chunk-parallel and eager."""
    return ChunkedHopeBlock(False)(x, weights, opts, return_state)


# ======================================================================================
# Titans memory
# ======================================================================================


@dataclass(frozen=True)
class _TitansCfg:
    depth: int
    activation: str
    has_norm: bool  # post LayerNorm (state: scale - norm_offset) + identity residual
    ln_eps: float
    norm_offset: float
    order: int  # momentum order (0: none)
    newton_schulz: bool
    ns_eps: float
    per_block_ref: bool  # gradients at the block's start state (linearize = K chunks)


def _memory_apply(cfg: _TitansCfg, ws, gn, x):
    """M(x) for states ws [..., out, in] (broadcast against x [..., N, d])."""
    h = x
    for l, w in enumerate(ws):
        if l:
            h = _act(cfg.activation, h)
        h = torch.matmul(h, _mT(w))
    if not cfg.has_norm:
        return h
    mu = h.mean(dim=-1, keepdim=True)
    c = h - mu
    n = c / torch.sqrt((c * c).mean(dim=-1, keepdim=True) + cfg.ln_eps)
    return x + n * (gn[..., None, :] + cfg.norm_offset)


def _chunk_grads(cfg: _TitansCfg, ws, gn, k, v, lr):
    """G_i = sum_{t in chunk i} lr_t grad l(theta; k_t, v_t) at theta = (ws, gn) for all chunks
    at once. k, v [BH, K, C, d], lr [BH, K, C]; returns [dW_1.., (dgn)] as [BH, K, ...]."""
    bh, nk, c, d = k.shape
    x = k.reshape(bh, nk * c, d)
    zs, hs = [], [x]
    h = x
    for l, w in enumerate(ws):
        if l:
            h = _act(cfg.activation, zs[-1])
            hs.append(h)
        zs.append(torch.matmul(h, _mT(w)))
    z = zs[-1]
    out_dim = z.shape[-1]
    if cfg.has_norm:
        mu = z.mean(dim=-1, keepdim=True)
        cz = z - mu
        rstd = torch.rsqrt((cz * cz).mean(dim=-1, keepdim=True) + cfg.ln_eps)
        n = cz * rstd
        pred = x + n * (gn[:, None, :] + cfg.norm_offset)
    else:
        pred = z
    # l = mean_j (pred - v)^2, weighted by lr: e = dl/dpred
    e = (lr.reshape(bh, nk * c, 1) * (2.0 / out_dim)) * (pred - v.reshape(bh, nk * c, d))
    grads = []
    if cfg.has_norm:
        g_norm = (e * n).reshape(bh, nk, c, -1).sum(dim=2)
        dn = e * (gn[:, None, :] + cfg.norm_offset)
        dz = rstd * (dn - dn.mean(dim=-1, keepdim=True) - n * (dn * n).mean(dim=-1, keepdim=True))
    else:
        dz = e
    for l in range(len(ws) - 1, -1, -1):
        hin = hs[l]
        grads.append(torch.matmul(_mT(dz.reshape(bh, nk, c, -1)), hin.reshape(bh, nk, c, -1)))
        if l:
            dz = torch.matmul(dz, ws[l]) * _act_and_slope(cfg.activation, zs[l - 1])[1]
    grads.reverse()
    if cfg.has_norm:
        grads.append(g_norm)
    return grads


_NS5 = (3.4445, -4.7750, 2.0315)


def _newton_schulz5(s, eps):
    transpose = s.shape[-2] > s.shape[-1]
    x = _mT(s) if transpose else s
    norm = torch.sqrt((x * x).sum(dim=(-2, -1), keepdim=True))
    x = torch.where(norm == 0, 0.0, x / norm) if eps == 0.0 else x / torch.clamp(norm, min=eps)
    a, b, c = _NS5
    for _ in range(5):
        gram = torch.matmul(x, _mT(x))
        gx = torch.matmul(gram, x)
        x = a * x + b * gx + c * torch.matmul(gram, gx)
    return _mT(x) if transpose else x


def _scan_chunk(cfg: _TitansCfg, theta, moms, grads_i, alpha_i, betas_i):
    """One chunk-aggregated momentum-GD step: S^(1) = beta_1 S^(1) - G, S^(n) = beta_n S^(n) +
    S^(n-1), theta = alpha theta + S^(N) (NS5 on matrices). alpha_i [BH], betas_i [O, BH]."""
    u = [-g for g in grads_i]
    new_moms = []
    for n in range(cfg.order):
        s_n = [betas_i[n].view(-1, *([1] * (m.ndim - 1))) * m + x for m, x in zip(moms[n], u)]
        new_moms.append(s_n)
        u = s_n
    if cfg.newton_schulz:
        u = [_newton_schulz5(x, cfg.ns_eps) if x.ndim == 3 else x for x in u]
    theta = [alpha_i.view(-1, *([1] * (w.ndim - 1))) * w + x for w, x in zip(theta, u)]
    return theta, new_moms


def _titans_step(cfg: _TitansCfg, theta, ref, moms, k, v, lr, q, alpha, betas):
    """One block of K complete chunks of C tokens. theta / ref: [W_1.., (norm state)] as
    [BH, ...] (ref None: the gradients are taken at theta, the block's start state); moms:
    [order][params]; k, v, q [BH, K, C, d]; lr [BH, K, C]; alpha [BH, K]; betas [O, BH, K].
    Returns (theta, moms, y [BH, K, C, d]) with y the `after` read at chunk granularity."""
    nw = cfg.depth
    at = theta if ref is None else ref
    grads = _chunk_grads(cfg, at[:nw], at[nw] if cfg.has_norm else None, k, v, lr)
    states = [theta]
    for i in range(k.shape[1]):
        theta, moms = _scan_chunk(cfg, theta, moms, [g[:, i] for g in grads], alpha[:, i], betas[:, :, i])
        states.append(theta)
    stacked = [torch.stack([s[p] for s in states], dim=1) for p in range(len(theta))]  # [BH, K+1, ...]
    prev = [t[:, :-1] for t in stacked]
    post = [t[:, 1:] for t in stacked]
    gn_prev = prev[nw] if cfg.has_norm else None
    gn_post = post[nw] if cfg.has_norm else None
    y_main = _memory_apply(cfg, prev[:nw], gn_prev, q[:, :, :-1])  # theta_{i-1}
    y_last = _memory_apply(cfg, post[:nw], gn_post, q[:, :, -1:])  # theta_i
    return theta, moms, torch.cat([y_main, y_last], dim=2)


def _titans_cfg(weights, opts: TitansOptions) -> _TitansCfg:
    depth = len([n for n in weights if n.startswith("mem_w")])
    if "mem_norm" in weights and "mem_norm_gamma" in weights:
        raise ValueError("mem_norm and mem_norm_gamma are exclusive")
    has_norm = "mem_norm" in weights or "mem_norm_gamma" in weights
    # mem_norm_gamma (hope-models titans-memory --config=titans-pytorch): scale = gamma + 1 and
    # retention decays gamma towards 0; mem_norm: the scale, decaying towards ln_scale_center.
    offset = 1.0 if "mem_norm_gamma" in weights else float(opts.ln_scale_center)
    wm = weights.get("w_momentum")
    order = 0 if wm is None else (1 if wm.ndim == 2 else wm.shape[0])
    if opts.linearize is not None and opts.linearize % opts.chunk:
        raise ValueError(f"linearisation period {opts.linearize} is not a multiple of the chunk size {opts.chunk}")
    return _TitansCfg(
        depth=depth, activation=opts.activation, has_norm=has_norm, ln_eps=opts.ln_eps,
        norm_offset=offset if has_norm else 0.0, order=order, newton_schulz=opts.newton_schulz,
        ns_eps=opts.ns_eps, per_block_ref=opts.linearize is not None,
    )


def _rate(s, w, b, heads, scale=1.0):
    """scale * sigmoid(W s + b) -> [B*H, N] for s [B, N, D], w [H, D]."""
    z = torch.matmul(s, _mT(w))
    if b is not None:
        z = z + b
    return scale * torch.sigmoid(z).transpose(1, 2).reshape(-1, s.shape[1])


def _chunk_means(s, chunk):
    """nl.chunk_pool: [B, T, D] -> [B, ceil(T/C), D] (a last partial chunk: its own mean)."""
    b, t, d = s.shape
    n_full = t // chunk
    out = s[:, : n_full * chunk].reshape(b, n_full, chunk, d).mean(dim=2)
    if t % chunk:
        out = torch.cat([out, s[:, n_full * chunk :].mean(dim=1, keepdim=True)], dim=1)
    return out


class ChunkedTitansMemory:
    """titans_memory(x, weights, opts, init_momentum, return_state) computed chunk-parallel;
    with compile=True the per-block step is torch.compile'd. block_chunks: the chunks per step
    when linearize is None (otherwise K = linearize / chunk)."""

    def __init__(self, compile: bool = False, fullgraph: bool = True, block_chunks: int | None = None,
                 backend: str = "inductor"):
        self.compile = compile
        self.fullgraph = fullgraph
        self.backend = backend
        self.block_chunks = block_chunks
        self._steps = {}

    def step_fn(self, cfg: _TitansCfg, full: bool):
        if not (self.compile and full):
            return lambda *a: _titans_step(cfg, *a)
        if cfg not in self._steps:
            def step(theta, ref, moms, k, v, lr, q, alpha, betas):
                return _titans_step(cfg, theta, ref, moms, k, v, lr, q, alpha, betas)

            self._steps[cfg] = torch.compile(step, dynamic=False, fullgraph=self.fullgraph, backend=self.backend)
        return self._steps[cfg]

    def __call__(self, x, weights, opts: TitansOptions = TitansOptions(), init_momentum=None,
                 return_state: bool = False):
        w = weights
        cfg = _titans_cfg(w, opts)
        heads, c = opts.heads, opts.chunk
        bsz, tokens, _ = x.shape

        # State-independent work for the whole sequence.
        s = _rms_norm(x, w["store_norm"], opts.rms_eps)
        k = _split_heads(torch.matmul(s, _mT(w["w_k"])), heads)
        v = _split_heads(torch.matmul(s, _mT(w["w_v"])), heads)
        if "k_norm" in w:
            k = _rms_norm(k, w["k_norm"].repeat(bsz, 1)[:, None, :], opts.rms_eps)
        lr = _rate(s, w["w_lr"], w.get("b_lr"), heads, opts.max_lr)
        pooled = _chunk_means(s, c)
        betas = []
        for n in range(cfg.order):
            wm = w["w_momentum"] if w["w_momentum"].ndim == 2 else w["w_momentum"][n]
            bm = w.get("b_momentum")
            if bm is not None and bm.ndim == 2:
                bm = bm[n]
            betas.append(_rate(pooled, wm, bm, heads))
        n_all = pooled.shape[1]
        betas = torch.stack(betas) if betas else x.new_zeros(0, bsz * heads, n_all)
        alpha = _rate(pooled, w["w_retention"], w.get("b_retention"), heads)
        r = _rms_norm(x, w["retrieve_norm"], opts.rms_eps)
        q = _split_heads(torch.matmul(r, _mT(w["w_q"])), heads)
        if "q_norm" in w:
            q = _rms_norm(q, w["q_norm"].repeat(bsz, 1)[:, None, :], opts.rms_eps)

        # Initial state [BH, ...] (the norm as scale - offset) and momenta.
        def per_bh(t, per_head_ndim):
            if t.ndim == per_head_ndim + 1:
                t = t.unsqueeze(0).expand(bsz, *t.shape)
            return t.reshape(bsz * heads, *t.shape[2:]).clone()

        theta = [per_bh(w[f"mem_w{l}"], 2) for l in range(1, cfg.depth + 1)]
        if "mem_norm_gamma" in w:
            theta.append(per_bh(w["mem_norm_gamma"], 1))
        elif cfg.has_norm:
            theta.append(per_bh(w["mem_norm"], 1) - cfg.norm_offset)
        if init_momentum:
            flat = [per_bh(m, p.ndim - 1) for m, p in zip(init_momentum, theta * cfg.order)]
            moms = [flat[n * len(theta) : (n + 1) * len(theta)] for n in range(cfg.order)]
        else:
            moms = [[torch.zeros_like(p) for p in theta] for _ in range(cfg.order)]

        n_full = tokens // c
        kb = opts.linearize // c if opts.linearize is not None else (self.block_chunks or max(1, 256 // c))
        ref = None if cfg.per_block_ref else theta
        block_start = theta
        ys = []
        for i0 in range(0, n_full, kb):
            nk = min(kb, n_full - i0)
            sl = slice(i0 * c, (i0 + nk) * c)
            block_start = theta
            theta, moms, y = self.step_fn(cfg, nk == kb)(
                theta, ref, moms,
                k[:, sl].reshape(-1, nk, c, k.shape[-1]), v[:, sl].reshape(-1, nk, c, v.shape[-1]),
                lr[:, sl].reshape(-1, nk, c), q[:, sl].reshape(-1, nk, c, q.shape[-1]),
                alpha[:, i0 : i0 + nk], betas[:, :, i0 : i0 + nk])
            ys.append(y.reshape(bsz * heads, nk * c, -1))
        if tokens % c:  # a last partial chunk: reads theta_n; updates only with partial_chunk_update
            nw = cfg.depth
            tail = slice(n_full * c, tokens)
            ys.append(_memory_apply(cfg, theta[:nw], theta[nw] if cfg.has_norm else None, q[:, tail]))
            if opts.partial_chunk_update:
                at = block_start if cfg.per_block_ref else ref
                if cfg.per_block_ref and n_full % kb == 0:
                    at = theta  # the partial chunk opens a new linearisation block
                grads = _chunk_grads(cfg, at[:nw], at[nw] if cfg.has_norm else None,
                                     k[:, None, tail], v[:, None, tail], lr[:, None, tail])
                theta, moms = _scan_chunk(cfg, theta, moms, [g[:, 0] for g in grads],
                                          alpha[:, n_full], betas[:, :, n_full])

        y_heads = torch.cat(ys, dim=1)  # [BH, T, d]
        if "out_norm" in w:
            y_heads = _rms_norm(y_heads, w["out_norm"].repeat(bsz, 1)[:, None, :], opts.rms_eps)
        if "w_gate" in w:
            y_heads = y_heads * _rate(r, w["w_gate"], None, heads)[..., None]
        y = torch.matmul(_merge_heads(y_heads, bsz), _mT(w["w_out"]))
        if not return_state:
            return y
        if cfg.has_norm and "mem_norm_gamma" not in w:
            theta = theta[:-1] + [theta[-1] + cfg.norm_offset]
        final = [p.reshape(bsz, heads, *p.shape[1:]) for p in theta]
        final += [m.reshape(bsz, heads, *m.shape[1:]) for ms in moms for m in ms]
        return y, final


def make_titans_memory(compile: bool = False, fullgraph: bool = True, block_chunks: int | None = None,
                       backend: str = "inductor"):
    """A callable (x, weights, opts=TitansOptions(), init_momentum=None, return_state=False)."""
    return ChunkedTitansMemory(compile, fullgraph, block_chunks, backend)


def titans_memory_chunked(x, weights, opts: TitansOptions = TitansOptions(), init_momentum=None,
                          return_state: bool = False):
    """reference.titans_memory.titans_memory, chunk-parallel and eager."""
    return ChunkedTitansMemory(False)(x, weights, opts, init_momentum, return_state)


# ======================================================================================
# FLOP formulas (one per model, used for every benchmark column)
# ======================================================================================
#
# Convention: 2 FLOPs per multiply-add of every matmul / contraction of the chunk-parallel
# math above (the projections, the convolution, the memory MLPs' forward and hand-written
# backward passes, the Gram matrices, the triangular solve (C(C-1)/2 multiply-adds per
# right-hand-side column), the closed-form state updates, the reads, the CMS chain).
# Elementwise work (norms, activations, rates, retention/momentum scans, exp/log) is NOT
# counted. Default options only (no DGD momentum, stop-gradient targets, rank-1 term,
# chunk_start read; momentum order 1 and no NS5 for Titans).

HOPE_DEFAULTS = dict(dim=512, heads=8, hidden=None, chunk_other=8, chunk_mem=64,
                     cms_hidden=(2048, 2048, 2048), window=4)
TITANS_DEFAULTS = dict(dim=384, heads=4, dim_head=None, hidden=None, depth=2, chunk=64, gate=True)


def flops_hope_block(B: int, T: int, cfg: dict | None = None) -> int:
    """FLOPs of one hope_block forward over [B, T, dim]; cfg keys (defaults HOPE_DEFAULTS =
    models/hope_block.mlir): dim, heads, hidden (memory hidden, default dim/heads), chunk_other,
    chunk_mem, cms_hidden, window (conv width, 0: no conv). Memories: M = 5 (Mv = 3 of width d:
    M_mem, M_k, M_v; Ms = 2 of width 1 with W_skip: M_eta, M_alpha)."""
    p = {**HOPE_DEFAULTS, **(cfg or {})}
    dim, heads = p["dim"], p["heads"]
    d = dim // heads
    hid = p["hidden"] or d
    m, mv, ms = 5, 3, 2
    g = math.gcd(p["chunk_other"], p["chunk_mem"])

    def step_macs(c):  # one step of c tokens, one (batch, head)
        first = hid * d
        x_reads = (m - 1) * first + (mv - 1) * d * hid + ms * (hid + d)
        mlp_all = m * first + mv * d * hid + ms * (hid + d)  # targets and predictions, each
        backward = mv * d * hid + ms * hid  # d2 @ W_2
        w0k = m * first + ms * d  # W_0 k_t of the input-side matrices
        updates = m * hid * d + ms * d + mv * d * hid + ms * hid  # closed-form W_C
        read = 2 * hid * d
        per_token = x_reads + 2 * mlp_all + backward + w0k + updates + read
        cols = m * hid + ms
        quadratic = c * c * d + c * c * cols + c * (c - 1) // 2 * cols  # Gram, atoms' Y, solve
        return c * per_token + quadratic

    full, rem = divmod(T, g)
    memory = B * heads * (full * step_macs(g) + (step_macs(rem) if rem else 0))
    dense = B * T * (2 * dim * dim + p["window"] * dim + sum(2 * dim * h for h in p["cms_hidden"]))
    return 2 * (memory + dense)


def flops_titans_memory(B: int, T: int, cfg: dict | None = None) -> int:
    """FLOPs of one titans_memory forward over [B, T, dim]; cfg keys (defaults TITANS_DEFAULTS =
    models/titans_memory.mlir): dim, heads, dim_head (default dim/heads; titans-pytorch's
    NeuralMemory defaults to dim), hidden (default 4 dim_head), depth, chunk, gate (retrieval
    gate). Gradients for the complete chunks only (a last partial chunk makes no update)."""
    p = {**TITANS_DEFAULTS, **(cfg or {})}
    dim, heads, c = p["dim"], p["heads"], p["chunk"]
    d = p["dim_head"] or dim // heads
    hid = p["hidden"] or 4 * d
    widths = [d] + [hid] * (p["depth"] - 1) + [d]
    layer = sum(a * b for a, b in zip(widths[:-1], widths[1:]))  # one MLP pass, one token
    first = widths[0] * widths[1]
    n_full = T // c
    grad = 3 * layer - first  # forward, dW_l for every l, dh for l > 1
    memory = B * heads * (n_full * c * grad + T * layer)  # gradients, reads
    n_chunks = -(-T // c)
    inner = heads * d
    dense = B * T * (4 * dim * inner + heads * dim * (2 if p["gate"] else 1)) + B * n_chunks * 2 * heads * dim
    return 2 * (memory + dense)
