"""CMS test-time learning (`hope-models hope-lm --streaming --cms-learning=LR`, compiled by
nl-build-test-time-learning) against the token-by-token reference test/reference/cms_learning.py
(torch.autograd.grad of each position's next-token loss with respect to the blocks' parameters
of that position, every state held fixed): the logits, the parameters after the last update and
the unfinished gradient sums, float64 to 1e-9 and float32 to 1e-5, over T = 17 tokens (the tiny
CMS chunks 1/4/8: 16, 4 and 2 updates), for the sequential CMS and (float64) the independent one,
whose mixing weights stay fixed. Streaming in pieces, split anywhere (inside a chunk, at a
boundary, token by token), equals one shot. The learning rate is large enough that learning
moves the logits far beyond the tolerance (a check that the comparison can fail). Every run
starts from the state `hope-models --initial-state-out` writes, itself checked against the
frozen model's weights.

Cost: the token loop inlines the whole per-token LM and its VJP, so one layer of the tiny LM
(every CMS level is in it) and -O0 (LLVM's optimisation is most of the compile time; the
artifacts run for milliseconds): ~20 CPU-seconds per artifact, three artifacts."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from artifact import Artifact, build_model
from reference import cms_learning as CL
from reference import hope_block as HB
from reference import hope_lm as LM
from test_hope_block_streaming import first_state

B, T, LR, SEED = 2, 17, 0.05, 21
CHUNKS = [1, 4, 8]
# One layer of the tiny LM: the compile time grows with the layers; one layer has every CMS level.
MODEL = ["hope-lm", "--config=tiny", "--layers=1", "--eta-scale=0.3", f"--seed={SEED}"]
SELFMOD = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3)
NUMPY_TYPES = {"f64": np.float64, "f32": np.float32}


def options(variant: str) -> HB.HopeOptions:
    return HB.HopeOptions(SELFMOD, cms_variant=variant)


def full_weights(hope_models, directory, variant):
    """The frozen model's weights, float64 (the CMS blocks' initial parameters among them)."""
    full = directory / f"full_{variant}.safetensors"
    subprocess.run([str(hope_models), *MODEL, f"--cms={variant}", "--dtype=f64",
                    "-o", str(directory / f"full_{variant}.mlir"), f"--weights-out={full}"],
                   check=True, capture_output=True)
    return {n: v.double() for n, v in load_file(str(full)).items()}


def learning_model(variant, element, state_file):
    return [*MODEL, f"--cms={variant}", "--streaming", f"--cms-learning={LR}", f"--dtype={element}",
            f"--initial-state-out={state_file}", f"--state-batch={B}"]


@pytest.fixture(scope="module")
def cases(hope_models, hope_compile, tmp_path_factory):
    """case(variant, element): the learning artifact, the state before its first piece, the
    frozen model's weights, the tokens and the reference (logits, parameters, sums); each built
    once."""
    directory = tmp_path_factory.mktemp("cms_learning")
    tokens = torch.randint(0, 256, (B, T), generator=torch.Generator().manual_seed(22))
    references, built = {}, {}

    def case(variant, element):
        if variant not in references:
            weights = full_weights(hope_models, directory, variant)
            references[variant] = (weights, CL.hope_lm_learning(tokens, weights, options(variant),
                                                                CHUNKS, LR))
        if (variant, element) not in built:
            state_file = directory / f"state0_{variant}_{element}.safetensors"
            artifact = Artifact(build_model(
                hope_models, hope_compile, directory, f"ttl_{variant}_{element}",
                learning_model(variant, element, state_file), compile_args=("-O0",)))
            state = {n: v.numpy() for n, v in load_file(str(state_file)).items()}
            built[variant, element] = (artifact, state)
        weights, reference = references[variant]
        artifact, state = built[variant, element]
        return artifact, state, weights, tokens.numpy(), reference

    return case


@pytest.mark.parametrize("variant", ["sequential", "independent"])
def test_initial_state_out(hope_models, tmp_path, variant):
    """--initial-state-out writes the learning states: every block parameter as the frozen
    model's weight, its gradient sum zero, no last token (-1); the memories as --streaming."""
    weights = full_weights(hope_models, tmp_path, variant)
    state_file = tmp_path / "state0.safetensors"
    subprocess.run([str(hope_models), *learning_model(variant, "f64", state_file),
                    "-o", str(tmp_path / "ttl.mlir")], check=True, capture_output=True)
    state = {n: v.numpy() for n, v in load_file(str(state_file)).items()}
    expected = {f"layer0.{n}": v for n, v in first_state(LM.layer_weights(weights, 0), B).items()
                if n != "position"}
    expected["position"] = np.array(0, dtype=np.int64)
    for name in CL.cms_names(weights):
        expected[name] = weights[name].numpy()
        expected[name + ".grad_sum"] = np.zeros_like(expected[name])
    expected["cms_last_token"] = np.full((B, 1), -1, dtype=np.int64)
    assert sorted(state) == sorted(expected)
    for name, value in expected.items():
        assert state[name].dtype == value.dtype and state[name].shape == value.shape, name
        assert np.array_equal(state[name], value), name


def run_pieces(artifact, state, weights, tokens, cuts, numpy_type):
    """Runs `tokens` in the pieces `cuts` from `state`; the logits and the last state."""
    entry = artifact.entry("hope_lm")
    pieces = []
    for start, end in zip(cuts[:-1], cuts[1:]):
        inputs = [tokens[:, start:end]]
        for spec in entry["inputs"][1:]:
            value = state[spec["name"]] if spec["role"] == "state" else weights[spec["name"]].numpy()
            inputs.append(value if value.dtype == np.int64 else value.astype(numpy_type))
        outputs = artifact("hope_lm", *inputs)
        pieces.append(outputs[0])
        state = {spec["name"]: value for spec, value in zip(entry["outputs"][1:], outputs[1:])}
    return np.concatenate(pieces, axis=1), state


def error(y, reference):
    reference = np.asarray(reference)
    return float(np.abs(y - reference).max() / np.abs(reference).max())


@pytest.mark.parametrize("variant,element,tolerance", [
    ("sequential", "f64", 1e-9), ("sequential", "f32", 1e-5), ("independent", "f64", 1e-9)])
def test_learning_equals_reference(cases, variant, element, tolerance):
    artifact, state0, weights, tokens, (logits, theta, sums) = cases(variant, element)
    y, state = run_pieces(artifact, state0, weights, tokens, [0, T], NUMPY_TYPES[element])
    errors = {"logits": error(y, logits)}
    for name in CL.cms_names(weights):
        errors[name] = error(state[name], theta[name].numpy())
        if np.abs(sums[name].numpy()).max() > 0:
            errors[name + ".grad_sum"] = error(state[name + ".grad_sum"], sums[name].numpy())
    print(variant, element, "largest errors", sorted(errors.items(), key=lambda kv: -kv[1])[:3])
    assert max(errors.values()) < tolerance, errors
    # The states stop before the last token, which the next piece recomputes.
    assert int(state["position"]) == T - 1
    assert (state["cms_last_token"] == tokens[:, -1:]).all()


@pytest.mark.parametrize("variant", ["sequential", "independent"])
def test_learning_moves_the_logits(cases, variant):
    """Frozen blocks give other logits (far beyond the tolerances above)."""
    _, _, weights, tokens, (logits, _, _) = cases(variant, "f64")
    frozen = LM.hope_lm(torch.from_numpy(tokens), weights, options(variant)).numpy()
    assert error(frozen, logits) > 1e-3


@pytest.mark.parametrize("variant,cuts", [
    ("sequential", [0, 5, 6, 13, T]), ("sequential", [0, 4, 8, 16, T]),
    ("sequential", list(range(T + 1))), ("independent", [0, 5, 6, 13, T])],
    ids=["inside-chunks", "at-boundaries", "token-by-token", "independent-inside-chunks"])
def test_streaming_equals_one_shot(cases, variant, cuts):
    artifact, state0, weights, tokens, _ = cases(variant, "f64")
    one_shot, final = run_pieces(artifact, state0, weights, tokens, [0, T], np.float64)
    pieces, state = run_pieces(artifact, state0, weights, tokens, cuts, np.float64)
    assert error(pieces, one_shot) < 1e-12
    for name, value in final.items():
        assert np.abs(state[name] - value).max() <= 1e-12 * max(1.0, np.abs(value).max()), name
