"""Saved memory of train_step (issue 13, docs/training.md "What is saved"): the peak bytes a
memory level's train_step allocates grow with the number of chunks T/C (the states its chunk
loop records at chunk boundaries) and with T times the width (the sequence's activations and
adjoints), not with T times the state.

The artifact's every allocation goes through the service table it is called with
(docs/artifact-abi.md; the runtime passes its session's allocator there): here a counting
table, so the peak is exact. A linear memory with momentum (width W = 128, one head, chunk
C = 32, float64): its state is W x W (128 KiB), a token's vectors are W (1 KiB), so a state
kept per token would show as 128 times the activations."""

from __future__ import annotations

import ctypes
import subprocess
import threading

import numpy as np
import pytest

from artifact import Artifact, Services, _AllocFn, _FreeFn, _libc

WIDTH, CHUNK = 128, 32
SHORT, LONG = 4 * CHUNK, 64 * CHUNK
STATE_BYTES = WIDTH * WIDTH * 8
# What the chunk loop records per chunk: the memory, its momentum and the state at the chunk's
# start (differentiate-memory.mlir); what a token costs: a few vectors of the width (the
# inputs' adjoints, the read), bounded generously.
STATES_PER_CHUNK, VECTORS_PER_TOKEN = 3, 8


class CountingServices:
    """A hope_services table (version 1) over the C library that records the bytes in use and
    their peak (thread-safe: the artifact's parallel loops allocate too)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sizes, self.in_use, self.peak = {}, 0, 0

        @_AllocFn
        def alloc(_context, size, alignment):
            alignment = max(alignment, 64)
            pointer = _libc.aligned_alloc(alignment, max(-(-size // alignment) * alignment, alignment))
            with self.lock:
                self.sizes[pointer] = size
                self.in_use += size
                self.peak = max(self.peak, self.in_use)
            return pointer

        @_FreeFn
        def free(_context, pointer):
            with self.lock:
                self.in_use -= self.sizes.pop(pointer, 0)
            _libc.free(pointer)

        self.callbacks = (alloc, free)  # alive as long as the table
        self.table = Services(ctypes.sizeof(Services), 1, None, alloc, free)


@pytest.fixture(scope="module")
def memory_level(hope_models, hope_compile, tmp_path_factory) -> Artifact:
    directory = tmp_path_factory.mktemp("train_step_memory")
    source, library = directory / "level.mlir", directory / "level.so"
    for command in ([hope_models, "memory-level", "--config=linear-momentum", f"--width={WIDTH}",
                     "--heads=1", f"--chunk={CHUNK}", "--dtype=f64", "-o", source],
                    [hope_compile, source, "--train", "--optimizer=sgd", "-O1", "-o", library]):
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")
    return Artifact(library)


def _peak_bytes(artifact: Artifact, tokens: int) -> tuple[int, float]:
    """The peak bytes in use during one train_step over `tokens` tokens, and its loss."""
    generator = np.random.default_rng(tokens)
    sequence = lambda scale: scale * generator.standard_normal((1, 1, tokens, WIDTH))
    rate = lambda value: np.full((1, 1, tokens), value)
    inputs = [sequence(WIDTH ** -0.5), sequence(1.0), rate(0.1), rate(0.95), rate(0.5),
              sequence(WIDTH ** -0.5), sequence(1.0),  # keys .. queries, then targets
              np.array(0.01), np.array(1, np.int64),  # learning_rate, step
              0.01 * generator.standard_normal((1, WIDTH, WIDTH)), np.zeros((1, WIDTH, WIDTH))]
    counting = CountingServices()
    loss, _ = artifact("train_step", *inputs, services=counting.table)
    # Left: the two scalar outputs, which the caller frees with the C library's free.
    assert counting.in_use < 1024, counting.in_use
    return counting.peak, float(loss)


def test_saved_memory_grows_with_chunks_not_tokens_times_state(memory_level):
    names = [spec["name"] for spec in memory_level.entry("train_step")["inputs"]]
    assert names[6:9] == ["targets", "learning_rate", "step"] and names[-2:] == ["M.W", "M.W.sgd_m"], names
    short, short_loss = _peak_bytes(memory_level, SHORT)
    long, long_loss = _peak_bytes(memory_level, LONG)
    assert np.isfinite(short_loss) and np.isfinite(long_loss)
    growth = long - short
    more_chunks, more_tokens = (LONG - SHORT) // CHUNK, LONG - SHORT
    bound = (more_chunks * STATES_PER_CHUNK * STATE_BYTES
             + more_tokens * VECTORS_PER_TOKEN * WIDTH * 8)
    state_per_token = more_tokens * STATE_BYTES
    print(f"\npeak bytes: T = {SHORT} ({SHORT // CHUNK} chunks) {short}, "
          f"T = {LONG} ({LONG // CHUNK} chunks) {long}; growth {growth} = "
          f"{growth / STATE_BYTES:.1f} states of {STATE_BYTES} bytes "
          f"(bound {bound}: {more_chunks} chunks x {STATES_PER_CHUNK} states + {more_tokens} "
          f"tokens x {VECTORS_PER_TOKEN} vectors; a state per token: {state_per_token})")
    assert growth >= more_chunks * STATE_BYTES  # the boundary states are recorded: seen here
    assert growth <= bound
    assert growth < state_per_token / 4
