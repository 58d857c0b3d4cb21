"""tools/export_weights.py on bad input: one line on stderr naming what was expected, exit 1,
never a Python traceback; a state dict of the other model says which keys are missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "export_weights.py"


def export(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def nested_learning_state_dict() -> dict:
    sd = {"w_q.weight": torch.zeros(4, 4), "local_conv.weight": torch.zeros(4, 1, 3)}
    for memory in ("m_k", "m_v", "m_eta", "m_alpha", "m_memory", "m_q"):
        sd[f"{memory}.w1.weight"] = torch.zeros(4, 8)
        sd[f"{memory}.w2.weight"] = torch.zeros(8, 4)
    return sd


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("export_weights.py: error: ")
    for text in expected:
        assert text in lines[0]


def test_missing_file(tmp_path):
    assert_one_line_error(export("nested-learning", tmp_path / "none.pt", tmp_path / "w.safetensors"),
                          "none.pt", "not a file")


def test_not_a_torch_file(tmp_path):
    path = tmp_path / "text.pt"
    path.write_text("not a checkpoint")
    assert_one_line_error(export("titans-pytorch", path, tmp_path / "w.safetensors"),
                          "text.pt", "torch.save file of a state dict")


def test_not_a_state_dict(tmp_path):
    path = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), path)
    assert_one_line_error(export("nested-learning", path, tmp_path / "w.safetensors"),
                          "expected a state dict", "got Tensor")


def test_wrong_model_names_missing_keys(tmp_path):
    path = tmp_path / "nl.pt"
    torch.save(nested_learning_state_dict(), path)
    result = export("titans-pytorch", path, tmp_path / "w.safetensors")
    assert_one_line_error(result, "is not a titans-pytorch NeuralMemory state dict",
                          "missing store_norm.weight", "to_keys.weight",
                          "it looks like a nested-learning SelfModifyingTitans: give 'nested-learning'")
    assert not (tmp_path / "w.safetensors").exists()


def test_partial_state_dict_names_missing_keys(tmp_path):
    sd = nested_learning_state_dict()
    del sd["m_q.w1.weight"]
    path = tmp_path / "partial.pt"
    torch.save(sd, path)
    assert_one_line_error(export("nested-learning", path, tmp_path / "w.safetensors"),
                          "missing m_q.w1.weight")


def test_output_folder_missing(tmp_path):
    path = tmp_path / "nl.pt"
    torch.save(nested_learning_state_dict(), path)
    assert_one_line_error(export("nested-learning", path, tmp_path / "no" / "w.safetensors"),
                          "cannot write", "does not exist")


def test_valid_state_dict_exports(tmp_path):
    path = tmp_path / "nl.pt"
    torch.save(nested_learning_state_dict(), path)
    result = export("nested-learning", path, tmp_path / "w.safetensors")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "w.safetensors").exists()
