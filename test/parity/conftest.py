"""pytest set-up of the parity tests: the references and tools/ (export_weights) importable,
one torch thread, and the build directory (HOPE_BUILD_DIR, default build/ in the repository)
with hope-compile and hope-models."""

import os
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test"))
sys.path.insert(0, str(REPO / "tools"))
torch.set_num_threads(1)
pytest_plugins = ("strict_skips",)  # CI=true: a skip fails

BUILD = Path(os.environ.get("HOPE_BUILD_DIR", REPO / "build"))


def _tool(name: str) -> Path:
    tool = BUILD / "bin" / name
    if not tool.exists():
        pytest.fail(f"{tool} not found: build the project first (scripts/build.sh)")
    return tool


@pytest.fixture(scope="session")
def hope_compile() -> Path:
    return _tool("hope-compile")


@pytest.fixture(scope="session")
def hope_models() -> Path:
    return _tool("hope-models")


@pytest.fixture(scope="session")
def hope_run() -> Path:
    return _tool("hope-run")


@pytest.fixture(scope="session")
def hope_opt() -> Path:
    return _tool("hope-opt")
