"""Streaming equals one shot: a sequence given in pieces (split at every point 1..T-1, and
one token at a time), each piece carrying what nl.stream_state and nl.final_state return to
the next, gives the reads and the final state of the token-by-token reference on the whole
sequence (float64, 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest

from artifact import Artifact, compile_module
from memory_ir import memory_function
from streaming_case import first_state, streaming_case
from reference import memory as ref

B, H, D, T, C = 2, 2, 4, 7, 3
CHUNK_RATES = dict(retention="chunk", momentum="chunk")
SPECS = {
    "momentum_mlp": ref.MemorySpec(ref.MLPModel(hidden=5, activation="gelu", norm="post"), ref.L2(),
                                   ref.MomentumGD(order=1), chunk=C),
    "gd_linear": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.MomentumGD(order=0), chunk=C),
    "momentum_chunk_rates": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.MomentumGD(order=1, **CHUNK_RATES),
                                           chunk=C),
    "dgd_mlp": ref.MemorySpec(ref.MLPModel(hidden=5), ref.L2(), ref.DGD(), chunk=C),
    "dgd_momentum_linear": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.DGD(momentum=True), chunk=C),
    "aggregated": ref.MemorySpec(ref.LinearModel(), ref.L2(reduction="mean"), ref.MomentumGD(order=1, **CHUNK_RATES),
                                 chunk=C, chunk_aggregated=ref.ChunkAggregated(C)),
    "aggregated_linearize_6": ref.MemorySpec(ref.MLPModel(hidden=5), ref.L2(), ref.MomentumGD(order=1, **CHUNK_RATES),
                                             chunk=C, chunk_aggregated=ref.ChunkAggregated(2 * C)),
    "aggregated_sequence": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.MomentumGD(order=0, **CHUNK_RATES),
                                          chunk=C, chunk_aggregated=ref.ChunkAggregated(None)),
}


def _splits():
    for t0 in range(1, T):
        yield [0, t0, T]
    yield list(range(T + 1))  # one token at a time


@pytest.mark.parametrize("name", list(SPECS))
def test_pieces_equal_one_shot(hope_compile, tmp_path, name):
    spec = SPECS[name]
    aggregated = spec.chunk_aggregated is not None
    order = spec.momentum_order()
    layout = ref.state_layout(spec.model, D, D)
    artifact = Artifact(compile_module(
        hope_compile, memory_function(spec, H, D, D, "after", streaming=True), tmp_path, "stream"))

    case = streaming_case(spec, B, H, D, T, seed=7)
    k, v, q = case.k, case.v, case.q

    for bounds in _splits():
        first = first_state(case, B)
        n = len(layout) * (1 + order)
        state, reference = first[:n], first[n:n + len(layout)]
        pending, position = first[n + len(layout):-1], first[-1]
        pieces = []
        for a, b in zip(bounds, bounds[1:]):
            rates = case.rates(a, b)
            inputs = [k[..., a:b, :], v[..., a:b, :], *rates, q[..., a:b, :]]
            outputs = artifact("forward", *[t.numpy() for t in inputs], *state, *reference, *pending, position)
            pieces.append(outputs[0])
            n = len(state)
            state = outputs[1:1 + n]
            reference = outputs[1 + n:1 + n + len(layout)]
            pending = outputs[1 + n + len(layout):-1] if aggregated else []
            position = outputs[-1]
        assert int(position) == T
        y = np.concatenate(pieces, axis=2)
        error = np.abs(y - case.y_ref.numpy()).max() / np.abs(case.y_ref.numpy()).max()
        assert error < 1e-9, f"reads, pieces {bounds}"
        for s, r in zip(state, case.final_ref):
            assert np.abs(s - r.numpy()).max() / np.abs(r.numpy()).max() < 1e-9, f"final state, pieces {bounds}"
