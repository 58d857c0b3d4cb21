"""Gradients of the HOPE block (self-modifying Titans with its five DGD memories, vhat behind
nl.stop_gradient, the causal convolution, then a frozen CMS) through every inner update:
d sum(y * R) / d (x, every weight) from the compiled `hope_block_vjp` against PyTorch autograd
through the token-by-token reference (test/reference/hope_block.py), float64. The IR is lowered
with nl.stop_gradient kept (`nl-lower-blocks-to-linalg{keep-stop-gradient}`), differentiated,
then compiled."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import torch

from artifact import Artifact, relative_error
from reference import hope_block as HB
from reference import weights as W

DIM, HEADS, CMS_HIDDEN, ETA_SCALE = 16, 2, 64, 0.3
PIPELINE = ("builtin.module(nl-lower-blocks-to-linalg{keep-stop-gradient=true},"
            "func.func(convert-elementwise-to-linalg),canonicalize,cse,"
            "nl-differentiate{functions=hope_block})")


def _run(command):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")


def test_hope_block_gradients(hope_models, hope_compile, hope_opt, tmp_path):
    source, tensors, vjp, library = (tmp_path / f"hope.{s}" for s in
                                     ("mlir", "tensors.mlir", "vjp.mlir", "so"))
    _run([hope_models, "hope-block", "--config=tiny", f"--width={DIM}", f"--heads={HEADS}",
          f"--hidden={DIM // HEADS}", "--chunk=2", "--chunk-memory=4", f"--eta-scale={ETA_SCALE}",
          "--dtype=f64", "-o", source])
    names = re.findall(r'nl\.weight = "([^"]*)"', source.read_text().split("\n{", 1)[0])
    _run([hope_compile, source, "--compile-to=memories", "-o", tensors])
    _run([hope_opt, tensors, f"--pass-pipeline={PIPELINE}", "-o", vjp])
    _run([hope_compile, vjp, "-o", library])
    artifact = Artifact(library)

    weights = W.generate(W.hope_block_shapes(dim=DIM, heads=HEADS, cms_hidden=(CMS_HIDDEN,) * 3),
                         seed=3, dtype=torch.float64)
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(2, 11, DIM, generator=gen, dtype=torch.float64)
    cotangent = torch.randn(2, 11, DIM, generator=gen, dtype=torch.float64)

    leaves = {"x": x.clone().requires_grad_()}
    leaves.update({n: weights[n].clone().requires_grad_() for n in names})
    options = HB.HopeOptions(HB.SelfModOptions(heads=HEADS, chunk_other=2, chunk_mem=4,
                                               eta_scale=ETA_SCALE))
    y = HB.hope_block(leaves["x"], {n: leaves[n] for n in names}, options)
    references = torch.autograd.grad((y * cotangent).sum(), list(leaves.values()), allow_unused=True)

    outputs = artifact("hope_block_vjp", x.numpy(), *[weights[n].numpy() for n in names],
                       cotangent.numpy())
    assert relative_error(outputs[0], y.detach().numpy()) < 1e-9
    errors = {}
    for name, gradient, reference in zip(leaves, outputs[1:], references):
        reference = np.zeros_like(gradient) if reference is None else reference.numpy()
        errors[name] = relative_error(gradient, reference) if np.abs(reference).max() else \
            float(np.abs(gradient).max())
        print(f"d/d {name}: error {errors[name]:.1e}")
    assert max(errors.values()) < 1e-9, errors
