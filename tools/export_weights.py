#!/usr/bin/env python3
"""Export the weights of a public implementation under the project's names and layout.

Usage
-----
    python tools/export_weights.py titans-pytorch   STATE_DICT.pt OUT.safetensors [--dtype float32]
                                                    [--titans-pytorch-norm]
    python tools/export_weights.py nested-learning  STATE_DICT.pt OUT.safetensors [--dtype float32]

STATE_DICT.pt is `torch.save(module.state_dict(), path)` of a titans-pytorch `NeuralMemory`
(-> the arguments of @titans_memory, models/titans_memory.mlir) or of a nested-learning
`SelfModifyingTitans` (-> the self-modifying Titans arguments of @hope_block,
models/hope_block.mlir, with H = 1 head). OUT gets one tensor per argument name (x excluded), plus
the extra tensors of the features the model files do not express (README of test/reference,
"Differences"). Needs torch and safetensors (scripts/python-env.sh). As a library:
`titans_pytorch_to_project(state_dict)`, `nested_learning_to_project(state_dict)`.

Layout: the project's matrices act on the left, W [out, in] maps x to W x (NLDialect.md).
torch.nn.Linear stores [out, in] already (no transpose); titans-pytorch's MemoryMLP stores
[in, out] and computes x @ W (transposed here).

Name mapping, titans-pytorch NeuralMemory (H heads, momentum order O):
    store_norm.weight / retrieve_norm.weight  -> store_norm / retrieve_norm        [D]
    to_keys / to_values / to_queries .weight  -> w_k / w_v / w_q                   [H*d, D]
    to_adaptive_step.0.weight, .bias          -> w_lr [H, D], b_lr [H]
    to_momentum.0.weight, .bias               -> w_momentum [H, D] (O = 1) or [O, H, D];
                                                 row h*O + o of the package is (o, h); b_momentum
    to_decay_factor.0.weight, .bias           -> w_retention = -W, b_retention = -b
                                                 (retention alpha = 1 - sigmoid(z) = sigmoid(-z))
    combine_heads.weight                      -> w_out [D, H*d] (the identity when H = 1)
    memory_model_parameters.i (weights.l)     -> mem_w{l+1} = transpose: [H, out, in]
    memory_model_parameters.i (norm.gamma)    -> mem_norm = gamma + 1 (the LayerNorm scale), or
                                                 mem_norm_gamma = gamma with --titans-pytorch-norm
    retrieve_gate.0.weight                    -> w_gate [H, D]               (H > 1 only)
    q_norm.gamma / k_norm.gamma               -> q_norm / k_norm = gamma + 1 [H, d] (qk_rmsnorm)
    multihead_rmsnorm.gamma                   -> out_norm = gamma + 1 [H, d]        (post_rmsnorm)
  per_head_learned_parameters = False: the shared memory weights are repeated over the H heads.
  Supported memory models: MemoryMLP (optionally inside the default ResidualNorm).

Name mapping, nested-learning SelfModifyingTitans (one head; note the package's w2 is the
INPUT-side matrix and w1 the output-side one):
    local_conv.weight [D, 1, W]               -> conv [D, W]
    w_q.weight                                -> w_q
    m_k.w2.weight / m_k.w1.weight             -> mk_w1 [1, hidden, D] / mk_w2 [1, D, hidden]
    m_v, m_memory, m_q                        -> mv_*, mmem_*, mq_* likewise
    m_eta.w2 / m_eta.w1 / m_eta.w_skip        -> meta_w1 / meta_w2 / meta_skip      [1, ...]
    m_alpha.*                                 -> malpha_*
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

import torch

# The keys each source's state dict must have (to_keys etc. may also be to_keys.0.weight).
REQUIRED_KEYS = {
    "titans-pytorch": ("store_norm.weight", "retrieve_norm.weight", "to_keys.weight",
                       "to_values.weight", "to_queries.weight", "to_adaptive_step.0.weight",
                       "to_adaptive_step.0.bias", "to_decay_factor.0.weight",
                       "to_decay_factor.0.bias", "memory_model_parameters.0"),
    "nested-learning": ("w_q.weight",) + tuple(
        f"{memory}.{param}.weight" for memory in ("m_k", "m_v", "m_eta", "m_alpha", "m_memory", "m_q")
        for param in ("w1", "w2")),
}
DESCRIPTIONS = {"titans-pytorch": "a titans-pytorch NeuralMemory",
                "nested-learning": "a nested-learning SelfModifyingTitans"}


class ExportError(Exception):
    """A user mistake: main prints it as one line and exits 1."""


def _missing_keys(sd: Mapping, source: str) -> list[str]:
    def present(key: str) -> bool:
        return key in sd or key.replace(".weight", ".0.weight") in sd
    return [key for key in REQUIRED_KEYS[source] if not present(key)]


def check_state_dict(sd, source: str, path: str = "the state dict") -> None:
    """Raises ExportError naming the expected and missing keys unless `sd` looks like `source`'s."""
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ExportError(f"{path}: expected a state dict (torch.save(module.state_dict(), path)) of "
                          f"{DESCRIPTIONS[source]}, got {type(sd).__name__}")
    missing = _missing_keys(sd, source)
    if not missing:
        return
    others = [other for other in REQUIRED_KEYS if other != source and not _missing_keys(sd, other)]
    hint = f"; it looks like {DESCRIPTIONS[others[0]]}: give '{others[0]}'" if others else ""
    shown = ", ".join(sorted(sd)[:8]) + (", ..." if len(sd) > 8 else "")
    raise ExportError(f"{path} is not {DESCRIPTIONS[source]} state dict: missing "
                      f"{', '.join(missing)} (it has {len(sd)} keys: {shown or 'none'}){hint}")


def _strip(sd: dict, name: str):
    """to_keys.weight, or to_keys.0.weight when an activation follows the projection."""
    for key in (f"{name}.weight", f"{name}.0.weight"):
        if key in sd:
            return sd[key]
    raise KeyError(f"{name}.weight")


def titans_pytorch_to_project(sd: dict, norm_gamma: bool = False) -> dict:
    """titans-pytorch NeuralMemory state_dict -> @titans_memory weights (+ extras).

    norm_gamma: mem_norm_gamma is the package's gamma itself, for a model whose memory has
    `norm_offset = 1.0` (hope-models titans-memory --config=titans-pytorch); by default it is
    the LayerNorm scale gamma + 1 (models/titans_memory.mlir, test/reference)."""
    if "store_norm.weight" not in sd:
        raise ValueError("pre_rmsnorm = False (no store/retrieve RMSNorm) is not expressible by the model file")
    heads = sd["to_decay_factor.0.weight"].shape[0]
    if sd["to_adaptive_step.0.weight"].shape[0] != heads:
        raise ValueError("num_kv_per_token > 1 is not supported")
    out = {
        "store_norm": sd["store_norm.weight"],
        "retrieve_norm": sd["retrieve_norm.weight"],
        "w_k": _strip(sd, "to_keys"),
        "w_v": _strip(sd, "to_values"),
        "w_q": _strip(sd, "to_queries"),
        "w_lr": sd["to_adaptive_step.0.weight"],
        "b_lr": sd["to_adaptive_step.0.bias"],
    }
    if "to_momentum.0.weight" in sd:
        wm, bm = sd["to_momentum.0.weight"], sd["to_momentum.0.bias"]
        order = wm.shape[0] // heads
        if order == 1:
            out["w_momentum"], out["b_momentum"] = wm, bm
        else:  # package row h*O + o  ->  [o, h]
            out["w_momentum"] = wm.reshape(heads, order, -1).transpose(0, 1).contiguous()
            out["b_momentum"] = bm.reshape(heads, order).transpose(0, 1).contiguous()
    out["w_retention"] = -sd["to_decay_factor.0.weight"]
    out["b_retention"] = -sd["to_decay_factor.0.bias"]
    dim_inner = out["w_k"].shape[0]
    dim = out["w_k"].shape[1]
    if "combine_heads.weight" in sd:
        out["w_out"] = sd["combine_heads.weight"]
    else:
        out["w_out"] = torch.eye(dim, dim_inner, dtype=out["w_k"].dtype)
    d = dim_inner // heads

    # memory model parameters, named by the memory_model.* keys in registration order
    names = [k[len("memory_model."):] for k in sd if k.startswith("memory_model.")]
    n_layer = 0
    for i, name in enumerate(names):
        p = sd[f"memory_model_parameters.{i}"]
        if name.endswith("norm.gamma"):
            per_head = p.ndim == 2
            scale = p if norm_gamma else p + 1.0
            out["mem_norm_gamma" if norm_gamma else "mem_norm"] = (
                scale if per_head else scale.expand(heads, *scale.shape).contiguous())
        elif "weights." in name and name.rsplit("weights.", 1)[1].isdigit():
            layer = int(name.rsplit(".", 1)[1])
            per_head = p.ndim == 3
            w = p.transpose(-1, -2)
            out[f"mem_w{layer + 1}"] = (w if per_head else w.expand(heads, *w.shape)).contiguous()
            n_layer = max(n_layer, layer + 1)
        else:
            raise ValueError(f"memory model parameter {name!r} is not a MemoryMLP / ResidualNorm one")

    if "retrieve_gate.0.weight" in sd:
        out["w_gate"] = sd["retrieve_gate.0.weight"]
    for pkg, ours in (("q_norm.gamma", "q_norm"), ("k_norm.gamma", "k_norm"), ("multihead_rmsnorm.gamma", "out_norm")):
        if pkg in sd:
            out[ours] = (sd[pkg][:, 0, :] + 1.0).contiguous()
    unsupported = [k for k in sd if k.split(".")[0] in (
        "to_layer_modulation", "to_learned_momentum_combine", "to_learned_weight_residual_mix", "transition_gate")]
    unsupported += [k for k in sd if k.startswith("reduce_to_chunk_rep.")]  # attention pooling
    if unsupported:
        raise ValueError(f"not expressible by the model file / reference: {sorted(set(unsupported))}")
    if "mem_w1" not in out:
        raise ValueError("the memory model has no weights (memory_model.weights.0)")
    if d != out["mem_w1"].shape[-1]:
        raise ValueError(f"the memory's input width {out['mem_w1'].shape[-1]} differs from "
                         f"the head width {d}")
    return out


def nested_learning_to_project(sd: dict) -> dict:
    """nested-learning SelfModifyingTitans state_dict -> @hope_block's Titans weights (H = 1)."""
    out = {}
    if "local_conv.weight" in sd:
        out["conv"] = sd["local_conv.weight"][:, 0, :].contiguous()
    out["w_q"] = sd["w_q.weight"]
    for pkg, ours in (("m_k", "mk"), ("m_v", "mv"), ("m_eta", "meta"), ("m_alpha", "malpha"),
                      ("m_memory", "mmem"), ("m_q", "mq")):
        out[f"{ours}_w1"] = sd[f"{pkg}.w2.weight"].unsqueeze(0).contiguous()  # input side
        out[f"{ours}_w2"] = sd[f"{pkg}.w1.weight"].unsqueeze(0).contiguous()  # output side
        if f"{pkg}.w_skip.weight" in sd:
            out[f"{ours}_skip"] = sd[f"{pkg}.w_skip.weight"].unsqueeze(0).contiguous()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", choices=["titans-pytorch", "nested-learning"])
    ap.add_argument("state_dict")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["float32", "float64"], default=None,
                    help="convert every tensor (default: keep the stored dtype)")
    ap.add_argument("--titans-pytorch-norm", action="store_true",
                    help="titans-pytorch: mem_norm = gamma (for hope-models titans-memory "
                         "--config=titans-pytorch, whose memory scales by gamma + 1)")
    args = ap.parse_args(argv)
    try:
        weights = export(args)
    except ExportError as error:
        print(f"export_weights.py: error: {error}", file=sys.stderr)
        return 1
    for k, v in weights.items():
        print(f"{k:16s} {tuple(v.shape)}")
    return 0


def export(args) -> dict:
    """Reads, converts and writes; every user mistake is an ExportError."""
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise ExportError(f"cannot write {args.out}: folder {folder} does not exist")
    if not os.path.isfile(args.state_dict):
        raise ExportError(f"cannot read {args.state_dict}: not a file")
    try:
        sd = torch.load(args.state_dict, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a file it cannot unpickle
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExportError(f"cannot read {args.state_dict} as a torch.save file of a state dict: "
                          f"{reason}") from None
    check_state_dict(sd, args.source, args.state_dict)
    try:
        if args.source == "titans-pytorch":
            weights = titans_pytorch_to_project(dict(sd), norm_gamma=args.titans_pytorch_norm)
        else:
            weights = nested_learning_to_project(dict(sd))
    except (KeyError, ValueError, IndexError, RuntimeError) as error:
        raise ExportError(f"{args.state_dict}: cannot export as {DESCRIPTIONS[args.source]}: "
                          f"{error}") from None
    if args.dtype:
        weights = {k: v.to(getattr(torch, args.dtype)) for k, v in weights.items()}
    from safetensors.torch import save_file

    try:
        save_file({k: v.detach().contiguous() for k, v in weights.items()}, args.out,
                  metadata={"source": args.source})
    except OSError as error:
        raise ExportError(f"cannot write {args.out}: {error.strerror or error}") from None
    return weights


if __name__ == "__main__":
    sys.exit(main())
