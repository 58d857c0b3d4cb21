"""nl-differentiate's vector-Jacobian products of the small functions of
test/Passes/differentiate.mlir (elementwise, matmul, reduction, loops with a recorded and a
write-only iter_arg, a constant padding, a causal convolution, stop-gradient), compiled, against central finite differences in float64."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO
from differentiation import check_vjp, compile_vjp

SOURCE = REPO / "test" / "Passes" / "differentiate.mlir"
# name: (input shapes, result shapes)
FUNCTIONS = {
    "elementwise": ([(4, 3), (4, 3)], [(4, 3)]),
    "matmul": ([(4, 5), (5, 3)], [(4, 3)]),
    "reduce": ([(4, 3), (4, 3)], [(4,)]),
    "loop": ([(3,), (5, 3)], [(3,)]),
    "slices": ([(3,), (4, 3)], [(3,), (4, 3)]),
    "padded": ([(5,)], [(8,)]),
    "conv": ([(2, 5, 3), (3, 3)], [(2, 5, 3)]),
}


@pytest.fixture(scope="module")
def artifact(hope_compile, hope_opt, tmp_path_factory):
    return compile_vjp(hope_compile, hope_opt, SOURCE, [*FUNCTIONS, "stopped"],
                       tmp_path_factory.mktemp("differentiate"), "small", lower_memories=False)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_vjp_matches_finite_differences(artifact, name):
    rng = np.random.default_rng(7)
    input_shapes, result_shapes = FUNCTIONS[name]
    # Positive inputs keep reduce's division away from zero.
    inputs = [rng.uniform(0.5, 1.5, shape) for shape in input_shapes]
    cotangents = [rng.standard_normal(shape) for shape in result_shapes]
    check_vjp(artifact, name, inputs, cotangents)


def test_stop_gradient_blocks_the_second_path(artifact):
    # d/dw (w * stop_gradient(w)) = w, where without the stop it would be 2w (what finite
    # differences of the forward see).
    w = np.array([0.5, -1.0, 2.0])
    _, gradient = artifact("stopped_vjp", w, np.ones(3))
    assert np.allclose(gradient, w)
