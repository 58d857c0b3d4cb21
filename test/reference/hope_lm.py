"""@hope_lm of `hope-models hope-lm` (models/lib/HopeBlock.cpp, buildHopeLM), token by token.

Token embedding (a table row per id), N HOPE blocks (hope_block.py; block l's weights are named
"layer<l>.<name>"), RMSNorm, LM head (untied): logits [B, T, vocabulary]."""

from __future__ import annotations

import torch

from . import hope_block as HB
from . import nl_ops


def layer_weights(weights: dict, layer: int) -> dict:
    prefix = f"layer{layer}."
    return {name[len(prefix):]: value for name, value in weights.items() if name.startswith(prefix)}


def hope_lm(tokens: torch.Tensor, weights: dict, opts: HB.HopeOptions = HB.HopeOptions()) -> torch.Tensor:
    layers = len({name.split(".")[0] for name in weights if name.startswith("layer")})
    x = weights["embedding"][tokens]
    for layer in range(layers):
        x = HB.hope_block(x, layer_weights(weights, layer), opts)
    return nl_ops.linear(nl_ops.rms_norm(x, weights["final_norm"]), weights["lm_head"])
