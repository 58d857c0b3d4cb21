"""A compiled streaming memory level run the way a host program runs it: through the runtime's
C API (libhope_runtime.so: module, session with options, hope_session_invoke_map by name),
with inputs that borrow strided numpy memory (every other batch row of a buffer, a transposed
token layout, a state broadcast over the batch with stride 0), the states of each call's
output map fed by name to the next, in pieces, against the token-by-token reference on the
whole sequence (float64, 1e-9). The other parity tests call the artifact's ABI directly; this
one covers the runtime's invoke path (its checks, its copies of strided inputs, its output
maps)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from artifact import compile_module
from conftest import BUILD
from memory_ir import memory_function
from reference import memory as ref
from runtime_api import Runtime, RuntimeApiError, Session
from streaming_case import streaming_case
from test_streaming import B, D, H, SPECS, T


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime(BUILD)


def _strided(array: np.ndarray) -> np.ndarray:
    """The same values in memory that is not row-major: every other batch row of a larger
    buffer (the rows between hold NaN), and a [B, H, T, D] tensor stored as [B, T, H, D] and
    viewed transposed."""
    transposed = array.ndim == 4
    base = np.ascontiguousarray(array.transpose(0, 2, 1, 3)) if transposed else array
    storage = np.full((2 * base.shape[0], *base.shape[1:]), np.nan)
    storage[::2] = base
    view = storage[::2].transpose(0, 2, 1, 3) if transposed else storage[::2]
    assert not view.flags.c_contiguous and np.array_equal(view, array)
    return view


def _zero_inputs(entry: dict) -> dict:
    """Zeros for every input of `entry`: batch B, every other symbolic size 3 (tokens)."""
    inputs = {}
    for p in entry["inputs"]:
        shape = [B if isinstance(s, str) and s.endswith("[0]") else 3 if isinstance(s, str) else s
                 for s in p["shape"]]
        inputs[p["name"]] = np.zeros(shape, dtype=np.int64 if p["dtype"] == "i64" else np.float64)
    return inputs


@pytest.mark.parametrize("name", ["momentum_mlp", "dgd_momentum_linear", "aggregated"])
@pytest.mark.parametrize("threads", [1, 2])
def test_invoke_map_streams_like_the_reference(runtime, hope_compile, tmp_path, name, threads):
    spec = SPECS[name]
    order = spec.momentum_order()
    library = compile_module(hope_compile, memory_function(spec, H, D, D, "after", streaming=True),
                             tmp_path, "stream")
    session = Session(runtime, library, threads=threads)
    try:
        entry = session.entry("forward")
        assert not [p for p in entry["inputs"] if p["role"] == "weight"]
        names = [p["name"] for p in entry["inputs"]]
        states = [p["name"] for p in entry["inputs"] if p["role"] == "state"]
        read = entry["outputs"][0]["name"]

        case = streaming_case(spec, B, H, D, T, seed=11)
        init = case.init

        # The first state: the initial parameters broadcast over the batch (stride 0), zero
        # momentum, reference = initial, no pending gradient, position 0.
        first = [np.broadcast_to(w.numpy(), (B, *w.shape)) for w in init]
        first += [np.zeros((B, *w.shape)) for _ in range(order) for w in init]
        first += [np.broadcast_to(w.numpy(), (B, *w.shape)) for w in init]
        if spec.chunk_aggregated is not None:
            first += [np.zeros((B, *w.shape)) for w in init]
        first.append(np.array(0, dtype=np.int64))
        state = dict(zip(states, first, strict=True))

        pieces = []
        for a, b in [(0, 2), (2, 3), (3, 7)]:
            given = [case.k[..., a:b, :], case.v[..., a:b, :], *case.rates(a, b), case.q[..., a:b, :]]
            inputs = dict(zip([n for n in names if n not in state], [_strided(t.numpy()) for t in given],
                              strict=True))
            outputs = session.invoke_map("forward", {**inputs, **state})
            pieces.append(outputs.pop(read))
            assert set(outputs) == set(states)
            state = outputs
        assert int(state[states[-1]]) == T
        y = np.concatenate(pieces, axis=2)
        assert np.abs(y - case.y_ref.numpy()).max() / np.abs(case.y_ref.numpy()).max() < 1e-9
        for s, r in zip(states, case.final_ref):
            assert np.abs(state[s] - r.numpy()).max() / np.abs(r.numpy()).max() < 1e-9, s
    finally:
        session.close()


def test_invoke_map_refuses_a_wrong_state(runtime, hope_compile, tmp_path):
    """The runtime's checks hold on this path too: a state of another batch is refused by name,
    and nothing runs."""
    spec = SPECS["gd_linear"]
    library = compile_module(hope_compile, memory_function(spec, H, D, D, "after", streaming=True),
                             tmp_path, "stream")
    session = Session(runtime, library)
    try:
        entry = session.entry("forward")
        inputs = _zero_inputs(entry)
        state = next(p["name"] for p in entry["inputs"] if p["role"] == "state" and p["shape"])
        inputs[state] = np.zeros((B + 1, *inputs[state].shape[1:]))
        with pytest.raises(RuntimeApiError, match=f"'{state}'"):
            session.invoke_map("forward", inputs)
    finally:
        session.close()


def test_each_invoke_applies_its_sessions_thread_count(runtime, hope_compile, tmp_path):
    """OpenMP keeps a thread count per OS thread: every invoke sets its session's count on the
    invoking thread, and a session with the default (0) sets the default back instead of
    inheriting the count another session left."""
    spec = SPECS["gd_linear"]
    library = compile_module(hope_compile, memory_function(spec, H, D, D, "after", streaming=True),
                             tmp_path, "stream")
    sessions = {threads: Session(runtime, library, threads=threads) for threads in (0, 3, 5)}
    try:
        entry = sessions[0].entry("forward")
        inputs = _zero_inputs(entry)
        default = int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0] or os.cpu_count())
        for threads in (3, 0, 5, 3, 0):
            sessions[threads].invoke_map("forward", inputs)
            assert sessions[threads].module_threads() == (threads or default), threads
    finally:
        for session in sessions.values():
            session.close()
