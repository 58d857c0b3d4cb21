"""The compiled tiny HOPE language model (`hope-models hope-lm --config=tiny`: embedding, two
HOPE blocks, RMSNorm, LM head) against the token-by-token reference test/reference/hope_lm.py,
float64 to 1e-9 and float32 to 1e-5 (semantics doc, section 8). Two blocks exercise the staged memory lowering: the second
block's memories learn from the first block's whole-sequence output (after its convolution and
CMS), in a second chunk loop. Five blocks exercise nl-split-large-functions: the middle blocks
become one outlined function called once per block (with its own weights each time)."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import torch

from artifact import build_seeded_model
from reference import hope_block as HB
from reference import hope_lm as LM

ETA_SCALE = 0.3  # larger than the default, so that the memories move


@pytest.mark.parametrize("element,numpy_type,tolerance,layers", [
    ("f64", np.float64, 1e-9, 2), ("f32", np.float32, 1e-5, 2), ("f64", np.float64, 1e-9, 5)])
def test_tiny_hope_lm(hope_models, hope_compile, tmp_path, element, numpy_type, tolerance, layers):
    name = f"lm_{element}_{layers}"
    model = build_seeded_model(hope_models, hope_compile, tmp_path, name, [
        "hope-lm", "--config=tiny", f"--layers={layers}", f"--eta-scale={ETA_SCALE}",
        f"--dtype={element}", "--seed=5"])
    if layers == 5:
        # The two middle blocks run the same outlined function.
        ir = subprocess.run([str(hope_compile), str(tmp_path / f"{name}.mlir"), "--compile-to=bufferized"],
                            capture_output=True, text=True, check=True).stdout
        calls = re.findall(r"call @(hope_lm\.part\d+)", ir)
        assert len(calls) > len(set(calls)), calls
    tokens = torch.randint(0, 256, (2, 11), generator=torch.Generator().manual_seed(6))
    options = HB.HopeOptions(HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=ETA_SCALE))
    reference = LM.hope_lm(tokens, model.weights, options).numpy()
    assert reference.shape == (2, 11, 256)  # and the logits' shape: model.error checks they agree
    assert model.error("hope_lm", tokens.numpy(), reference, numpy_type) < tolerance


def test_tiny_hope_attention_lm(hope_models, hope_compile, tmp_path):
    """The tiny LM with HOPE-Attention blocks (`--mixer=attention`), float64."""
    model = build_seeded_model(hope_models, hope_compile, tmp_path, "attention_lm", [
        "hope-lm", "--config=tiny", "--mixer=attention", "--dtype=f64", "--seed=13"])
    tokens = torch.randint(0, 256, (2, 9), generator=torch.Generator().manual_seed(14))
    options = HB.HopeOptions(HB.SelfModOptions(heads=2), mixer="attention")
    reference = LM.hope_lm(tokens, model.weights, options).numpy()
    assert model.error("hope_lm", tokens.numpy(), reference, np.float64) < 1e-9
