"""Positions a caller may give a streaming HOPE block (`hope-models --streaming`): the first
state `hope-models --initial-state-out` writes is the one the streaming parity test builds by
hand; from any accepted position, around every chunk boundary (C - 1, C, C + 1, 2C - 1, ...)
and just below the int64 limit, a call equals the same tokens in two calls (the chunk
arithmetic at every offset); a negative position or one whose end would pass the limit is
refused before running (it used to read and write past the buffers)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file as load_numpy
from safetensors.torch import load_file

from artifact import Artifact, PreconditionError, build_model
from test_hope_block_streaming import first_state

B, T, D = 2, 7, 32
CHUNKS = (2, 4)  # the tiny config's memories: M_mem every 4 tokens, the others every 2
INT64_MAX = np.iinfo(np.int64).max
# Every index of the chunk loop stays below position + T + the longest period.
LAST_ACCEPTED = INT64_MAX - T - max(CHUNKS)


@pytest.fixture(scope="module")
def streaming(hope_models, hope_compile, tmp_path_factory):
    directory = tmp_path_factory.mktemp("streaming_positions")
    common = ["hope-block", "--config=tiny", "--dtype=f64", "--eta-scale=0.3", "--seed=15"]
    initial = directory / "initial.safetensors"
    artifact = Artifact(build_model(hope_models, hope_compile, directory, "stream", [
        *common, "--streaming", f"--weights-out={directory / 'weights.safetensors'}",
        f"--initial-state-out={initial}", f"--state-batch={B}"]))
    full = directory / "full.safetensors"
    build_model(hope_models, hope_compile, directory, "full", [*common, f"--weights-out={full}"])
    weights = load_file(str(directory / "weights.safetensors"))
    return artifact, weights, load_file(str(full)), load_numpy(str(initial))


def call(artifact, weights, state, x):
    """One piece: the output and the state after it."""
    entry = artifact.entry("hope_block")
    inputs = [x] + [state[s["name"]] if s["role"] == "state" else weights[s["name"]].numpy()
                    for s in entry["inputs"][1:]]
    outputs = artifact("hope_block", *inputs)
    return outputs[0], {s["name"]: v for s, v in zip(entry["outputs"][1:], outputs[1:])}


def test_initial_state_is_the_first_pieces(streaming):
    _, _, full, initial = streaming
    expected = first_state(full, B)
    assert sorted(initial) == sorted(expected)
    for name, value in expected.items():
        assert initial[name].dtype == value.dtype, name
        np.testing.assert_array_equal(initial[name], value, err_msg=name)


def positions():
    near = {c * k + d for c in CHUNKS for k in (1, 2, 3) for d in (-1, 0, 1)}
    return sorted(near | {0, 1, LAST_ACCEPTED - 1, LAST_ACCEPTED})


@pytest.mark.parametrize("position", positions())
def test_one_call_equals_two_from_any_position(streaming, position):
    artifact, weights, _, initial = streaming
    x = torch.randn(B, T, D, generator=torch.Generator().manual_seed(position % 1000),
                    dtype=torch.float64).numpy()
    state = dict(initial, position=np.array(position, dtype=np.int64))
    y, after = call(artifact, weights, state, x)
    assert int(after["position"]) == position + T
    assert np.isfinite(y).all()
    for cut in (1, 3):
        y1, middle = call(artifact, weights, state, x[:, :cut])
        y2, end = call(artifact, weights, middle, x[:, cut:])
        np.testing.assert_allclose(np.concatenate([y1, y2], axis=1), y, rtol=1e-9, atol=1e-9)
        for name, value in after.items():
            np.testing.assert_allclose(end[name], value, rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("position", [-1, -2, -T, np.iinfo(np.int64).min, LAST_ACCEPTED + 1,
                                      INT64_MAX - T, INT64_MAX])
def test_position_out_of_range_is_refused(streaming, position):
    artifact, weights, _, initial = streaming
    state = dict(initial, position=np.array(position, dtype=np.int64))
    x = np.zeros((B, T, D))
    with pytest.raises(PreconditionError, match="position"):
        call(artifact, weights, state, x)
