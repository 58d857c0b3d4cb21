"""nl-differentiate's adjoint of max/min reductions (test/Passes/differentiate-extremum.mlir,
compiled): without ties against central finite differences; with ties against PyTorch
autograd through torch.amax / torch.amin, whose rule the compiler shares (the adjoint split
evenly among the candidates equal to the extremum, the reduction's init included, masked
points never), float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import REPO
from differentiation import check_vjp, compile_vjp

SOURCE = REPO / "test" / "Passes" / "differentiate-extremum.mlir"
# name: (input shapes, result shapes)
FUNCTIONS = {
    "row_max": ([(4, 3), (4, 3)], [(4,)]),
    "causal_max": ([(4,), (4, 4)], [(4,)]),
    "row_min": ([(4, 3)], [(4,)]),
    "causal_softmax": ([(4, 4)], [(4, 4)]),
}
CAUSAL = torch.tril(torch.ones(4, 4, dtype=torch.bool))


@pytest.fixture(scope="module")
def artifact(hope_compile, hope_opt, tmp_path_factory):
    return compile_vjp(hope_compile, hope_opt, SOURCE, list(FUNCTIONS),
                       tmp_path_factory.mktemp("extremum"), "extremum", lower_memories=False)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_vjp_matches_finite_differences(artifact, name):
    """Random inputs: no ties, so the extremum is differentiable and finite differences see
    the one candidate that is chosen (and, for the softmax, the exact cancellation of the
    maximum)."""
    rng = np.random.default_rng(11)
    input_shapes, result_shapes = FUNCTIONS[name]
    inputs = [rng.uniform(-1.5, 1.5, shape) for shape in input_shapes]
    cotangents = [rng.standard_normal(shape) for shape in result_shapes]
    check_vjp(artifact, name, inputs, cotangents)


def _torch_vjp(function, inputs: list[np.ndarray], cotangent: np.ndarray) -> list[np.ndarray]:
    leaves = [torch.tensor(x, requires_grad=True) for x in inputs]
    result = function(*leaves)
    gradients = torch.autograd.grad(result, leaves, torch.tensor(cotangent))
    return [result.detach().numpy()] + [g.numpy() for g in gradients]


def _compare(artifact, name, function, inputs, cotangent):
    ours = artifact(f"{name}_vjp", *inputs, cotangent)
    theirs = _torch_vjp(function, inputs, cotangent)
    for index, (a, b) in enumerate(zip(ours, theirs)):
        print(f"{name}: output {index}: max |ours - torch| {np.abs(a - b).max():.1e}")
        assert np.allclose(a, b, rtol=0, atol=1e-14), (name, index, a, b)
    return ours


def test_row_max_ties_share_the_adjoint(artifact):
    # Row 0: three equal products; row 1: two; rows 2-3: one maximum.
    x = np.array([[2.0, 2.0, 2.0], [1.0, 3.0, 3.0], [0.5, -1.0, 0.25], [-2.0, -1.0, -3.0]])
    w = np.ones_like(x)
    w[0] = [1.0, 1.0, 1.0]
    cotangent = np.array([3.0, -2.0, 0.5, 1.0])
    _, dx, _ = _compare(artifact, "row_max", lambda a, b: torch.amax(a * b, dim=1), [x, w], cotangent)
    assert np.allclose(dx[0], 1.0) and np.allclose(dx[1], [0.0, -1.0, -1.0])
    # The check can fail: torch.max's rule (the first maximum takes it all) is another one.
    first = torch.tensor(x, requires_grad=True)
    torch.max(first * torch.tensor(w), dim=1).values.backward(torch.tensor(cotangent))
    assert not np.allclose(first.grad.numpy(), dx)


def test_causal_max_init_and_masked_points(artifact):
    """m[t] = max(m0[t], max_{s <= t} a[t, s] / 2): the init ties with a visible point in row
    1 (each gets half), row 3's maximum is the init alone, and the points above the diagonal
    that are larger than the maximum (masked) get nothing."""
    m0 = np.array([-5.0, 1.0, -5.0, 9.0])
    a = np.array([[2.0, 7.0, 7.0, 7.0],
                  [2.0, 0.0, 9.0, 9.0],
                  [4.0, 4.0, 1.0, 9.0],
                  [1.0, 2.0, 3.0, 4.0]])
    cotangent = np.array([1.0, 2.0, 3.0, 4.0])

    def reference(init, scores):
        candidates = torch.where(CAUSAL, scores * 0.5, torch.tensor(float("-inf"), dtype=scores.dtype))
        return torch.amax(torch.cat([init[:, None], candidates], dim=1), dim=1)

    m, dm0, da = _compare(artifact, "causal_max", reference, [m0, a], cotangent)
    assert np.array_equal(m, [1.0, 1.0, 2.0, 9.0])
    assert np.array_equal(dm0, [0.0, 1.0, 0.0, 4.0])
    assert np.array_equal(da[1], [1.0 * 0.5, 0.0, 0.0, 0.0]) and not da[:, 1:][np.triu_indices(3)].any()


def test_row_min_ties(artifact):
    x = np.array([[0.5, 0.5, 1.0], [-1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [1.0, -2.0, 3.0]])
    cotangent = np.array([1.0, -4.0, 6.0, 2.0])
    _compare(artifact, "row_min", lambda a: torch.amin(torch.exp(a), dim=1), [x], cotangent)


def test_causal_softmax_matches_torch(artifact):
    """The attention's masked softmax, with ties in the row maxima (their adjoint cancels)."""
    a = np.array([[1.0, 5.0, 5.0, 5.0], [2.0, 2.0, 0.0, 8.0], [3.0, -1.0, 3.0, 0.0], [0.5, 0.5, 0.5, 0.5]])
    cotangent = np.random.default_rng(3).standard_normal((4, 4))

    def reference(scores):
        return torch.softmax(scores.masked_fill(~CAUSAL, float("-inf")), dim=1)

    _compare(artifact, "causal_softmax", reference, [a], cotangent)
