"""The compiled HOPE block (self-modifying Titans, all five memories scheduled jointly in one
loop over blocks of gcd(C_other, C_mem) tokens, then a frozen CMS chain) against the
token-by-token reference test/reference/hope_block.py, in float64 and float32. The IR is what
`hope-models hope-block` emits for the sizes under test."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artifact import Artifact, build_model, build_seeded_model, relative_error
from reference import hope_block as HB
from reference import weights as W


@pytest.mark.parametrize("element,tolerance", [("f64", 1e-9), ("f32", 1e-5)])
@pytest.mark.parametrize("chunk_other,chunk_mem,tokens", [(2, 4, 11), (1, 2, 6), (4, 4, 9)])
def test_hope_block(hope_models, hope_compile, tmp_path, element, tolerance, chunk_other, chunk_mem, tokens):
    dim, heads, cms_hidden, eta_scale = 16, 2, 64, 0.3  # the tiny config's CMS: 1/4/8 of hidden 64
    artifact = Artifact(build_model(hope_models, hope_compile, tmp_path, "hope_block", [
        "hope-block", "--config=tiny", f"--width={dim}", f"--heads={heads}", f"--hidden={dim // heads}",
        f"--chunk={chunk_other}", f"--chunk-memory={chunk_mem}", f"--eta-scale={eta_scale}",
        f"--dtype={element}"]))

    weights = W.generate(W.hope_block_shapes(dim=dim, heads=heads, cms_hidden=(cms_hidden,) * 3),
                         seed=3, dtype=torch.float64)
    x = torch.randn(2, tokens, dim, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    options = HB.HopeOptions(HB.SelfModOptions(heads=heads, chunk_other=chunk_other,
                                               chunk_mem=chunk_mem, eta_scale=eta_scale))
    reference = HB.hope_block(x, weights, options).numpy()

    numpy_type = np.float64 if element == "f64" else np.float32
    (y,) = artifact.run_with_weights("hope_block", x.numpy(), weights, numpy_type)
    assert relative_error(y, reference) < tolerance


@pytest.mark.parametrize("variant", ["independent", "nested"])
def test_hope_block_cms_variants(hope_models, hope_compile, tmp_path, variant):
    """`hope-models hope-block --config=tiny --cms=VARIANT` (frozen CMS: independent mixes the blocks
    with the weights cms_mix, nested computes what sequential does) against the reference, float64.
    The mixing weights are set far from their seeded init so that every block counts."""
    model = build_seeded_model(hope_models, hope_compile, tmp_path, f"hope_{variant}", [
        "hope-block", "--config=tiny", f"--cms={variant}", "--eta-scale=0.3", "--seed=7"])
    weights = model.weights
    if variant == "independent":
        weights["cms_mix"] = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    x = torch.randn(2, 9, 32, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    selfmod = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3)
    reference = HB.hope_block(x, weights, HB.HopeOptions(selfmod, cms_variant=variant)).numpy()
    assert model.error("hope_block", x.numpy(), reference, np.float32) < 1e-5
    if variant == "independent":  # the check can fail: sequential is another function
        sequential = HB.hope_block(x, weights, HB.HopeOptions(selfmod)).numpy()
        assert relative_error(sequential, reference) > 1e-2


def test_hope_block_default_size(hope_models, hope_compile, tmp_path):
    """models/hope_block.mlir's own sizes (width 512, CMS hidden 2048): its projections and CMS
    contractions are large enough for nl-tile-contractions; 70 tokens make a partial row tile."""
    model = build_seeded_model(hope_models, hope_compile, tmp_path, "hope_default", [
        "hope-block", "--eta-scale=0.3", "--seed=9"])
    x = torch.randn(1, 70, 512, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    selfmod = HB.SelfModOptions(heads=8, chunk_other=8, chunk_mem=64, eta_scale=0.3)
    reference = HB.hope_block(x, model.weights, HB.HopeOptions(selfmod)).numpy()
    assert model.error("hope_block", x.numpy(), reference, np.float32) < 1e-5


def test_hope_attention_block(hope_models, hope_compile, tmp_path):
    """HOPE-Attention (`--mixer=attention`: causal softmax attention in place of self-modifying
    Titans, then the CMS) against the token-by-token reference, float32 against float64."""
    model = build_seeded_model(hope_models, hope_compile, tmp_path, "hope_attention", [
        "hope-block", "--config=tiny", "--mixer=attention", "--seed=11"])
    x = torch.randn(2, 13, 32, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    options = HB.HopeOptions(HB.SelfModOptions(heads=2), mixer="attention")
    reference = HB.hope_block(x, model.weights, options).numpy()
    assert model.error("hope_block", x.numpy(), reference, np.float32) < 1e-5
    # The check can fail: attention over every token (not causal) is another function.
    leaky = HB.hope_block(x.flip(1), model.weights, options).flip(1).numpy()
    assert relative_error(leaky, reference) > 1e-2


def test_hope_block_rate_options(hope_models, hope_compile, tmp_path):
    """`--retention-bias`, `--normalize-values`, `--bounded-eta` and `--memory-eta-scale` (the associative-recall
    model of docs/training.md) against the reference, float64. The check can fail: leaving out
    any one of them gives another function."""
    flags = ["--retention-bias=4", "--normalize-values", "--bounded-eta", "--memory-eta-scale=0.5"]
    model = build_seeded_model(hope_models, hope_compile, tmp_path, "hope_rates", [
        "hope-block", "--config=tiny", "--eta-scale=0.3", "--dtype=f64", "--seed=15", *flags])
    x = torch.randn(2, 11, 32, generator=torch.Generator().manual_seed(16), dtype=torch.float64)
    options = dict(retention_bias=4.0, normalize_values=True, bounded_eta=True, memory_eta_scale=0.5)

    def reference(**changed):
        selfmod = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3, **{**options, **changed})
        return HB.hope_block(x, model.weights, HB.HopeOptions(selfmod)).numpy()

    expected = reference()
    assert model.error("hope_block", x.numpy(), expected, np.float64) < 1e-9
    for without in (dict(retention_bias=0.0), dict(normalize_values=False), dict(bounded_eta=False),
                    dict(memory_eta_scale=None)):
        assert relative_error(reference(**without), expected) > 1e-6, without


def test_hope_block_linear_memory(hope_models, hope_compile, tmp_path):
    """`--memory-model=linear`: M_mem(x) = x + W x (#nl.mlp of depth 1, weight mmem_w1 [H, d, d])
    with the associative-recall rates, against the reference, float64. The check can fail: M_mem
    at another rate gives another function."""
    flags = ["--memory-model=linear", "--retention-bias=4", "--normalize-values", "--bounded-eta",
             "--memory-eta-scale=0.5"]
    model = build_seeded_model(hope_models, hope_compile, tmp_path, "hope_linear", [
        "hope-block", "--config=tiny", "--eta-scale=0.3", "--dtype=f64", "--seed=17", *flags])
    assert model.weights["mmem_w1"].shape == (2, 16, 16) and "mmem_w2" not in model.weights
    x = torch.randn(2, 11, 32, generator=torch.Generator().manual_seed(18), dtype=torch.float64)

    def reference(memory_eta_scale):
        selfmod = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3, retention_bias=4.0,
                                    normalize_values=True, bounded_eta=True, memory_eta_scale=memory_eta_scale,
                                    memory_model="linear")
        return HB.hope_block(x, model.weights, HB.HopeOptions(selfmod)).numpy()

    expected = reference(0.5)
    assert model.error("hope_block", x.numpy(), expected, np.float64) < 1e-9
    assert relative_error(reference(0.3), expected) > 1e-6
