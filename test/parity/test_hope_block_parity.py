"""The compiled HOPE block (self-modifying Titans, all five memories scheduled jointly in one
loop over blocks of gcd(C_other, C_mem) tokens, then a frozen CMS chain) against the
token-by-token reference test/reference/hope_block.py, in float64 and float32. The IR is
models/hope_block.mlir with its sizes as parameters (hope_block_template.txt is made from it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from artifact import Artifact, compile_module
from reference import hope_block as HB
from reference import weights as W

TEMPLATE = (Path(__file__).parent / "hope_block_template.txt").read_text()


def hope_block_ir(dim, heads, cms_hidden, chunk_other, chunk_mem, cms_chunks, eta_scale, element):
    return TEMPLATE.format(H=heads, DH=dim // heads, D=dim, CH=cms_hidden, CO=chunk_other,
                           CM=chunk_mem, CMS=", ".join(map(str, cms_chunks)), W=4,
                           ETA=f"{eta_scale:.6e}", E=element)


@pytest.mark.parametrize("element,tolerance", [("f64", 1e-9), ("f32", 1e-4)])
@pytest.mark.parametrize("chunk_other,chunk_mem,tokens", [(2, 4, 11), (1, 2, 6), (4, 4, 9)])
def test_hope_block(hope_compile, tmp_path, element, tolerance, chunk_other, chunk_mem, tokens):
    dim, heads, cms_hidden, eta_scale = 16, 2, 32, 0.3
    source = hope_block_ir(dim, heads, cms_hidden, chunk_other, chunk_mem, (1, 4, 8), eta_scale, element)
    artifact = Artifact(compile_module(hope_compile, source, tmp_path, "hope_block"))

    weights = W.generate(W.hope_block_shapes(dim=dim, heads=heads, cms_hidden=(cms_hidden,) * 3),
                         seed=3, dtype=torch.float64)
    x = torch.randn(2, tokens, dim, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    options = HB.HopeOptions(HB.SelfModOptions(heads=heads, chunk_other=chunk_other,
                                               chunk_mem=chunk_mem, eta_scale=eta_scale))
    reference = HB.hope_block(x, weights, options).numpy()

    numpy_type = np.float64 if element == "f64" else np.float32
    entry = artifact.entry("hope_block")
    inputs = [x.numpy().astype(numpy_type)] + [
        weights[spec["name"]].numpy().astype(numpy_type) for spec in entry["inputs"][1:]]
    (y,) = artifact("hope_block", *inputs)
    error = np.abs(y - reference).max() / np.abs(reference).max()
    assert error < tolerance
