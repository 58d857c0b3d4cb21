"""Gradients of one memory level's forward through its chunked inner updates (issue 13): the
compiled `forward_vjp` that nl-differentiate emits on the tensor IR after nl-lower-memories
against PyTorch autograd through the token-by-token reference (test/reference/memory.py, whose
inner gradients keep their graph: create_graph), for loss = sum(y * R) + sum(final * S) with
fixed random R, S. d loss / d (keys, values, lr, retention, momentum, queries, initial state);
float64 to 1e-9, float32 to 1e-4 (semantics doc, section 8); T a multiple of C and not.
A planted error (the inner gradient treated as a constant: every second-order term dropped)
must fail the same check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artifact import relative_error
from differentiation import compile_vjp
from memory_ir import memory_function
from reference import memory as ref

B, H, D = 2, 2, 4
CHUNK = 4
CONFIGS = {
    "linear-momentum": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.MomentumGD(order=1), chunk=CHUNK),
    "linear-dgd": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.DGD(), chunk=CHUNK),
    "mlp-momentum": ref.MemorySpec(ref.MLPModel(hidden=5), ref.L2(), ref.MomentumGD(order=1), chunk=CHUNK),
    "mlp-dgd": ref.MemorySpec(ref.MLPModel(hidden=5), ref.L2(), ref.DGD(), chunk=CHUNK),
    "linear-dot-dgd": ref.MemorySpec(ref.LinearModel(), ref.Dot(), ref.DGD(), chunk=CHUNK),
    # titans-pytorch's form: GELU, post-norm (a LayerNorm scale in the state), mean L2,
    # per-chunk retention and momentum, linearisation period 8.
    "chunk-aggregated": ref.MemorySpec(
        ref.MLPModel(hidden=5, activation="gelu", norm="post"), ref.L2(reduction="mean"),
        ref.MomentumGD(order=1, retention="chunk", momentum="chunk"), chunk=CHUNK,
        chunk_aggregated=ref.ChunkAggregated(linearize=8)),
}
_artifacts: dict = {}


def _artifact(hope_compile, hope_opt, directory, config, point, element):
    key = (config, point, element)
    if key not in _artifacts:
        source = directory / f"{config}-{point}-{element}.mlir"
        source.write_text(memory_function(CONFIGS[config], H, D, D, point, element))
        _artifacts[key] = compile_vjp(hope_compile, hope_opt, source, ["forward"], directory,
                                      f"{config}-{point}-{element}")
    return _artifacts[key]


def _inputs(spec, tokens, seed=0):
    gen = torch.Generator().manual_seed(seed)
    rand = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)
    k, v, q = rand(B, H, tokens, D), rand(B, H, tokens, D), rand(B, H, tokens, D)
    chunks = -(-tokens // spec.chunk)
    length = lambda grain: chunks if grain == "chunk" else tokens
    lr = 0.02 + 0.08 * torch.rand(B, H, tokens, generator=gen, dtype=torch.float64)
    retention = 0.8 + 0.2 * torch.rand(B, H, length(spec.rule.retention), generator=gen,
                                       dtype=torch.float64)
    momentum = [0.5 + 0.4 * torch.rand(B, H, length(getattr(spec.rule, "momentum", "token")),
                                       generator=gen, dtype=torch.float64)
                for _ in range(spec.momentum_order())]
    layout = ref.state_layout(spec.model, D, D)
    init = [0.5 * rand(H, *p.shape) + (1.0 if p.name == "norm" else 0.0) for p in layout]
    inputs = [k, v, lr, retention, *momentum, q, *init]
    cotangents = [rand(B, H, tokens, D)] + [rand(B, H, *p.shape) for p in layout]
    return inputs, cotangents


def _reference_gradients(spec, point, inputs, cotangents):
    """torch.autograd through the token-by-token reference, second-order terms included."""
    leaves = [t.clone().requires_grad_() for t in inputs]
    order = spec.momentum_order()
    k, v, lr, retention = leaves[:4]
    momentum = leaves[4:4 + order]
    q = leaves[4 + order]
    init = leaves[5 + order:]
    y, final = ref.run_and_read(spec, init, k, v, lr, q, point, retention, momentum)
    loss = sum((o * c).sum() for o, c in zip([y, *final], cotangents))
    gradients = torch.autograd.grad(loss, leaves, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g.detach() for x, g in zip(leaves, gradients)]


def _compiled_gradients(artifact, inputs, cotangents, numpy_type):
    arrays = [t.numpy().astype(numpy_type) for t in [*inputs, *cotangents]]
    outputs = artifact("forward_vjp", *arrays)
    return outputs[len(cotangents):]


def _max_error(gradients, references):
    return max(relative_error(g.astype(np.float64), r.numpy()) for g, r in zip(gradients, references))


CASES = [("linear-momentum", "after", 8), ("linear-momentum", "after", 10),
         ("linear-momentum", "chunk_start", 10), ("linear-dgd", "after", 10),
         ("mlp-momentum", "after", 10), ("mlp-dgd", "chunk_start", 10),
         ("linear-dot-dgd", "after", 9), ("chunk-aggregated", "after", 16),
         ("chunk-aggregated", "after", 10)]


@pytest.mark.parametrize("config,point,tokens", CASES,
                         ids=[f"{c}-{p}-T{t}" for c, p, t in CASES])
def test_gradients_float64(hope_compile, hope_opt, tmp_path_factory, config, point, tokens):
    spec = CONFIGS[config]
    directory = tmp_path_factory.getbasetemp()
    artifact = _artifact(hope_compile, hope_opt, directory, config, point, "f64")
    inputs, cotangents = _inputs(spec, tokens)
    gradients = _compiled_gradients(artifact, inputs, cotangents, np.float64)
    references = _reference_gradients(spec, point, inputs, cotangents)
    names = ["keys", "values", "lr", "retention"] + [f"momentum{i}" for i in range(spec.momentum_order())] \
        + ["queries"] + [f"init{i}" for i in range(len(inputs) - 5 - spec.momentum_order())]
    for name, g, r in zip(names, gradients, references):
        print(f"{config} {point} T={tokens} d/d {name}: error {relative_error(g, r.numpy()):.1e}")
    assert _max_error(gradients, references) < 1e-9


def test_gradients_float32(hope_compile, hope_opt, tmp_path_factory):
    spec = CONFIGS["mlp-momentum"]
    artifact = _artifact(hope_compile, hope_opt, tmp_path_factory.getbasetemp(), "mlp-momentum",
                         "after", "f32")
    inputs, cotangents = _inputs(spec, 10)
    gradients = _compiled_gradients(artifact, inputs, cotangents, np.float32)
    error = _max_error(gradients, _reference_gradients(spec, "after", inputs, cotangents))
    print(f"float32 error {error:.1e}")
    assert error < 1e-4


def test_planted_error_fails(hope_compile, hope_opt, tmp_path_factory, monkeypatch):
    """The reference with the inner gradient treated as a constant (no second-order term)
    disagrees with the compiled gradients far beyond the tolerance: the check sees them."""
    spec = CONFIGS["linear-momentum"]
    artifact = _artifact(hope_compile, hope_opt, tmp_path_factory.getbasetemp(), "linear-momentum",
                         "after", "f64")
    inputs, cotangents = _inputs(spec, 10)
    gradients = _compiled_gradients(artifact, inputs, cotangents, np.float64)
    exact = ref.token_grad
    monkeypatch.setattr(ref, "token_grad", lambda *a, **k: [g.detach() for g in exact(*a, **k)])
    first_order = _reference_gradients(spec, "after", inputs, cotangents)
    # Relative to the compiled gradients: d loss / d keys is all zero to first order.
    error = max(np.abs(g - r.numpy()).max() / np.abs(g).max() for g, r in zip(gradients, first_order))
    print(f"against the first-order reference: error {error:.1e}")
    assert error > 1e-3
