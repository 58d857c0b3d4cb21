"""Streaming through the emulated CUDA target (emulated.py): memory levels (test_streaming.py's
streaming functions: momentum with per-chunk rates, DGD with momentum, chunk-aggregated with a
pending gradient sum) and the HOPE block and the tiny LM built
with `hope-models ... --streaming`, one sequence of batch 3 given in 2-4 calls that carry the
memory states, their chunk-start references, the convolution history and the position, equals
the one-shot token-by-token reference (test_hope_block_streaming.py checks the CPU artifact so).
From non-zero positions around the chunk boundaries, one emulated call equals the CPU artifact's
call from the same state and two emulated calls. Float64 to 1e-9 (the block), float32 against
float64 to 1e-5 (the LM): semantics doc, section 8. The kernels launched per call do not depend
on the piece's length."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file as load_numpy

from artifact import Artifact, relative_error
from conftest import BUILD
from emulated import EmulatedModel, compile_emulated, compile_source_emulated, run_tools
from memory_ir import memory_function
from reference import hope_block as HB
from reference import hope_lm as LM
from reference import nl_ops
from runtime_api import Runtime
from streaming_case import first_state, streaming_case
from test_hope_block_streaming import PREFIXES
from test_streaming import SPECS as MEMORY_SPECS
from test_streaming_positions import positions

B, T, D, ETA_SCALE = 3, 11, 32, 0.3
OPTIONS = HB.HopeOptions(HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4,
                                           eta_scale=ETA_SCALE))


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime(BUILD)


def _build(hope_models, hope_compile, directory, model, dtype):
    """The streaming model compiled for the emulated target, its first state (batch B), and
    the same model's seeded weights without --streaming (the memories' weights included: the
    reference's)."""
    common = [model, "--config=tiny", f"--dtype={dtype}", f"--eta-scale={ETA_SCALE}", "--seed=15"]
    initial, full = directory / "initial.safetensors", directory / "full.safetensors"
    library, weights = compile_emulated(hope_models, hope_compile, directory, "stream", [
        *common, "--streaming", f"--initial-state-out={initial}", f"--state-batch={B}"])
    run_tools([hope_models, *common, f"--weights-out={full}", "-o", directory / "full.mlir"])
    return library, weights, load_numpy(str(initial)), load_numpy(str(full))


@pytest.fixture(scope="module")
def block(hope_models, hope_compile, tmp_path_factory, runtime):
    """The float64 streaming HOPE block, emulated and (-O0: a reference) for the CPU."""
    directory = tmp_path_factory.mktemp("emulated_block_streaming")
    library, weights, initial, full = _build(hope_models, hope_compile, directory, "hope-block",
                                             "f64")
    cpu = directory / "stream_cpu.so"
    run_tools([hope_compile, directory / "stream.mlir", "-O0", "-o", cpu])
    emulated = EmulatedModel(runtime, library, "hope_block", weights, np.float64)
    yield emulated, Artifact(cpu), initial, {k: torch.from_numpy(v) for k, v in full.items()}
    emulated.close()


def _state_outputs(model: EmulatedModel, outputs: dict) -> dict:
    return {spec["name"]: outputs[spec["name"]] for spec in model.spec["outputs"][1:]}


def run_pieces(model: EmulatedModel, state: dict, x: np.ndarray, cuts: list[int]):
    """The pieces x[:, a:b] of `cuts` in turn from `state`: the outputs joined, the last state."""
    ys = []
    for start, end in zip(cuts[:-1], cuts[1:]):
        outputs = model(x[:, start:end], state)
        ys.append(outputs[model.spec["outputs"][0]["name"]])
        state = _state_outputs(model, outputs)
    return np.concatenate(ys, axis=1), state


@pytest.mark.parametrize("cuts", [[0, T], [0, 8, T], [0, 3, 4, 9, T], [0, 1, 2, 6, T]],
                         ids=["one-shot", "8+3", "3+1+5+2", "1+1+4+5"])
def test_block_pieces_equal_one_shot(block, cuts):
    """Pieces a multiple of the chunks, not one, and below them, from non-zero positions."""
    emulated, _, initial, full = block
    x = torch.randn(B, T, D, generator=torch.Generator().manual_seed(16), dtype=torch.float64)
    reference, final = HB.hope_block(x, full, OPTIONS, return_state=True)
    y, state = run_pieces(emulated, initial, x.numpy(), cuts)
    error = relative_error(y, reference.numpy())
    print(f"block pieces {cuts} float64 error {error:.1e}")
    assert error < 1e-9, error
    for memory in PREFIXES:
        for index, param in enumerate(p for p in ("w1", "w2", "skip") if f"{memory}.{p}" in state):
            assert relative_error(state[f"{memory}.{param}"], final[memory][index].numpy()) < 1e-9, \
                (memory, param)
    assert int(state["position"]) == T
    h = nl_ops.rms_norm(x, full["titans_norm"]).numpy()
    np.testing.assert_allclose(state["conv_history"], h[:, T - 3:], rtol=1e-12, atol=0)


def _cpu_call(artifact: Artifact, emulated: EmulatedModel, state: dict, x: np.ndarray):
    entry = artifact.entry("hope_block")
    inputs = [x] + [state[s["name"]] if s["role"] == "state" else emulated.weights[s["name"]]
                    for s in entry["inputs"][1:]]
    outputs = artifact("hope_block", *inputs)
    return outputs[0], {s["name"]: v for s, v in zip(entry["outputs"][1:], outputs[1:])}


@pytest.mark.parametrize("position", positions())
def test_block_from_a_position_equals_the_cpu(block, position):
    """From `position` (the memories' chunks are 2 and 4 tokens: around their boundaries, and
    just below the last accepted one), 7 tokens in one emulated call equal the CPU artifact's
    call and two emulated calls (cut after 3)."""
    emulated, cpu, initial, _ = block
    x = torch.randn(B, 7, D, generator=torch.Generator().manual_seed(position % 1000),
                    dtype=torch.float64).numpy()
    state = dict(initial, position=np.array(position, dtype=np.int64))
    y, after = run_pieces(emulated, state, x, [0, 7])
    y_cpu, after_cpu = _cpu_call(cpu, emulated, state, x)
    assert int(after["position"]) == position + 7
    np.testing.assert_allclose(y, y_cpu, rtol=1e-9, atol=1e-12)
    y_two, after_two = run_pieces(emulated, state, x, [0, 3, 7])
    np.testing.assert_allclose(y_two, y, rtol=1e-9, atol=1e-12)
    for name, value in after.items():
        np.testing.assert_allclose(value, after_cpu[name], rtol=1e-9, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(after_two[name], value, rtol=1e-9, atol=1e-12, err_msg=name)


def test_block_launches_do_not_depend_on_tokens(block):
    """A piece of 64 tokens and one of 4096, from a non-zero position, launch alike."""
    emulated, _, initial, _ = block
    state = dict(initial, position=np.array(5, dtype=np.int64))
    launches = []
    for tokens in (64, 4096):
        x = np.random.default_rng(tokens).standard_normal((B, tokens, D))
        y, _ = run_pieces(emulated, state, x, [0, tokens])
        assert np.isfinite(y).all()
        launches.append(emulated.launches())
    print(f"streaming block launches per call at T=64, 4096: {launches}")
    assert launches[0] == launches[1] > 0


def test_lm_pieces_equal_one_shot(hope_models, hope_compile, tmp_path, runtime):
    """The tiny LM (two blocks, every layer's state carried, one position), float32: pieces
    4 + 1 + 6 give the one-shot logits of the float64 reference to 1e-5; its pieces launch
    alike at 64 and 4096 tokens."""
    library, weights, initial, full = _build(hope_models, hope_compile, tmp_path, "hope-lm",
                                             "f32")
    emulated = EmulatedModel(runtime, library, "hope_lm", weights, np.float32)
    try:
        full = {name: torch.from_numpy(value).double() for name, value in full.items()}
        tokens = torch.randint(0, 256, (B, T), generator=torch.Generator().manual_seed(18))
        reference = LM.hope_lm(tokens, full, OPTIONS).numpy()
        logits, state = run_pieces(emulated, initial, tokens.numpy(), [0, 4, 5, T])
        error = relative_error(logits, reference)
        print(f"lm pieces float32 error {error:.1e}")
        assert error < 1e-5, error
        assert int(state["position"]) == T
        launches = []
        for length in (64, 4096):
            ids = np.random.default_rng(length).integers(0, 256, (B, length))
            run_pieces(emulated, state, ids, [0, length])
            launches.append(emulated.launches())
        print(f"streaming lm launches per call at T=64, 4096: {launches}")
        assert launches[0] == launches[1] > 0
    finally:
        emulated.close()


@pytest.mark.parametrize("name", ["momentum_chunk_rates", "dgd_momentum_linear",
                                  "aggregated_linearize_6"])
def test_memory_level_pieces_equal_one_shot(hope_compile, tmp_path, runtime, name):
    """test_streaming.py's memory levels (chunk 3, 7 tokens) at batch 3, in pieces starting
    inside a chunk, on a boundary, and of one token, float64 to 1e-9."""
    spec, heads, width, tokens = MEMORY_SPECS[name], 2, 4, 7
    source = tmp_path / f"{name}.mlir"
    source.write_text(memory_function(spec, heads, width, width, "after", streaming=True))
    library = compile_source_emulated(hope_compile, source, tmp_path / f"{name}.so")
    emulated = EmulatedModel(runtime, library, "forward", {}, np.float64)
    try:
        case = streaming_case(spec, B, heads, width, tokens, seed=7)
        names = [p["name"] for p in emulated.spec["inputs"]]
        carried = len(first_state(case, B))
        data_names, state_names = names[:-carried], names[-carried:]
        layout_size = len(case.init) * (1 + spec.momentum_order())
        for cuts in ([0, 4, tokens], [0, 1, 3, tokens], [0, 3, 6, tokens]):
            state, pieces = first_state(case, B), []
            for a, b in zip(cuts, cuts[1:]):
                data = [case.k[..., a:b, :], case.v[..., a:b, :], *case.rates(a, b),
                        case.q[..., a:b, :]]
                outputs = emulated.invoke({**dict(zip(data_names, [d.numpy() for d in data])),
                                           **dict(zip(state_names, state))})
                ordered = [outputs[p["name"]] for p in emulated.spec["outputs"]]
                pieces.append(ordered[0])
                state = ordered[1:]
            assert int(state[-1]) == tokens
            error = relative_error(np.concatenate(pieces, axis=2), case.y_ref.numpy())
            print(f"{name} pieces {cuts} float64 error {error:.1e}")
            assert error < 1e-9, (cuts, error)
            for value, expected in zip(state[:layout_size], case.final_ref):
                assert relative_error(value, expected.numpy()) < 1e-9, cuts
    finally:
        emulated.close()
