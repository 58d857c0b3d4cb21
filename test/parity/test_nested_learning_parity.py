"""nested-learning 0.2.0's SelfModifyingTitans against the compiled model built for it.

The package's module is built as a user builds it: SelfModifyingTitansConfig with the sizes
(dim, chunk_size_other, chunk_size_memory) and nothing else, so its own options (eta_scale 1e-3,
...) and its own initialisation; it runs `forward_with_updates`. Its state_dict goes through
tools/export_weights.py into the artifact compiled from `hope-models self-modifying-titans
--config=nested-learning` with the same sizes and no other override (one head, memory hidden =
width, GELU memories, F.normalize's epsilon 1e-6, causal convolution, DGD with the rank-1 term,
M_alpha, L2 objective, stop-gradient targets, read at the chunk start). Chunk sizes C_other/C_mem
2/4, 1/1 and 3/6 with T = 11 (not dividing T). The package also runs 3/4; the project's level
rules reject it (periods of components that feed each other must divide one another:
nl-verify-levels). float64 to 1e-9 and float32 against the float64 module to 1e-5 (semantics
doc, section 8). test_package_defaults.py checks that the config's options are the package's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import export_weights as EW
from artifact import Artifact, build_model, compile_module

sm = pytest.importorskip("nested_learning.titan.self_modifying")

DIM = 16
CASES = [
    dict(chunk_size_other=2, chunk_size_memory=4, T=10),
    dict(chunk_size_other=1, chunk_size_memory=1, T=10),
    dict(chunk_size_other=3, chunk_size_memory=6, T=11),
]


def package_model(chunk_size_other, chunk_size_memory, seed=0):
    """SelfModifyingTitans with the sizes alone, in float64."""
    torch.manual_seed(seed)
    config = sm.SelfModifyingTitansConfig(dim=DIM, chunk_size_other=chunk_size_other,
                                          chunk_size_memory=chunk_size_memory)
    return sm.SelfModifyingTitans(config).double()


def _compile(hope_models, hope_compile, tmp_path, config, dtype, name=None) -> Artifact:
    return Artifact(build_model(hope_models, hope_compile, tmp_path, name or f"smt_{dtype}", [
        "self-modifying-titans", "--config=nested-learning", f"--width={config.dim}",
        f"--chunk={config.chunk_size_other}", f"--chunk-memory={config.chunk_size_memory}",
        f"--dtype={dtype}"]))


def _run(artifact: Artifact, x: torch.Tensor, weights: dict, numpy_type) -> np.ndarray:
    (o,) = artifact.run_with_weights("self_modifying_titans", x.numpy(), weights, numpy_type)
    return o


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_compiled_matches_nested_learning(hope_models, hope_compile, tmp_path, case):
    case = dict(case)
    T = case.pop("T")
    model = package_model(**case)
    x = torch.randn(2, T, model.config.dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        o_pkg, _ = model.forward_with_updates(x, model.init_fast_state())
    o_pkg = o_pkg.numpy()
    weights = EW.nested_learning_to_project(model.state_dict())
    for dtype, numpy_type, tolerance in (("f64", np.float64, 1e-9), ("f32", np.float32, 1e-5)):
        artifact = _compile(hope_models, hope_compile, tmp_path, model.config, dtype)
        o = _run(artifact, x, weights, numpy_type)
        error = np.abs(o - o_pkg).max() / np.abs(o_pkg).max()
        print(f"{dtype} error {error:.1e}")
        assert error < tolerance, (dtype, error)


def test_the_check_can_fail(hope_models, hope_compile, tmp_path):
    """The comparison can fail: the project's default activation (SiLU) instead of the
    package's GELU moves the output far off."""
    model = package_model(chunk_size_other=2, chunk_size_memory=4)
    x = torch.randn(2, 10, model.config.dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        o_pkg, _ = model.forward_with_updates(x, model.init_fast_state())
    weights = EW.nested_learning_to_project(model.state_dict())
    _compile(hope_models, hope_compile, tmp_path, model.config, "f64")
    source = (tmp_path / "smt_f64.mlir").read_text().replace("activation = gelu", "activation = silu")
    assert "activation = silu" in source
    library = compile_module(hope_compile, source, tmp_path, "silu")
    o = _run(Artifact(library), x, weights, np.float64)
    assert np.abs(o - o_pkg.numpy()).max() / np.abs(o_pkg.numpy()).max() > 1e-3
