"""Streaming equals one shot for the HOPE block and LM (`hope-models ... --streaming`): a sequence
given in pieces, each call carrying the memory states, their states at the last chunk boundary,
the convolution's last inputs and the position to the next, gives the output and the final
memory states of the token-by-token reference on the whole sequence (float64, 1e-9)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from safetensors.torch import load_file

from artifact import Artifact, build_model
from reference import hope_block as HB
from reference import hope_lm as LM
from reference import nl_ops

PREFIXES = {"M_k": "mk", "M_v": "mv", "M_eta": "meta", "M_alpha": "malpha", "M_mem": "mmem"}
B, T, D = 2, 11, 32


def first_state(weights: dict, batch: int) -> dict:
    """The state of the first piece: every memory's weights per sequence (its reference too),
    a zero convolution history, position 0."""
    state = {}
    for memory, prefix in PREFIXES.items():
        for param in ("w1", "w2", "skip"):
            if f"{prefix}_{param}" in weights:
                value = weights[f"{prefix}_{param}"].numpy()
                value = np.broadcast_to(value, (batch, *value.shape)).copy()
                state[f"{memory}.{param}"] = value
                state[f"{memory}.reference.{param}"] = value.copy()
    state["conv_history"] = np.zeros((batch, weights["conv"].shape[1] - 1, D))
    state["position"] = np.array(0, dtype=np.int64)
    return state


@pytest.fixture(scope="module")
def streaming(hope_models, hope_compile, tmp_path_factory):
    directory = tmp_path_factory.mktemp("hope_streaming")
    weights_file = directory / "weights.safetensors"
    artifact = Artifact(build_model(hope_models, hope_compile, directory, "hope_streaming", [
        "hope-block", "--config=tiny", "--streaming", "--dtype=f64", "--eta-scale=0.3",
        f"--weights-out={weights_file}", "--seed=15"]))
    # The memories' weights come from the same seed without --streaming (they are the first
    # piece's state, not arguments of the streaming function).
    full = directory / "full.safetensors"
    build_model(hope_models, hope_compile, directory, "hope_full", [
        "hope-block", "--config=tiny", "--dtype=f64", "--eta-scale=0.3",
        f"--weights-out={full}", "--seed=15"])
    weights = {name: value for name, value in load_file(str(full)).items()}
    return artifact, weights


def run_pieces(artifact: Artifact, weights: dict, x: np.ndarray, cuts: list[int]):
    entry = artifact.entry("hope_block")
    state = first_state(weights, x.shape[0])
    ys = []
    for start, end in zip(cuts[:-1], cuts[1:]):
        inputs = [x[:, start:end]]
        for spec in entry["inputs"][1:]:
            inputs.append(state[spec["name"]] if spec["role"] == "state"
                          else weights[spec["name"]].numpy())
        outputs = artifact("hope_block", *inputs)
        ys.append(outputs[0])
        state = {spec["name"]: value for spec, value in zip(entry["outputs"][1:], outputs[1:])}
    return np.concatenate(ys, axis=1), state


@pytest.mark.parametrize("cuts", [[0, T], [0, 5, T], [0, 3, 4, 9, T], list(range(T + 1))],
                         ids=["one-shot", "5+6", "3+1+5+2", "token-by-token"])
def test_streaming_equals_one_shot(streaming, cuts):
    artifact, weights = streaming
    x = torch.randn(B, T, D, generator=torch.Generator().manual_seed(16), dtype=torch.float64)
    options = HB.HopeOptions(HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3))
    reference, final = HB.hope_block(x, weights, options, return_state=True)
    y, state = run_pieces(artifact, weights, x.numpy(), cuts)
    error = np.abs(y - reference.numpy()).max() / np.abs(reference.numpy()).max()
    assert error < 1e-9, error
    for memory in PREFIXES:
        for index, param in enumerate(p for p in ("w1", "w2", "skip") if f"{memory}.{p}" in state):
            expected = final[memory][index].numpy()
            assert np.abs(state[f"{memory}.{param}"] - expected).max() <= 1e-9 * np.abs(expected).max()
    assert int(state["position"]) == T
    # The history is the last W - 1 = 3 inputs of the convolution (the normed x).
    h = nl_ops.rms_norm(x, weights["titans_norm"]).numpy()
    np.testing.assert_allclose(state["conv_history"], h[:, T - 3:], rtol=1e-12, atol=0)


def test_history_of_another_batch_is_refused(streaming, hope_run, tmp_path):
    """The manifest ties the history's batch to the piece's (`x[0]`), so the runtime refuses a
    history of another batch before running anything, naming the tensor."""
    artifact, weights = streaming
    spec = next(s for s in artifact.entry("hope_block")["inputs"] if s["name"] == "conv_history")
    assert spec["shape"] == ["x[0]", 3, D]
    state = first_state(weights, 2)
    state["conv_history"] = np.zeros((3, 3, D))
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(tmp_path / "state.safetensors"))
    np.save(tmp_path / "x.npy", np.zeros((2, 4, D)))
    directory = artifact.path.parent
    result = subprocess.run([str(hope_run), f"--module={artifact.path}",
                             f"--weights={directory / 'weights.safetensors'}", f"--input=@{tmp_path / 'x.npy'}",
                             f"--state-in={tmp_path / 'state.safetensors'}", "--output="],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "conv_history" in result.stderr, result.stderr


def test_lm_streaming_equals_one_shot(hope_models, hope_compile, tmp_path):
    """The tiny HOPE LM (`hope-lm --streaming`: two blocks, every layer's state carried, one
    position): pieces 4 + 1 + 6 give the one-shot logits of the reference, float64."""
    weights_file, full = tmp_path / "lm_stream.safetensors", tmp_path / "lm_full.safetensors"
    artifact = Artifact(build_model(hope_models, hope_compile, tmp_path, "lm_stream", [
        "hope-lm", "--config=tiny", "--streaming", "--dtype=f64", "--eta-scale=0.3",
        f"--weights-out={weights_file}", "--seed=17"]))
    subprocess.run([str(hope_models), "hope-lm", "--config=tiny", "--dtype=f64", "--eta-scale=0.3",
                    "-o", str(tmp_path / "lm_full.mlir"), f"--weights-out={full}", "--seed=17"],
                   check=True, capture_output=True)
    weights = load_file(str(full))
    tokens = torch.randint(0, 256, (B, T), generator=torch.Generator().manual_seed(18))
    options = HB.HopeOptions(HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3))
    reference = LM.hope_lm(tokens, weights, options).numpy()

    state = {}
    for layer in range(2):
        scope = f"layer{layer}."
        layer_state = first_state(LM.layer_weights(weights, layer), B)
        layer_state.pop("position")
        state.update({scope + name: value for name, value in layer_state.items()})
    state["position"] = np.array(0, dtype=np.int64)
    entry = artifact.entry("hope_lm")
    pieces = []
    for start, end in [(0, 4), (4, 5), (5, T)]:
        inputs = [tokens.numpy()[:, start:end]]
        for spec in entry["inputs"][1:]:
            inputs.append(state[spec["name"]] if spec["role"] == "state" else weights[spec["name"]].numpy())
        outputs = artifact("hope_lm", *inputs)
        pieces.append(outputs[0])
        state = {spec["name"]: value for spec, value in zip(entry["outputs"][1:], outputs[1:])}
    logits = np.concatenate(pieces, axis=1)
    error = np.abs(logits - reference).max() / np.abs(reference).max()
    assert error < 1e-9, error
    assert int(state["position"]) == T
