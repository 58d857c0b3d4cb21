"""One streaming problem for a memory level: random keys, values, queries and rates for B
sequences of T tokens (per-chunk rates where the rule has them), a random initial state, and
the token-by-token reference's reads and final state on the whole sequence (float64). Shared
by the tests that stream it in pieces through the artifact's ABI and through the runtime."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reference import memory as ref


@dataclass
class StreamingCase:
    spec: ref.MemorySpec
    chunk: int
    k: torch.Tensor
    v: torch.Tensor
    q: torch.Tensor
    lr: torch.Tensor
    retention: torch.Tensor
    momentum: list
    init: list
    y_ref: torch.Tensor
    final_ref: list

    def rates(self, a: int, b: int) -> list:
        """lr, retention and the momentum decays of tokens [a, b): per-chunk rates sliced to
        the chunks those tokens touch."""
        T, C = self.k.shape[2], self.chunk
        chunks = -(-T // C)

        def piece(rate):
            if rate.shape[-1] == chunks and T != chunks:
                return rate[..., a // C: -(-b // C)]
            return rate[..., a:b]
        return [self.lr[..., a:b], piece(self.retention)] + [piece(m) for m in self.momentum]


def streaming_case(spec: ref.MemorySpec, B: int, H: int, D: int, T: int, seed: int) -> StreamingCase:
    C = spec.chunk
    gen = torch.Generator().manual_seed(seed)
    rand = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)
    k, v, q = rand(B, H, T, D), rand(B, H, T, D), rand(B, H, T, D)
    chunks = -(-T // C)
    grain = lambda g: chunks if g == "chunk" else T
    lr = 0.1 * torch.rand(B, H, T, generator=gen, dtype=torch.float64)
    retention = 0.9 + 0.1 * torch.rand(B, H, grain(spec.rule.retention), generator=gen, dtype=torch.float64)
    momentum = [0.5 + 0.4 * torch.rand(B, H, grain(getattr(spec.rule, "momentum", "token")), generator=gen,
                                       dtype=torch.float64) for _ in range(spec.momentum_order())]
    init = [0.3 * rand(H, *p.shape) + (1.0 if p.name == "norm" else 0.0)
            for p in ref.state_layout(spec.model, D, D)]
    y_ref, final_ref = ref.run_and_read(spec, init, k, v, lr, q, "after", retention, momentum)
    return StreamingCase(spec, C, k, v, q, lr, retention, momentum, init, y_ref, final_ref)


def first_state(case: StreamingCase, batch: int) -> list:
    """What the first piece carries in, in the streaming function's order (memory_ir's
    memory_function): the initial state per sequence, zero momentum, the reference (the
    state), zero pending gradient sums (chunk-aggregated only), position 0."""
    state = [np.broadcast_to(w.numpy(), (batch, *w.shape)).copy() for w in case.init]
    momentum = [np.zeros_like(s) for _ in range(case.spec.momentum_order()) for s in state]
    reference = [s.copy() for s in state]
    pending = [np.zeros_like(s) for s in state] if case.spec.chunk_aggregated is not None else []
    return [*state, *momentum, *reference, *pending, np.array(0, dtype=np.int64)]
