"""Gradients of the HOPE block (self-modifying Titans: the causal convolution and five DGD
memories in one chunk loop, then a frozen CMS) through every inner update, float64, for
loss = sum(y * R):

* without stop-gradient (nl.stop_gradient lowered to the identity before nl-differentiate, so
  the self-generated targets vhat are differentiated too): d loss / d (x, every weight) from the
  compiled `hope_block_vjp` equal central finite differences of the compiled forward along a
  random direction per input;
* with the model's stop-gradient on vhat kept (`nl-lower-blocks-to-linalg{keep-stop-gradient}`):
  the forward equals the token-by-token reference, M_v (which only feeds stop-gradient targets)
  gets exactly zero, the weights downstream of every stop-gradient (w_q, w_o, CMS) equal finite
  differences, and the memories' weights differ from the variant without it.

PyTorch autograd through test/reference/hope_block.py checks the block's train_step
(test_train_step.py, test_small_gradients.py); this file checks the VJP entry point against
finite differences and the stop-gradient variants. Memory levels are checked against autograd
in test_memory_gradients.py."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import torch

from artifact import Artifact, relative_error
from reference import hope_block as HB
from reference import weights as W

DIM, HEADS, CMS_HIDDEN, ETA_SCALE, TOKENS = 16, 2, 64, 0.3, 11


def _pipeline(keep_stop_gradient: bool) -> str:
    lower = "nl-lower-blocks-to-linalg{keep-stop-gradient=true}" if keep_stop_gradient \
        else "nl-lower-blocks-to-linalg"
    return (f"builtin.module({lower},func.func(convert-elementwise-to-linalg),canonicalize,cse,"
            "nl-differentiate{functions=hope_block})")


def _run(command):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")


@pytest.fixture(scope="module")
def model(hope_models, hope_compile, hope_opt, tmp_path_factory):
    directory = tmp_path_factory.mktemp("hope_gradients")
    source, tensors = directory / "hope.mlir", directory / "hope.tensors.mlir"
    _run([hope_models, "hope-block", "--config=tiny", f"--width={DIM}", f"--heads={HEADS}",
          f"--hidden={DIM // HEADS}", "--chunk=2", "--chunk-memory=4", f"--eta-scale={ETA_SCALE}",
          "--dtype=f64", "-o", source])
    names = re.findall(r'nl\.weight = "([^"]*)"', source.read_text())
    _run([hope_compile, source, "--compile-to=memories", "-o", tensors])
    artifacts = {}
    for keep in (False, True):
        vjp, library = directory / f"vjp-{keep}.mlir", directory / f"vjp-{keep}.so"
        _run([hope_opt, tensors, f"--pass-pipeline={_pipeline(keep)}", "-o", vjp])
        _run([hope_compile, vjp, "-o", library])
        artifacts[keep] = Artifact(library)
    weights = W.generate(W.hope_block_shapes(dim=DIM, heads=HEADS, cms_hidden=(CMS_HIDDEN,) * 3),
                         seed=3, dtype=torch.float64)
    x = torch.randn(2, TOKENS, DIM, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    inputs = [x.numpy()] + [weights[n].numpy() for n in names]
    return artifacts, ["x", *names], inputs, weights, x


def _directional_errors(artifact, names, inputs, only=None):
    """|fd - <vjp, u>| / max(|fd|, 1e-2) per input, u random, central differences (h = 1e-5)."""
    rng = np.random.default_rng(5)
    cotangent = rng.standard_normal(inputs[0].shape)
    gradients = artifact("hope_block_vjp", *inputs, cotangent)[1:]
    loss = lambda values: float(np.sum(artifact("hope_block", *values)[0] * cotangent))
    errors, derivatives = {}, {}
    for index, name in enumerate(names):
        direction = rng.standard_normal(inputs[index].shape)
        if only is not None and name not in only:
            derivatives[name] = float(np.sum(gradients[index] * direction))
            continue
        up, down = list(inputs), list(inputs)
        up[index] = inputs[index] + 1e-5 * direction
        down[index] = inputs[index] - 1e-5 * direction
        finite = (loss(up) - loss(down)) / 2e-5
        derivatives[name] = float(np.sum(gradients[index] * direction))
        errors[name] = abs(finite - derivatives[name]) / max(abs(finite), 1e-2)
        print(f"{name}: d/d along u {derivatives[name]: .6e}, finite differences {finite: .6e}, "
              f"error {errors[name]:.1e}")
    return errors, gradients, derivatives


def test_without_stop_gradient_equals_finite_differences(model):
    artifacts, names, inputs, _, _ = model
    errors, _, _ = _directional_errors(artifacts[False], names, inputs)
    assert max(errors.values()) < 1e-6, errors


def test_with_stop_gradient(model):
    artifacts, names, inputs, weights, x = model
    options = HB.HopeOptions(HB.SelfModOptions(heads=HEADS, chunk_other=2, chunk_mem=4,
                                               eta_scale=ETA_SCALE))
    reference = HB.hope_block(x, weights, options).numpy()
    (y,) = artifacts[True]("hope_block", *inputs)
    assert relative_error(y, reference) < 1e-9

    downstream = {"w_q", "w_o"} | {n for n in names if n.startswith("cms")}
    errors, gradients, kept = _directional_errors(artifacts[True], names, inputs, only=downstream)
    assert max(errors.values()) < 1e-6, errors
    for name in ("mv_w1", "mv_w2"):  # M_v's outputs only reach stop-gradient targets
        assert not np.any(gradients[names.index(name)])
    _, _, through = _directional_errors(artifacts[False], names, inputs, only=set())
    for name in ("mk_w1", "meta_w1", "malpha_w1"):
        assert abs(kept[name] - through[name]) > 1e-3 * abs(through[name]), name
