"""pytest set-up of the parity tests: the references importable, one torch thread, and the
build directory (HOPE_BUILD_DIR, default build/ in the repository) with hope-compile."""

import os
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test"))
torch.set_num_threads(1)

BUILD = Path(os.environ.get("HOPE_BUILD_DIR", REPO / "build"))


@pytest.fixture(scope="session")
def hope_compile() -> Path:
    tool = BUILD / "bin" / "hope-compile"
    if not tool.exists():
        pytest.fail(f"{tool} not found: build the project first (scripts/build.sh)")
    return tool
