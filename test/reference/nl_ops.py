"""Stateless building blocks of the `nl` dialect, exactly as docs/reference/NLDialect.md defines them.

Every function works on any float dtype (the references run in float64 and float32) and
is differentiable with torch.autograd. Written for clarity, not speed.

Conventions (NLDialect.md, "Conventions"): sequences [B, T, D], per-head sequences
[B, H, T, d], per-token rates [B, H, T], per-chunk rates [B, H, ceil(T/C)]; matrices act
on the left, a weight [out, in] maps x to W x.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: Default epsilons of the ops (dialect/include/nl/IR/NLOps.td).
RMS_NORM_EPS = 1e-6
L2_NORMALIZE_EPS = 1e-12


def linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """`nl.linear`: y = W x over the last dimension; x [..., d_in], weight [d_out, d_in]."""
    return torch.einsum("oi,...i->...o", weight, x)


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """`nl.split_heads`: [B, T, H*d] -> [B, H, T, d] (head h holds features h*d .. h*d+d-1)."""
    b, t, hd = x.shape
    if hd % heads:
        raise ValueError(f"width {hd} is not a multiple of {heads} heads")
    return x.reshape(b, t, heads, hd // heads).permute(0, 2, 1, 3)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """`nl.merge_heads`: [B, H, T, d] -> [B, T, H*d], the inverse of split_heads."""
    b, h, t, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, t, h * d)


def rms_norm(x: torch.Tensor, scale: torch.Tensor, eps: float = RMS_NORM_EPS) -> torch.Tensor:
    """`nl.rms_norm`: y = scale * x / sqrt(mean(x^2) + eps) over the last dimension."""
    return scale * x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps)


def l2_normalize(x: torch.Tensor, eps: float = L2_NORMALIZE_EPS) -> torch.Tensor:
    """`nl.l2_normalize`: x / max(||x||_2, eps) over the last dimension."""
    norm = torch.sqrt((x * x).sum(dim=-1, keepdim=True))
    return x / torch.clamp(norm, min=eps)


def activation(kind: str, x: torch.Tensor) -> torch.Tensor:
    """`nl.activation` (and the activation of `#nl.mlp`, `nl.cms`).

    silu: x * sigmoid(x); gelu: the EXACT (erf) form x/2 (1 + erf(x / sqrt 2)), not the tanh
    approximation; sigmoid: 1 / (1 + exp(-x)); softplus: log(1 + exp(x)) (no beta, no threshold
    cut-off beyond what torch's stable evaluation does).
    """
    if kind == "silu":
        return x * torch.sigmoid(x)
    if kind == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "softplus":
        return F.softplus(x)
    raise ValueError(f"unknown activation {kind!r}")


def rate(kind: str, x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """`nl.rate`: [B, H, T, 1] -> [B, H, T], scale * s(x) with s = sigmoid or softplus."""
    if x.shape[-1] != 1:
        raise ValueError(f"nl.rate needs a width-1 last dimension, got {tuple(x.shape)}")
    if kind not in ("sigmoid", "softplus"):
        raise ValueError(f"nl.rate kind must be sigmoid or softplus, got {kind!r}")
    return scale * activation(kind, x[..., 0])


def causal_conv(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """`nl.causal_conv`: y[b,t,c] = sum_{j<W} weight[c,j] x[b, t-(W-1)+j, c], zeros before token 1.

    x [B, T, D], weight [D, W]. Written as the literal sum.
    """
    b, t, d = x.shape
    width = weight.shape[1]
    padded = torch.cat([x.new_zeros(b, width - 1, d), x], dim=1)  # padded[:, (W-1)+s] = x[:, s]
    y = x.new_zeros(b, t, d)
    for j in range(width):
        # token s reads x[s - (W-1) + j] = padded[s + j]
        y = y + weight[:, j] * padded[:, j : j + t, :]
    return y


def chunk_pool(x: torch.Tensor, chunk: int) -> torch.Tensor:
    """`nl.chunk_pool`: [B, T, D] -> [B, ceil(T/C), D], the mean of every chunk of C tokens;
    the last chunk may be shorter (the mean of its own tokens)."""
    t = x.shape[1]
    pieces = [x[:, s : min(s + chunk, t)].mean(dim=1) for s in range(0, t, chunk)]
    return torch.stack(pieces, dim=1)


def chunk_of(t: int, chunk: int) -> int:
    """0-based chunk index of the 0-based token index t."""
    return t // chunk
