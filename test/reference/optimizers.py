"""The optimizer levels of the semantics doc (section 6) written out in PyTorch, float64 by
default: what `nl-lower-optimizers` must compute for the rules torch.optim does not have (Muon,
M3) and for the pieces around every rule (the learning-rate schedule, clipping by global norm).
SGD with momentum and AdamW are checked against torch.optim itself (test/parity/
test_optimizers.py); `adamw_step` here is only the planted-error variant's base.

Definitions (docs/reference/NLDialect.md, nl.param_update, nl.moment, nl.lr_schedule,
nl.clip_grad_norm):
- NS5(m): X = m (transposed if it has more rows than columns), X = X / (||X||_F + 1e-7), five
  times X <- a X + (b A + c A A) X with A = X X^T, (a, b, c) = (3.4445, -4.7750, 2.0315),
  transposed back;
- Muon on a matrix: m <- momentum m + g; W <- W - lr NS5(m) (AdamW on the rest);
- M3 on a matrix: M1 <- M1 + beta1 g; V <- V + beta2 g^2; P <- P + g, and at steps t that are
  multiples of f, M2 <- M2 + beta3 P and P <- 0; W <- W - lr (NS5(M1) + alpha NS5(M2)) /
  (sqrt(V) + eps) (AdamW on the rest);
- schedule: lr(t) = base t / warmup for t <= warmup, then (total > 0) cosine decay from base to
  min_ratio base at t = total: min_ratio + (1 - min_ratio) (1 + cos(pi p)) / 2 with
  p = min(1, (t - warmup) / (total - warmup));
- clipping: every gradient times min(1, max_norm / (sqrt(sum ||g||^2) + 1e-6)).
"""

from __future__ import annotations

import math

import torch

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5
NS_NORM_EPS = 1e-7


def newton_schulz5(m: torch.Tensor) -> torch.Tensor:
    """The quintic Newton-Schulz orthogonalisation of a matrix, in m's dtype."""
    assert m.dim() == 2, "NS5 orthogonalises matrices"
    transposed = m.shape[0] > m.shape[1]
    x = m.T if transposed else m
    x = x / (torch.sqrt((x * x).sum()) + NS_NORM_EPS)
    a, b, c = NS_COEFFICIENTS
    for _ in range(NS_STEPS):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if transposed else x


def scheduled_lr(base: float, step: int, warmup: int = 0, total: int = 0,
                 min_ratio: float = 0.0) -> float:
    """nl.lr_schedule's rate at step `step` (from 1)."""
    if warmup > 0 and step <= warmup:
        return base * step / warmup
    if total > 0:
        progress = min(1.0, max(0.0, (step - warmup) / (total - warmup)))
        return base * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress)))
    return base


def clip_by_global_norm(grads: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    """nl.clip_grad_norm: the group scaled to a global 2-norm of at most max_norm."""
    norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    factor = min(1.0, max_norm / (norm + 1e-6))
    return [g * factor for g in grads]


def adamw_step(param, grad, m, v, lr, step, beta1, beta2, eps, weight_decay,
               bias_correction=True):
    """AdamW (decoupled decay, bias correction from the step count); returns (W, m, v).
    bias_correction=False is the planted error of the parity test."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    bc1 = 1 - beta1 ** step if bias_correction else 1.0
    bc2 = 1 - beta2 ** step if bias_correction else 1.0
    param = param * (1 - lr * weight_decay)
    param = param - (lr / bc1) * m / (torch.sqrt(v) / math.sqrt(bc2) + eps)
    return param, m, v


def muon_step(param, grad, m, lr, momentum):
    """Muon on a matrix; returns (W, m)."""
    m = momentum * m + grad
    return param - lr * newton_schulz5(m), m


def m3_step(param, grad, m1, m2, pending, v, lr, step, beta1, beta2, beta3, alpha, eps, every):
    """M3 on a matrix; returns (W, M1, M2, P, V)."""
    m1 = m1 + beta1 * grad
    v = v + beta2 * grad * grad
    pending = pending + grad
    if step % every == 0:
        m2 = m2 + beta3 * pending
        pending = torch.zeros_like(pending)
    direction = newton_schulz5(m1) + alpha * newton_schulz5(m2)
    param = param - lr * direction / (torch.sqrt(v) + eps)
    return param, m1, m2, pending, v
