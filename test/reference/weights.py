"""Seeded weights for the example models' signatures, and save/load helpers.

Reproducible in Python only: every tensor comes from numpy's PCG64 generator seeded with
SeedSequence([seed, crc32(name)]) and its standard normal, so a tensor depends on the seed and
its own name, not on which other weights exist. (The C++ side will have its own portable
counter-based generator, semantics §8; these numbers are not meant to match it.)

Shapes come from the model files (`mlir_signature` parses a func.func's arguments) or from the
`*_shapes` functions, which build the same names at any (small) size for tests.

Init rules, by name: RMSNorm / LayerNorm scales (`*norm`) 1 + 0.1 N(0,1); `conv` N(0,1)/W;
biases (`b_*`) 0.1 N(0,1); every other tensor N(0,1)/sqrt(last dim) (fan-in of W x), times
`memory_scale` for memory initial states (`mk_`, `mv_`, `meta_`, `malpha_`, `mmem_`, `mq_`,
`mem_`).
"""

from __future__ import annotations

import re
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

MEMORY_PREFIXES = ("mk_", "mv_", "meta_", "malpha_", "mmem_", "mq_", "mem_w")


def mlir_signature(path: str | Path, function: str | None = None) -> "OrderedDict[str, tuple]":
    """Argument names and shapes of a func.func in an .mlir file; '?' dims become None."""
    text = Path(path).read_text()
    pattern = r"func\.func\s+@(\w+)\s*\((.*?)\)\s*->"
    for name, args in re.findall(pattern, text, flags=re.S):
        if function is not None and name != function:
            continue
        out = OrderedDict()
        for arg, dims in re.findall(r"%(\w+)\s*:\s*tensor<([^>]*)>", args):
            parts = dims.split("x")[:-1]  # drop the element type
            out[arg] = tuple(None if p == "?" else int(p) for p in parts)
        return out
    raise ValueError(f"no func.func {function or ''} in {path}")


def hope_block_shapes(dim=512, heads=8, hidden=None, cms_hidden=(2048, 2048, 2048), window=4, adaptive_q=False,
                      linear_memory=False):
    """Weights of @hope_block (models/hope_block.mlir) at any size; defaults = the model file.
    linear_memory: M_mem's one weight mmem_w1 [H, d, d] (hope-models --memory-model=linear)."""
    d = dim // heads
    hidden = d if hidden is None else hidden
    s = OrderedDict()
    s["titans_norm"] = (dim,)
    s["conv"] = (dim, window)
    s["w_q"] = (dim, dim)
    s["w_o"] = (dim, dim)
    for m in ("mk", "mv"):
        s[f"{m}_w1"] = (heads, hidden, d)
        s[f"{m}_w2"] = (heads, d, hidden)
    for m in ("meta", "malpha"):
        s[f"{m}_w1"] = (heads, hidden, d)
        s[f"{m}_w2"] = (heads, 1, hidden)
        s[f"{m}_skip"] = (heads, 1, d)
    if linear_memory:
        s["mmem_w1"] = (heads, d, d)
    else:
        s["mmem_w1"] = (heads, hidden, d)
        s["mmem_w2"] = (heads, d, hidden)
    if adaptive_q:
        s["mq_w1"] = (heads, hidden, d)
        s["mq_w2"] = (heads, d, hidden)
    for l, hl in enumerate(cms_hidden):
        s[f"cms{l}_norm"] = (dim,)
        s[f"cms{l}_in"] = (hl, dim)
        s[f"cms{l}_out"] = (dim, hl)
    return s


def titans_memory_shapes(dim=384, heads=4, hidden=None, depth=2):
    """Weights of @titans_memory (models/titans_memory.mlir) at any size; defaults = the model file."""
    d = dim // heads
    hidden = 4 * d if hidden is None else hidden
    s = OrderedDict()
    s["store_norm"] = (dim,)
    s["retrieve_norm"] = (dim,)
    s["w_k"] = (dim, dim)
    s["w_v"] = (dim, dim)
    s["w_q"] = (dim, dim)
    s["w_lr"] = (heads, dim)
    s["w_momentum"] = (heads, dim)
    s["w_retention"] = (heads, dim)
    s["w_out"] = (dim, dim)
    dims = [d] + [hidden] * (depth - 1) + [d]
    for l in range(depth):
        s[f"mem_w{l + 1}"] = (heads, dims[l + 1], dims[l])
    s["mem_norm"] = (heads, d)
    return s


def _normal(seed: int, name: str, shape) -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(name.encode())])))
    return rng.standard_normal(size=shape)


def generate(shapes, seed: int = 0, dtype=torch.float64, memory_scale: float = 1.0) -> "OrderedDict[str, torch.Tensor]":
    """Seeded weights for {name: shape} (see the module docstring for the init rules)."""
    out = OrderedDict()
    for name, shape in shapes.items():
        if any(d is None for d in shape):
            raise ValueError(f"{name}: dynamic shape {shape}")
        z = _normal(seed, name, shape)
        if name.endswith("norm"):
            a = 1.0 + 0.1 * z
        elif name == "conv":
            a = z / shape[-1]
        elif name.startswith("b_"):
            a = 0.1 * z
        else:
            a = z / np.sqrt(shape[-1])
            if name.startswith(MEMORY_PREFIXES):
                a = a * memory_scale
        out[name] = torch.from_numpy(np.ascontiguousarray(a)).to(dtype)
    return out


def save_safetensors(weights: dict, path: str | Path, metadata: dict | None = None) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous() for k, v in weights.items()}, str(path), metadata=metadata)


def load_safetensors(path: str | Path) -> dict:
    from safetensors.torch import load_file

    return dict(load_file(str(path)))


def save_npy(weights: dict, directory: str | Path) -> None:
    """One <name>.npy per tensor in `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for k, v in weights.items():
        np.save(directory / f"{k}.npy", v.detach().cpu().numpy())


def load_npy(directory: str | Path) -> dict:
    return {p.stem: torch.from_numpy(np.load(p)) for p in sorted(Path(directory).glob("*.npy"))}
