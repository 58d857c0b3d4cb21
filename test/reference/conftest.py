"""pytest set-up of the reference tests: one intra-op thread (the tensors are tiny: threads
only add contention on a 2-core machine) and tools/ importable (export_weights)."""

import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "test"))
torch.set_num_threads(1)
pytest_plugins = ("strict_skips",)  # CI=true: a skip fails

