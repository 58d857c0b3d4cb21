"""nested-learning 0.2.0's SelfModifyingTitans against the compiled model built for it.

The package's module (its own random initialisation, eta scale 0.3 so that the memories move)
runs `forward_with_updates`; its state_dict goes through tools/export_weights.py into the
artifact compiled from `hope-models self-modifying-titans --config=nested-learning` (one head,
GELU memories, F.normalize's epsilon 1e-6; the package's defaults: causal convolution, DGD
with the rank-1 term, M_alpha, L2 objective, stop-gradient targets, read at the chunk start).
Chunk sizes C_other/C_mem 2/4, 1/1 and 3/6 with T = 11 (not dividing T). The package also
runs 3/4; the project's level rules reject it (periods of components that feed each other must
divide one another: nl-verify-levels).
float64 to 1e-9 and float32 to 1e-4 (semantics doc, section 8)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import export_weights as EW
from artifact import Artifact, build_model, compile_module

pytest.importorskip("nested_learning.titan.self_modifying")
from reference.test_nested_learning import ETA_SCALE, make  # noqa: E402  (needs the package)

CASES = [
    dict(chunk_size_other=2, chunk_size_memory=4, T=10),
    dict(chunk_size_other=1, chunk_size_memory=1, T=10),
    dict(chunk_size_other=3, chunk_size_memory=6, T=11),
]


def _compile(hope_models, hope_compile, tmp_path, weights, config, dtype, name=None) -> Artifact:
    width, window = weights["conv"].shape
    hidden = weights["mk_w1"].shape[-2]
    assert window == 4, "the builder's convolution window"
    return Artifact(build_model(hope_models, hope_compile, tmp_path, name or f"smt_{dtype}", [
        "self-modifying-titans", "--config=nested-learning", f"--width={width}", f"--hidden={hidden}",
        f"--chunk={config.chunk_size_other}", f"--chunk-memory={config.chunk_size_memory}",
        f"--eta-scale={ETA_SCALE}", f"--dtype={dtype}"]))


def _run(artifact: Artifact, x: torch.Tensor, weights: dict, numpy_type) -> np.ndarray:
    (o,) = artifact.run_with_weights("self_modifying_titans", x.numpy(), weights, numpy_type)
    return o


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_compiled_matches_nested_learning(hope_models, hope_compile, tmp_path, case):
    case = dict(case)
    T = case.pop("T")
    model = make(**case)
    x = torch.randn(2, T, model.config.dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        o_pkg, _ = model.forward_with_updates(x, model.init_fast_state())
    o_pkg = o_pkg.numpy()
    weights = EW.nested_learning_to_project(model.state_dict())
    for dtype, numpy_type, tolerance in (("f64", np.float64, 1e-9), ("f32", np.float32, 1e-4)):
        artifact = _compile(hope_models, hope_compile, tmp_path, weights, model.config, dtype)
        o = _run(artifact, x, weights, numpy_type)
        error = np.abs(o - o_pkg).max() / np.abs(o_pkg).max()
        print(f"{dtype} error {error:.1e}")
        assert error < tolerance, (dtype, error)


def test_the_check_can_fail(hope_models, hope_compile, tmp_path):
    """The comparison can fail: the project's default activation (SiLU) instead of the
    package's GELU moves the output far off."""
    model = make(chunk_size_other=2, chunk_size_memory=4)
    x = torch.randn(2, 10, model.config.dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        o_pkg, _ = model.forward_with_updates(x, model.init_fast_state())
    weights = EW.nested_learning_to_project(model.state_dict())
    _compile(hope_models, hope_compile, tmp_path, weights, model.config, "f64")
    source = (tmp_path / "smt_f64.mlir").read_text().replace("activation = gelu", "activation = silu")
    assert "activation = silu" in source
    library = compile_module(hope_compile, source, tmp_path, "silu")
    o = _run(Artifact(library), x, weights, np.float64)
    assert np.abs(o - o_pkg.numpy()).max() / np.abs(o_pkg.numpy()).max() > 1e-3
