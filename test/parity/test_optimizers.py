"""Compiled optimizer levels (`hope-models optimizer-step`, nl-lower-optimizers) against
torch.optim.SGD (momentum, coupled weight decay) and torch.optim.AdamW, and against the
float64 references of Muon and M3 in test/reference/optimizers.py (AdamW, from torch.optim, on
their non-matrix parameters), over several steps of a fixed gradient sequence, with gradient
clipping by global norm and a warm-up + cosine schedule of the run-time learning rate; a
parameter group updated every f steps at its period. Tolerances (semantics doc, section 8):
float64 1e-9; float32 against the float64 reference 1e-5. A planted error (AdamW without bias
correction) is shown to fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artifact import Artifact, build_model, compile_module
from reference import optimizers as ref

SHAPES = [(6, 4), (3, 5), (4,)]  # a tall matrix (NS5 transposes it), a wide one, a vector
STEPS = 6
BASE_LR = 0.05
SCHEDULE = dict(warmup=2, total=STEPS, min_ratio=0.1)
CLIP = 2.0  # below the gradients' global norm (~6): clipping is active
TOLERANCE = {"f64": 1e-9, "f32": 1e-5}
NUMPY = {"f64": np.float64, "f32": np.float32}

HYPER = {
    "sgd": dict(momentum=0.9, weight_decay=0.01),
    "adamw": dict(beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1),
    "muon": dict(momentum=0.95, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1),
    "m3": dict(m3_beta1=0.9, m3_beta2=0.99, m3_beta3=0.5, m3_alpha=0.5, m3_every=2,
               beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1),
}


def _flags(optimizer: str) -> list[str]:
    flags = [f"--optimizer={optimizer}", "--shapes=" + ",".join("x".join(map(str, s)) for s in SHAPES),
             f"--clip={CLIP}", f"--warmup={SCHEDULE['warmup']}", f"--total-steps={SCHEDULE['total']}",
             f"--min-lr-ratio={SCHEDULE['min_ratio']}"]
    for key, value in HYPER[optimizer].items():
        flags.append(f"--{key.replace('_', '-')}={value}")
    return flags


def _problem():
    """Initial parameters and the gradient sequence (float64, seeded)."""
    generator = torch.Generator().manual_seed(7)
    params = [torch.randn(s, generator=generator, dtype=torch.float64) for s in SHAPES]
    grads = [[torch.randn(s, generator=generator, dtype=torch.float64) for s in SHAPES]
             for _ in range(STEPS)]
    return params, grads


def _rate(step: int) -> float:
    return ref.scheduled_lr(BASE_LR, step, **SCHEDULE)


@pytest.fixture(scope="module")
def artifacts(hope_models, hope_compile, tmp_path_factory):
    """One compiled step per (optimizer, dtype), built on first use."""
    directory = tmp_path_factory.mktemp("optimizers")
    cache = {}

    def get(optimizer: str, dtype: str) -> Artifact:
        if (optimizer, dtype) not in cache:
            name = f"{optimizer}_{dtype}"
            library = build_model(hope_models, hope_compile, directory, name,
                                  ["optimizer-step", *_flags(optimizer), f"--dtype={dtype}"])
            cache[optimizer, dtype] = Artifact(library)
        return cache[optimizer, dtype]
    return get


def run_compiled(artifact: Artifact, dtype: str, params, grads) -> list[np.ndarray]:
    """STEPS calls of @optimizer_step, the states (zero at first) carried by name; the rate
    given is the base rate (the step's nl.lr_schedule applies the schedule)."""
    numpy_type = NUMPY[dtype]
    entry = artifact.entry("optimizer_step")
    state = {f"p{i}": p.numpy().astype(numpy_type) for i, p in enumerate(params)}
    for spec in entry["inputs"]:
        if spec["role"] == "state" and spec["name"] not in state:
            state[spec["name"]] = np.zeros(spec["shape"], numpy_type)
    for step, step_grads in enumerate(grads, start=1):
        feed = dict(state, lr=np.array(BASE_LR, numpy_type), step=np.array(step, np.int64))
        feed.update({f"grad.p{i}": g.numpy().astype(numpy_type) for i, g in enumerate(step_grads)})
        outputs = artifact("optimizer_step", *[feed[spec["name"]] for spec in entry["inputs"]])
        state.update({spec["name"]: value for spec, value in zip(entry["outputs"], outputs)})
    return [state[f"p{i}"] for i in range(len(params))]


def _torch_run(make_optimizer, params, grads, clip: bool = True, schedule: bool = True):
    """A torch.optim optimizer over the sequence, clipped (over the whole group) and scheduled
    as the compiled step is (or not, to show that both matter)."""
    weights = [p.clone().requires_grad_(True) for p in params]
    optimizer = make_optimizer(weights)
    for step, step_grads in enumerate(grads, start=1):
        used = ref.clip_by_global_norm(step_grads, CLIP) if clip else step_grads
        for weight, grad in zip(weights, used):
            weight.grad = grad.clone()
        for group in optimizer.param_groups:
            group["lr"] = _rate(step) if schedule else BASE_LR
        optimizer.step()
    return [w.detach() for w in weights]


def reference(optimizer: str, params, grads) -> list[torch.Tensor]:
    h = HYPER[optimizer]
    if optimizer == "sgd":
        return _torch_run(lambda w: torch.optim.SGD(w, lr=BASE_LR, momentum=h["momentum"],
                                                    weight_decay=h["weight_decay"]), params, grads)
    adamw = lambda w: torch.optim.AdamW(w, lr=BASE_LR, betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                        weight_decay=h["weight_decay"])
    if optimizer == "adamw":
        return _torch_run(adamw, params, grads)
    # Muon and M3: the doc's rule on matrices (the reference), torch's AdamW on the rest, all
    # from the gradients clipped over the whole group.
    clipped = [ref.clip_by_global_norm(step_grads, CLIP) for step_grads in grads]
    rest = [i for i, p in enumerate(params) if p.dim() != 2]
    adamw_result = _torch_run(adamw, [params[i] for i in rest],
                              [[g[i] for i in rest] for g in clipped], clip=False)
    results = [p.clone() for p in params]
    states = [[torch.zeros_like(p) for _ in range(4)] for p in params]
    for step, step_grads in enumerate(clipped, start=1):
        for i, p in enumerate(params):
            if p.dim() != 2:
                continue
            if optimizer == "muon":
                results[i], states[i][0] = ref.muon_step(results[i], step_grads[i], states[i][0],
                                                         _rate(step), h["momentum"])
            else:
                results[i], *states[i] = ref.m3_step(
                    results[i], step_grads[i], *states[i], _rate(step), step, h["m3_beta1"],
                    h["m3_beta2"], h["m3_beta3"], h["m3_alpha"], h["eps"], h["m3_every"])
    for i, value in zip(rest, adamw_result):
        results[i] = value
    return results


def relative_error(ys, refs) -> float:
    return max(float(np.abs(y.astype(np.float64) - r.numpy()).max() / np.abs(r.numpy()).max())
               for y, r in zip(ys, refs))


@pytest.mark.parametrize("dtype", ["f64", "f32"])
@pytest.mark.parametrize("optimizer", ["sgd", "adamw", "muon", "m3"])
def test_optimizer_matches_reference(artifacts, optimizer, dtype):
    params, grads = _problem()
    compiled = run_compiled(artifacts(optimizer, dtype), dtype, params, grads)
    expected = reference(optimizer, params, grads)
    error = relative_error(compiled, expected)
    print(f"{optimizer} {dtype}: {STEPS} steps, error {error:.1e}")
    assert error <= TOLERANCE[dtype]
    # The parameters moved: the comparison is not of untouched inputs.
    assert relative_error([p.numpy() for p in params], expected) > 1e-3


def test_planted_error_fails(artifacts):
    """AdamW without its bias correction differs from the compiled step by far more than the
    tolerance: the comparison above would catch that bug."""
    params, grads = _problem()
    compiled = run_compiled(artifacts("adamw", "f64"), "f64", params, grads)
    h = HYPER["adamw"]
    planted = [p.clone() for p in params]
    moments = [[torch.zeros_like(p), torch.zeros_like(p)] for p in params]
    for step, step_grads in enumerate(grads, start=1):
        for i, grad in enumerate(ref.clip_by_global_norm(step_grads, CLIP)):
            planted[i], *moments[i] = ref.adamw_step(
                planted[i], grad, *moments[i], _rate(step), step, h["beta1"], h["beta2"], h["eps"],
                h["weight_decay"], bias_correction=False)
    error = relative_error(compiled, planted)
    print(f"adamw without bias correction: error {error:.1e}")
    assert error > 1e3 * TOLERANCE["f64"]


def test_schedule_and_clipping_are_applied(artifacts):
    """Without the schedule or without clipping, torch's SGD ends elsewhere: both are part of
    what the parity above checks."""
    params, grads = _problem()
    compiled = run_compiled(artifacts("sgd", "f64"), "f64", params, grads)
    h = HYPER["sgd"]
    sgd = lambda w: torch.optim.SGD(w, lr=BASE_LR, momentum=h["momentum"], weight_decay=h["weight_decay"])
    assert relative_error(compiled, _torch_run(sgd, params, grads, clip=False)) > 1e-3
    assert relative_error(compiled, _torch_run(sgd, params, grads, schedule=False)) > 1e-3


PERIODIC_STEP = """
func.func @periodic(%w: tensor<3x2xf64> {nl.state = "w"}, %m: tensor<3x2xf64> {nl.state = "w.m"},
                    %g: tensor<3x2xf64> {nl.input = "g"}, %r: tensor<f64> {nl.input = "lr"},
                    %t: tensor<i64> {nl.input = "step"})
    -> (tensor<3x2xf64> {nl.state = "w"}, tensor<3x2xf64> {nl.state = "w.m"}) {
  %m1 = nl.moment "w.m" %m, %g {every = #nl.every<1 steps>, decay = 0.5, scale = -1.0} : tensor<3x2xf64>
  %w1 = nl.param_update "w" %w with(%m1 : tensor<3x2xf64>) step(%t : tensor<i64>) lr(%r : tensor<f64>)
      {every = #nl.every<3 steps>, rule = #nl.sgd_momentum} : tensor<3x2xf64>
  return %w1, %m1 : tensor<3x2xf64>, tensor<3x2xf64>
}
"""


def test_periodic_group_updates_at_its_period(hope_compile, tmp_path):
    """A parameter group every 3 steps: its momentum moves every step, the parameter only at
    steps 3 and 6 (float64, exact up to rounding)."""
    artifact = Artifact(compile_module(hope_compile, PERIODIC_STEP, tmp_path, "periodic"))
    generator = torch.Generator().manual_seed(3)
    w = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    m = torch.zeros(3, 2, dtype=torch.float64)
    cw, cm = w.numpy().copy(), m.numpy().copy()
    for step in range(1, 7):
        g = torch.randn(3, 2, generator=generator, dtype=torch.float64)
        cw, cm = artifact("periodic", cw, cm, g.numpy(), np.array(0.1), np.array(step, np.int64))
        m = 0.5 * m - g
        if step % 3 == 0:
            w = w + 0.1 * m
        assert relative_error([cw, cm], [w, m]) <= 1e-15, step
