"""titans-pytorch 0.5.5's NeuralMemory against the compiled model built for it.

The package's module is built as a user builds it: its sizes (dim, heads, dim_head, chunk_size,
batch_size) and nothing else, so its own options (default_step_transform_max_lr = 1, ...) and its
own initialisation. Its state_dict goes through tools/export_weights.py (--titans-pytorch-norm
form) into the artifact compiled from `hope-models titans-memory --config=titans-pytorch` with the
same sizes and no other override (rate biases, retrieval gate, the LayerNorm's gamma as state with
scale gamma + 1, the dtype's RMSNorm epsilon, max_lr 1). Multi-head and one head; linearisation
period B = the chunk, B = 2 chunks and B = None (the whole sequence); T a multiple of the chunk
and not (the partial chunk waits, as in the package). float64 to 1e-9 and float32 against the
float64 module to 1e-5 (T <= 32: semantics doc, section 8).
test_package_defaults.py checks that the config's options are the package's defaults."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import export_weights as EW
from artifact import Artifact, build_model

titans_pytorch = pytest.importorskip("titans_pytorch")

DIM = 64
CASES = [
    dict(heads=2, chunk=8, batch_size=8, T=32),
    dict(heads=2, chunk=4, batch_size=8, T=30),
    dict(heads=2, chunk=8, batch_size=None, T=30),
    dict(heads=1, chunk=4, batch_size=4, T=32),
]


def package_memory(heads, chunk, batch_size, seed=0):
    """NeuralMemory with the sizes alone, in float64."""
    torch.manual_seed(seed)
    return titans_pytorch.NeuralMemory(dim=DIM, heads=heads, dim_head=DIM // heads, chunk_size=chunk,
                                       batch_size=batch_size).double()


def _compile(hope_models, hope_compile, tmp_path, heads, chunk, batch_size, dtype) -> Artifact:
    linearize = batch_size if batch_size is not None else "sequence"
    return Artifact(build_model(hope_models, hope_compile, tmp_path, f"titans_{dtype}", [
        "titans-memory", "--config=titans-pytorch", f"--width={DIM}", f"--heads={heads}",
        f"--chunk={chunk}", f"--linearize={linearize}", f"--dtype={dtype}"]))


def _run(artifact: Artifact, x: torch.Tensor, weights: dict, numpy_type) -> np.ndarray:
    (y,) = artifact.run_with_weights("titans_memory", x.numpy(), weights, numpy_type)
    return y


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_compiled_matches_titans_pytorch(hope_models, hope_compile, tmp_path, case):
    heads, chunk, batch_size, T = case["heads"], case["chunk"], case["batch_size"], case["T"]
    mem = package_memory(heads, chunk, batch_size)
    x = torch.randn(2, T, DIM, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    weights = EW.titans_pytorch_to_project(mem.state_dict(), norm_gamma=True)
    with torch.no_grad():
        y64, _ = mem(x)
    reference = y64.numpy()

    y = _run(_compile(hope_models, hope_compile, tmp_path, heads, chunk, batch_size, "f64"),
             x, weights, np.float64)
    error = np.abs(y - reference).max() / np.abs(reference).max()
    print(f"float64 error {error:.1e}")
    assert error < 1e-9, error

    y = _run(_compile(hope_models, hope_compile, tmp_path, heads, chunk, batch_size, "f32"),
             x, weights, np.float32)
    error = np.abs(y - reference).max() / np.abs(reference).max()
    print(f"float32 error {error:.1e}")
    assert error < 1e-5, error


def test_the_check_can_fail(hope_models, hope_compile, tmp_path):
    """The comparison can fail: one of the package's features mis-set (the learning-rate bias,
    moved by 1) takes the compiled output far from the package's."""
    mem = package_memory(2, 8, 8)
    x = torch.randn(2, 16, DIM, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    with torch.no_grad():
        y64, _ = mem(x)
    artifact = _compile(hope_models, hope_compile, tmp_path, 2, 8, 8, "f64")
    weights = EW.titans_pytorch_to_project(mem.state_dict(), norm_gamma=True)
    weights = {**weights, "b_lr": weights["b_lr"] + 1.0}  # one feature changed
    y = _run(artifact, x, weights, np.float64)
    assert np.abs(y - y64.numpy()).max() / np.abs(y64.numpy()).max() > 1e-3
