"""The compiled tiny HOPE language model (`hope-models hope-lm --config=tiny`: embedding, two
HOPE blocks, RMSNorm, LM head) against the token-by-token reference test/reference/hope_lm.py,
float64 to 1e-9 and float32 to 1e-4. Two blocks exercise the staged memory lowering: the second
block's memories learn from the first block's whole-sequence output (after its convolution and
CMS), in a second chunk loop. Five blocks exercise nl-split-large-functions: the middle blocks
become one outlined function called once per block (with its own weights each time)."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from artifact import Artifact, build_model
from reference import hope_block as HB
from reference import hope_lm as LM

ETA_SCALE = 0.3  # larger than the default, so that the memories move


@pytest.mark.parametrize("element,numpy_type,tolerance,layers", [
    ("f64", np.float64, 1e-9, 2), ("f32", np.float32, 1e-4, 2), ("f64", np.float64, 1e-9, 5)])
def test_tiny_hope_lm(hope_models, hope_compile, tmp_path, element, numpy_type, tolerance, layers):
    name = f"lm_{element}_{layers}"
    weights_file = tmp_path / f"{name}.safetensors"
    library = build_model(hope_models, hope_compile, tmp_path, name, [
        "hope-lm", "--config=tiny", f"--layers={layers}", f"--eta-scale={ETA_SCALE}",
        f"--dtype={element}", f"--weights-out={weights_file}", "--seed=5"])
    artifact = Artifact(library)
    if layers == 5:
        # The two middle blocks run the same outlined function.
        ir = subprocess.run([str(hope_compile), str(tmp_path / f"{name}.mlir"), "--compile-to=bufferized"],
                            capture_output=True, text=True, check=True).stdout
        calls = re.findall(r"call @(hope_lm\.part\d+)", ir)
        assert len(calls) > len(set(calls)), calls
    weights = {name: value.double() for name, value in load_file(str(weights_file)).items()}
    tokens = torch.randint(0, 256, (2, 11), generator=torch.Generator().manual_seed(6))
    options = HB.HopeOptions(HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=ETA_SCALE))
    reference = LM.hope_lm(tokens, weights, options).numpy()

    (logits,) = artifact.run_with_weights("hope_lm", tokens.numpy(), weights, numpy_type)
    assert logits.shape == (2, 11, 256)
    error = np.abs(logits - reference).max() / np.abs(reference).max()
    print(f"{element} error {error:.1e}")
    assert error < tolerance


def test_tiny_hope_attention_lm(hope_models, hope_compile, tmp_path):
    """The tiny LM with HOPE-Attention blocks (`--mixer=attention`), float64."""
    weights_file = tmp_path / "attention_lm.safetensors"
    artifact = Artifact(build_model(hope_models, hope_compile, tmp_path, "attention_lm", [
        "hope-lm", "--config=tiny", "--mixer=attention", "--dtype=f64",
        f"--weights-out={weights_file}", "--seed=13"]))
    weights = {name: value.double() for name, value in load_file(str(weights_file)).items()}
    tokens = torch.randint(0, 256, (2, 9), generator=torch.Generator().manual_seed(14))
    options = HB.HopeOptions(HB.SelfModOptions(heads=2), mixer="attention")
    reference = LM.hope_lm(tokens, weights, options).numpy()
    (logits,) = artifact.run_with_weights("hope_lm", tokens.numpy(), weights, np.float64)
    error = np.abs(logits - reference).max() / np.abs(reference).max()
    print(f"float64 error {error:.1e}")
    assert error < 1e-9
