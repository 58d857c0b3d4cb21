"""The compiled Titans memory, models/titans_memory.mlir as shipped (width 384, 4 heads, chunk
64, linearisation period 64), against test/reference/titans_memory.py in float32, over two
complete chunks and a partial one. Compiled as users compile it (hope-compile's default, -O3),
the only parity test at this size; float32 to 1e-5 (T = 150, semantics doc section 8)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import torch

from artifact import Artifact
from reference import titans_memory as TM
from reference import weights as W

MODEL = Path(__file__).resolve().parents[2] / "models" / "titans_memory.mlir"


def test_titans_memory_float32(hope_compile, tmp_path):
    library = tmp_path / "titans.so"
    result = subprocess.run([str(hope_compile), str(MODEL), "-o", str(library)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    artifact = Artifact(library)

    weights = W.generate(W.titans_memory_shapes(), seed=5, dtype=torch.float64)
    x = torch.randn(1, 150, 384, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    reference = TM.titans_memory(x, weights).numpy()

    entry = artifact.entry("titans_memory")
    inputs = [x.numpy().astype(np.float32)] + [
        weights[spec["name"]].numpy().astype(np.float32) for spec in entry["inputs"][1:]]
    (y,) = artifact("titans_memory", *inputs)
    error = np.abs(y - reference).max() / np.abs(reference).max()
    print(f"float32 error {error:.1e}")
    assert error < 1e-5
