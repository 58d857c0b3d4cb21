"""One associative memory level (`nl.memory` + `nl.update` + `nl.read`), token by token.

Implements /work/shared/docs/nested-learning.md section 2 ("Associative memory level") as the
dialect reference (docs/reference/NLDialect.md: `#nl.linear`, `#nl.mlp`, `#nl.l2`, `#nl.dot`,
`#nl.momentum_gd`, `#nl.dgd`, `#nl.chunk_aggregated`, `nl.read`) and docs/design.md
("Choices made where the semantics leave room") define it. Clarity over speed: every (batch,
head) pair is its own Python loop, every gradient g_t comes from torch.autograd on that token
alone, and every recurrence is written out literally. States are lists of tensors in the
`#nl.mlp` order (W_1 .. W_L, W_skip, norm scale).

Time indices: tokens t = 1..T (1-based, as in the semantics doc). The token variant keeps
theta_0 .. theta_T; the chunk-aggregated variant keeps theta_0 .. theta_n, one per chunk.

Choices this file makes where the texts leave room (each is documented in README.md):
  * LayerNorm inside an MLP memory: (x - mean) / sqrt(biased var + ln_eps) * scale, no bias;
    ln_eps = 1e-5 by default (torch's and titans-pytorch's value), a MemorySpec field.
  * norm = pre normalises the MLP branch's input only; the skip path (identity or W_skip)
    sees the raw x (as in a CMS block, x + W_out s(W_in Norm(x))).
  * NS5 divides by max(||S||_F, ns_eps) with ns_eps = 0 by default (the doc's S / ||S||_F);
    an all-zero S stays zero. titans-pytorch uses ns_eps = 1e-7.
  * Per-chunk rates in the token variant: every token of chunk i uses the chunk's value
    (RateGranularity "how often a rate changes").
  * Chunk-aggregated variant: retention and momentum must be per chunk (the doc defines only
    per-chunk alpha_i, beta_i); a per-token lr is weighted into G_i token by token. A last
    partial chunk makes no update (partial_chunk_update = False, the project's choice, as
    docs/design.md says): its update would happen at a token the sequence does not reach, and
    titans-pytorch likewise keeps those tokens for its next call. partial_chunk_update = True
    applies it to the final state (no read sees it).
  * DGD rank-1 term uses the key k_t itself (also with norm = pre).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from . import nl_ops

# --------------------------------------------------------------------------------------
# Specification (mirrors the dialect attributes)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearModel:
    """`#nl.linear`: M(x) = W x, state W [d_out, d_in]."""


@dataclass(frozen=True)
class MLPModel:
    """`#nl.mlp<depth, hidden, activation, residual, norm>`:
    M(x) = skip(x) + W_L s(... s(W_1 x)); residual none | identity | learned (W_skip x);
    norm none | pre (LayerNorm on the branch input) | post (on the branch output)."""

    hidden: int
    depth: int = 2
    activation: str = "silu"
    residual: str = "identity"
    norm: str = "none"


@dataclass(frozen=True)
class L2:
    """`#nl.l2<reduction, half>`: ||M(k) - v||^2, summed (default) or averaged over features,
    optionally times 1/2."""

    reduction: str = "sum"
    half: bool = False


@dataclass(frozen=True)
class Dot:
    """`#nl.dot`: -<M(k), v>."""


@dataclass(frozen=True)
class MomentumGD:
    """`#nl.momentum_gd`: S_t = beta_t S_{t-1} - eta_t g_t; theta_t = alpha_t theta_{t-1} + S_t.
    order N chains N scans (order 0: S_t = -eta_t g_t); newton_schulz writes NS5(S_t) into
    matrix parameters. lr / retention / momentum: "token" or "chunk"."""

    order: int = 1
    newton_schulz: bool = False
    lr: str = "token"
    retention: str = "token"
    momentum: str = "token"


@dataclass(frozen=True)
class DGD:
    """`#nl.dgd`: W_t = W_{t-1}(alpha_t I - eta_t k_t k_t^T) - eta_t g_t on W_1 (W_in) and
    W_skip, alpha_t W - eta_t g_t on the other parameters. momentum: S_t = beta_t S_{t-1} + g_t
    replaces g_t (beta per token). step_size "normalized": eta / (1 + eta) everywhere.
    rank1 = False drops the rank-1 term (nested-learning's use_rank1_precond = False; not a
    dialect option)."""

    momentum: bool = False
    step_size: str = "plain"
    lr: str = "token"
    retention: str = "token"
    rank1: bool = True


@dataclass(frozen=True)
class ChunkAggregated:
    """`#nl.chunk_aggregated<linearize = B | sequence>`: one update per chunk; gradients at the
    state after the last chunk that ends at a multiple of B (None: theta_0 for every chunk)."""

    linearize: int | None


@dataclass(frozen=True)
class MemorySpec:
    """Everything `nl.memory` says about a memory, plus the numerical choices of this file."""

    model: LinearModel | MLPModel
    objective: L2 | Dot
    rule: MomentumGD | DGD
    chunk: int = 1
    chunk_aggregated: ChunkAggregated | None = None
    ln_eps: float = 1e-5
    #: Retention pulls the LayerNorm scale towards this value: s <- c + alpha (s - c) + S.
    #: 0 = the project's theta_t = alpha theta_{t-1} + S_t; 1 = titans-pytorch, whose state is
    #: gamma with scale = 1 + gamma.
    ln_scale_center: float = 0.0
    ns_eps: float = 0.0
    partial_chunk_update: bool = False

    def momentum_order(self) -> int:
        if isinstance(self.rule, MomentumGD):
            return self.rule.order
        return 1 if self.rule.momentum else 0


@dataclass(frozen=True)
class Param:
    name: str
    shape: tuple[int, ...]
    role: str  # "in" (W_1 / the linear W), "hidden", "out", "skip", "norm"


def state_layout(model: LinearModel | MLPModel, d_in: int, d_out: int) -> list[Param]:
    """The state parameters of one head, in the order of `#nl.mlp` (NLDialect.md, MLPModelAttr)."""
    if isinstance(model, LinearModel):
        return [Param("W", (d_out, d_in), "in")]
    if model.residual == "identity" and d_in != d_out:
        raise ValueError("residual = identity needs d_in == d_out")
    layout: list[Param] = []
    if model.depth == 1:
        layout.append(Param("W_1", (d_out, d_in), "in"))
    else:
        layout.append(Param("W_1", (model.hidden, d_in), "in"))
        for l in range(2, model.depth):
            layout.append(Param(f"W_{l}", (model.hidden, model.hidden), "hidden"))
        layout.append(Param(f"W_{model.depth}", (d_out, model.hidden), "out"))
    if model.residual == "learned":
        layout.append(Param("W_skip", (d_out, d_in), "skip"))
    if model.norm == "pre":
        layout.append(Param("norm", (d_in,), "norm"))
    elif model.norm == "post":
        layout.append(Param("norm", (d_out,), "norm"))
    return layout


def widths(spec: MemorySpec, params: Sequence[torch.Tensor]) -> tuple[int, int]:
    """(d_in, d_out) of a memory from one head's state."""
    if isinstance(spec.model, LinearModel):
        return params[0].shape[1], params[0].shape[0]
    d_in = params[0].shape[1]
    d_out = params[spec.model.depth - 1].shape[0]
    return d_in, d_out


# --------------------------------------------------------------------------------------
# The model, the objective and one token's gradient
# --------------------------------------------------------------------------------------


def layer_norm(x: torch.Tensor, scale: torch.Tensor, eps: float) -> torch.Tensor:
    """LayerNorm over the last dim with a learnt scale and no bias (biased variance)."""
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * scale


def apply(spec: MemorySpec, params: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """M_theta(x) for one head's state `params`; x [..., d_in] -> [..., d_out]."""
    model = spec.model
    if isinstance(model, LinearModel):
        return nl_ops.linear(x, params[0])
    d_in, d_out = widths(spec, params)
    layout = state_layout(model, d_in, d_out)
    by_role = {}
    matrices = []
    for p, value in zip(layout, params):
        if p.role in ("in", "hidden", "out"):
            matrices.append(value)
        else:
            by_role[p.role] = value
    h = x
    if model.norm == "pre":
        h = layer_norm(h, by_role["norm"], spec.ln_eps)
    z = nl_ops.linear(h, matrices[0])
    for w in matrices[1:]:
        z = nl_ops.linear(nl_ops.activation(model.activation, z), w)
    if model.norm == "post":
        z = layer_norm(z, by_role["norm"], spec.ln_eps)
    if model.residual == "identity":
        z = z + x
    elif model.residual == "learned":
        z = z + nl_ops.linear(x, by_role["skip"])
    return z


def objective(spec: MemorySpec, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """l(theta; k, v) given pred = M_theta(k) and v (semantics §2, NLDialect.md L2/Dot)."""
    if isinstance(spec.objective, Dot):
        return -(pred * target).sum(dim=-1)
    err = (pred - target) ** 2
    loss = err.mean(dim=-1) if spec.objective.reduction == "mean" else err.sum(dim=-1)
    return 0.5 * loss if spec.objective.half else loss


Target = torch.Tensor | Callable[[list[torch.Tensor]], torch.Tensor]


def token_grad(
    spec: MemorySpec, params: Sequence[torch.Tensor], key: torch.Tensor, target: Target
) -> list[torch.Tensor]:
    """g = grad_theta l(theta; k, v) at theta = `params`, for ONE token (key [d_in]).

    `target` is the value v [d_out], or a function theta -> v for a self-generated target that
    is NOT behind a stop-gradient (then d v / d theta is part of g). The gradient keeps its
    autograd graph when anything it depends on requires grad (outer gradients through the
    inner updates, second-order terms included).
    """
    tgt_tensor = None if callable(target) else target
    outer = torch.is_grad_enabled() and (
        any(p.requires_grad for p in params)
        or key.requires_grad
        or (tgt_tensor is not None and tgt_tensor.requires_grad)
    )
    if outer:
        # A new node per parameter (clone keeps the graph to p): the gradient is the partial
        # derivative in theta, so a key or target computed from the same tensors elsewhere
        # (self-modifying Titans: k = M_k(x) with the M_k being updated) does not leak into it.
        theta = [p.clone() if p.requires_grad else p.detach().requires_grad_() for p in params]
    else:
        theta = [p.detach().requires_grad_() for p in params]
        key = key.detach()
        tgt_tensor = None if tgt_tensor is None else tgt_tensor.detach()
    with torch.enable_grad():
        v = target(theta) if callable(target) else tgt_tensor
        loss = objective(spec, apply(spec, theta, key), v)
        grads = torch.autograd.grad(loss, theta, create_graph=outer, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(theta, grads)]


# --------------------------------------------------------------------------------------
# Learning rules, one step
# --------------------------------------------------------------------------------------

NS5_COEFFS = (3.4445, -4.7750, 2.0315)


def newton_schulz5(s: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """NS5 (semantics §2): X = S / ||S||_F (transposed when rows > cols), then 5 times
    X <- a X + b (X X^T) X + c (X X^T)^2 X with (a, b, c) = (3.4445, -4.7750, 2.0315)."""
    transpose = s.shape[0] > s.shape[1]
    x = s.T if transpose else s
    norm = torch.sqrt((x * x).sum())
    if eps == 0.0 and float(norm) == 0.0:
        return torch.zeros_like(s)
    x = x / torch.clamp(norm, min=eps)
    a, b, c = NS5_COEFFS
    for _ in range(5):
        gram = x @ x.T
        x = a * x + b * (gram @ x) + c * (gram @ (gram @ x))
    return x.T if transpose else x


def retain(spec: MemorySpec, role: str, value: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """alpha * theta, except that a LayerNorm scale decays towards spec.ln_scale_center."""
    if role == "norm" and spec.ln_scale_center != 0.0:
        c = spec.ln_scale_center
        return c + alpha * (value - c)
    return alpha * value


def momentum_gd_step(
    spec: MemorySpec,
    layout: Sequence[Param],
    theta: Sequence[torch.Tensor],
    momenta: Sequence[Sequence[torch.Tensor]],
    surprise: Sequence[torch.Tensor],
    alpha: torch.Tensor,
    betas: Sequence[torch.Tensor],
) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """One `#nl.momentum_gd` step. surprise = -eta_t g_t (token variant) or -G_i (chunk-
    aggregated). S^(1) = beta_1 S^(1) + surprise, S^(n) = beta_n S^(n) + S^(n-1) (order N chains
    N scans, the first feeding the second); theta = alpha theta + S^(N) (or NS5(S^(N)) for
    matrices when newton_schulz)."""
    rule = spec.rule
    u = list(surprise)
    new_momenta = []
    for n in range(rule.order):
        s_n = [betas[n] * m + x for m, x in zip(momenta[n], u)]
        new_momenta.append(s_n)
        u = s_n
    if rule.newton_schulz:
        u = [newton_schulz5(x, spec.ns_eps) if x.ndim == 2 else x for x in u]
    new_theta = [retain(spec, p.role, w, alpha) + x for p, w, x in zip(layout, theta, u)]
    return new_theta, new_momenta


def dgd_step(
    spec: MemorySpec,
    layout: Sequence[Param],
    theta: Sequence[torch.Tensor],
    momenta: Sequence[Sequence[torch.Tensor]],
    grad: Sequence[torch.Tensor],
    key: torch.Tensor,
    eta: torch.Tensor,
    alpha: torch.Tensor,
    beta: torch.Tensor | None,
) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """One `#nl.dgd` step at one token. W (alpha I - eta k k^T) is written alpha W - eta (W k) k^T
    (never a d x d matrix); it applies to the input-side matrix W_1 (role "in") and W_skip."""
    rule = spec.rule
    if rule.step_size == "normalized":
        eta = eta / (1.0 + eta)
    new_momenta: list[list[torch.Tensor]] = []
    direction = list(grad)
    if rule.momentum:
        direction = [beta * m + g for m, g in zip(momenta[0], grad)]
        new_momenta = [direction]
    new_theta = []
    for p, w, d in zip(layout, theta, direction):
        if rule.rank1 and p.role in ("in", "skip"):
            w_new = alpha * w - eta * torch.outer(w @ key, key) - eta * d
        else:
            w_new = retain(spec, p.role, w, alpha) - eta * d
        new_theta.append(w_new)
    return new_theta, new_momenta


# --------------------------------------------------------------------------------------
# Whole sequences
# --------------------------------------------------------------------------------------


def _rate(rate: torch.Tensor | None, b: int, h: int, t0: int, grain: str, chunk: int, default=1.0):
    """Rate of 0-based token t0: rate[b,h,t0] (per token) or rate[b,h,t0 // C] (per chunk)."""
    if rate is None:
        return default
    return rate[b, h, t0] if grain == "token" else rate[b, h, t0 // chunk]


def _per_bh(tensors: Sequence[torch.Tensor], layout: Sequence[Param], b: int, h: int):
    """Pick (b, h) from per-head [H, ...] or per-sequence [B, H, ...] state tensors."""
    out = []
    for t, p in zip(tensors, layout * (len(tensors) // max(len(layout), 1))):
        out.append(t[h] if t.ndim == len(p.shape) + 1 else t[b, h])
    return out


@dataclass
class MemoryRun:
    """The states a memory went through. states[b][h][i] is theta_i (a list of tensors):
    i counts tokens (token variant) or chunks (chunk-aggregated)."""

    spec: MemorySpec
    states: list
    momenta: list  # momenta[b][h] = final buffers [order][param]

    def state_index(self, t: int, point: str) -> int:
        """Which theta_i the read point shows to token t (1-based)."""
        if point not in ("after", "chunk_start"):
            raise ValueError(f"unknown read point {point!r}")
        c = self.spec.chunk
        chunks = (t // c) if point == "after" else ((t - 1) // c)
        return chunks if self.spec.chunk_aggregated else chunks * c

    def read(self, queries: torch.Tensor, point: str = "after") -> torch.Tensor:
        """`nl.read`: y[b,h,t] = M_{theta_e(t)}(q[b,h,t]) with e(t) = C floor(t/C) (`after`) or
        C floor((t-1)/C) (`chunk_start`); chunk-aggregated: the same at chunk granularity."""
        bsz, heads, tokens, _ = queries.shape
        rows = []
        for b in range(bsz):
            per_head = []
            for h in range(heads):
                ys = [
                    apply(self.spec, self.states[b][h][self.state_index(t, point)], queries[b, h, t - 1])
                    for t in range(1, tokens + 1)
                ]
                per_head.append(torch.stack(ys))
            rows.append(torch.stack(per_head))
        return torch.stack(rows)

    def final_state(self) -> list[torch.Tensor]:
        """`nl.final_state`: the parameters [B, H, ...] after the last token, then the momentum
        buffers (order-major: order 1's buffers for every parameter, then order 2's, ...)."""
        bsz, heads = len(self.states), len(self.states[0])
        n_params = len(self.states[0][0][-1])
        out = []
        for p in range(n_params):
            out.append(torch.stack([torch.stack([self.states[b][h][-1][p] for h in range(heads)]) for b in range(bsz)]))
        for n in range(self.spec.momentum_order()):
            for p in range(n_params):
                out.append(torch.stack([torch.stack([self.momenta[b][h][n][p] for h in range(heads)]) for b in range(bsz)]))
        return out


def run_memory(
    spec: MemorySpec,
    init: Sequence[torch.Tensor],
    keys: torch.Tensor,
    values: torch.Tensor,
    lr: torch.Tensor,
    retention: torch.Tensor | None = None,
    momentum: Sequence[torch.Tensor] = (),
    init_momentum: Sequence[torch.Tensor] | None = None,
) -> MemoryRun:
    """Run `nl.update %m keys(k) values(v) lr(eta) retention(alpha) momentum(beta...)` over a
    whole sequence. keys [B,H,T,d_in], values [B,H,T,d_out]; init per head [H,...] or per
    sequence [B,H,...] in state_layout order; init_momentum order-major (absent: zeros)."""
    bsz, heads, tokens, d_in = keys.shape
    d_out = values.shape[-1]
    layout = state_layout(spec.model, d_in, d_out)
    if len(init) != len(layout):
        raise ValueError(f"expected {len(layout)} initial state tensors, got {len(init)}")
    order = spec.momentum_order()
    if isinstance(spec.rule, MomentumGD) and len(momentum) != order:
        raise ValueError(f"the rule keeps {order} momentum buffers and needs {order} rates")
    if isinstance(spec.rule, DGD) and spec.rule.momentum and len(momentum) != 1:
        raise ValueError("DGD with momentum needs one momentum rate")
    runner = _run_aggregated if spec.chunk_aggregated else _run_tokens
    states, momenta = [], []
    for b in range(bsz):
        states_b, momenta_b = [], []
        for h in range(heads):
            theta0 = _per_bh(init, layout, b, h)
            if init_momentum:
                flat = _per_bh(init_momentum, layout, b, h)
                m0 = [flat[n * len(layout) : (n + 1) * len(layout)] for n in range(order)]
            else:
                m0 = [[torch.zeros_like(w) for w in theta0] for _ in range(order)]
            s, m = runner(spec, layout, theta0, m0, keys[b, h], values[b, h], lr, retention, momentum, b, h)
            states_b.append(s)
            momenta_b.append(m)
        states.append(states_b)
        momenta.append(momenta_b)
    return MemoryRun(spec, states, momenta)


def _run_tokens(spec, layout, theta0, m0, keys, values, lr, retention, momentum, b, h):
    """Token variant: g_t at theta_{r(t)}, r(t) = C floor((t-1)/C), then one literal step per token."""
    rule, c = spec.rule, spec.chunk
    states = [theta0]
    mom = m0
    for t in range(1, keys.shape[0] + 1):
        t0 = t - 1
        ref = states[c * ((t - 1) // c)]
        g = token_grad(spec, ref, keys[t0], values[t0])
        eta = _rate(lr, b, h, t0, rule.lr, c)
        alpha = _rate(retention, b, h, t0, rule.retention, c)
        if isinstance(rule, MomentumGD):
            betas = [_rate(beta, b, h, t0, rule.momentum, c) for beta in momentum]
            theta, mom = momentum_gd_step(spec, layout, states[-1], mom, [-eta * x for x in g], alpha, betas)
        else:
            beta = _rate(momentum[0], b, h, t0, "token", c) if rule.momentum else None
            theta, mom = dgd_step(spec, layout, states[-1], mom, g, keys[t0], eta, alpha, beta)
        states.append(theta)
    return states, mom


def _run_aggregated(spec, layout, theta0, m0, keys, values, lr, retention, momentum, b, h):
    """Chunk-aggregated variant: G_i = sum_{t in chunk i} eta_t g_t at theta_{ref(i)};
    S_i = beta_i S_{i-1} - G_i; theta_i = alpha_i theta_{i-1} + S_i (order N: N chained scans)."""
    rule, c = spec.rule, spec.chunk
    if not isinstance(rule, MomentumGD):
        raise ValueError("DGD is not defined for the chunk-aggregated variant")
    if rule.retention != "chunk" or rule.momentum != "chunk":
        raise ValueError("the chunk-aggregated variant needs per-chunk retention and momentum")
    period = spec.chunk_aggregated.linearize
    if period is not None and period % c:
        raise ValueError(f"linearisation period {period} is not a multiple of the chunk size {c}")
    tokens = keys.shape[0]
    n_chunks = -(-tokens // c) if spec.partial_chunk_update else tokens // c
    states = [theta0]
    mom = m0
    for i in range(1, n_chunks + 1):
        # ref(i): the state after the last chunk j <= i-1 that ends at a multiple of B.
        j = 0 if period is None else (((i - 1) * c) // period) * period // c
        ref = states[j]
        big_g = [torch.zeros_like(w) for w in theta0]
        for t0 in range((i - 1) * c, min(i * c, tokens)):
            eta = _rate(lr, b, h, t0, rule.lr, c)
            g = token_grad(spec, ref, keys[t0], values[t0])
            big_g = [acc + eta * x for acc, x in zip(big_g, g)]
        alpha = 1.0 if retention is None else retention[b, h, i - 1]
        betas = [beta[b, h, i - 1] for beta in momentum]
        theta, mom = momentum_gd_step(spec, layout, states[-1], mom, [-x for x in big_g], alpha, betas)
        states.append(theta)
    return states, mom


def run_and_read(
    spec: MemorySpec,
    init: Sequence[torch.Tensor],
    keys: torch.Tensor,
    values: torch.Tensor,
    lr: torch.Tensor,
    queries: torch.Tensor,
    point: str = "after",
    retention: torch.Tensor | None = None,
    momentum: Sequence[torch.Tensor] = (),
    init_momentum: Sequence[torch.Tensor] | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """One memory with one update and one read: (y [B, H, T, d_out], nl.final_state list)."""
    run = run_memory(spec, init, keys, values, lr, retention, momentum, init_momentum)
    return run.read(queries, point), run.final_state()
