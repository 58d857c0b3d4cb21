"""titans-pytorch 0.5.5's NeuralMemory against the compiled model built for it.

The package's module (random weights, every parameter non-trivial) runs on its own; its
state_dict goes through tools/export_weights.py (--titans-pytorch-norm form) into the artifact
compiled from `hope-models titans-memory --config=titans-pytorch` (rate biases, retrieval gate,
the LayerNorm's gamma as state with scale gamma + 1, the dtype's RMSNorm epsilon). Multi-head and
one head; linearisation period B = the chunk, B = 2 chunks and B = None (the whole sequence); T a
multiple of the chunk and not (the partial chunk waits, as in the package). float64 to 1e-9 and
float32 to 1e-4 (semantics doc, section 8)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import export_weights as EW
from artifact import Artifact, build_model

titans_pytorch = pytest.importorskip("titans_pytorch")
from reference.test_titans_pytorch import make_memory  # noqa: E402  (needs the package)

DIM = 64
MAX_LR = 0.5  # a large step: the memory moves far from its initial state
CASES = [
    dict(heads=2, chunk=8, batch_size=8, T=32),
    dict(heads=2, chunk=4, batch_size=8, T=30),
    dict(heads=2, chunk=8, batch_size=None, T=30),
    dict(heads=1, chunk=4, batch_size=4, T=32),
]


def _compile(hope_models, hope_compile, tmp_path, heads, chunk, batch_size, dtype) -> Artifact:
    linearize = batch_size if batch_size is not None else "sequence"
    return Artifact(build_model(hope_models, hope_compile, tmp_path, f"titans_{dtype}", [
        "titans-memory", "--config=titans-pytorch", f"--width={DIM}", f"--heads={heads}",
        f"--chunk={chunk}", f"--linearize={linearize}", f"--dtype={dtype}", f"--max-lr={MAX_LR}"]))


def _run(artifact: Artifact, x: torch.Tensor, weights: dict, numpy_type) -> np.ndarray:
    (y,) = artifact.run_with_weights("titans_memory", x.numpy(), weights, numpy_type)
    return y


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_compiled_matches_titans_pytorch(hope_models, hope_compile, tmp_path, case):
    heads, chunk, batch_size, T = case["heads"], case["chunk"], case["batch_size"], case["T"]
    mem = make_memory(dim=DIM, heads=heads, chunk=chunk, batch_size=batch_size, max_lr=MAX_LR)
    x = torch.randn(2, T, DIM, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    weights = EW.titans_pytorch_to_project(mem.state_dict(), norm_gamma=True)
    with torch.no_grad():
        y64, _ = mem(x)
        y32, _ = mem.float()(x.float())

    y = _run(_compile(hope_models, hope_compile, tmp_path, heads, chunk, batch_size, "f64"),
             x, weights, np.float64)
    error = np.abs(y - y64.numpy()).max() / np.abs(y64.numpy()).max()
    assert error < 1e-9, error
    print(f"float64 error {error:.1e}")

    y = _run(_compile(hope_models, hope_compile, tmp_path, heads, chunk, batch_size, "f32"),
             x, weights, np.float32)
    error = np.abs(y - y32.double().numpy()).max() / np.abs(y32.double().numpy()).max()
    assert error < 1e-4, error
    print(f"float32 error {error:.1e}")


def test_the_check_can_fail(hope_models, hope_compile, tmp_path):
    """The comparison can fail: without one of the package's features (the learning-rate
    bias, zeroed) the compiled output is far from the package's."""
    mem = make_memory(dim=DIM, heads=2, chunk=8, batch_size=8, max_lr=MAX_LR)
    x = torch.randn(2, 16, DIM, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    with torch.no_grad():
        y64, _ = mem(x)
    artifact = _compile(hope_models, hope_compile, tmp_path, 2, 8, 8, "f64")
    weights = EW.titans_pytorch_to_project(mem.state_dict(), norm_gamma=True)
    weights = {**weights, "b_lr": torch.zeros_like(weights["b_lr"])}  # one feature dropped
    y = _run(artifact, x, weights, np.float64)
    assert np.abs(y - y64.numpy()).max() / np.abs(y64.numpy()).max() > 1e-3
