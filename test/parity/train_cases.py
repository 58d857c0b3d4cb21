"""Module-scoped fixtures of the train_step gradient tests that check several models; a test
module imports them and defines CASES, case -> (hope-models arguments, loss(weights, data,
targets), data() -> (data, targets)). Every case is compiled with --train once per element type
and its float64 reference gradients computed once, on first use."""

from __future__ import annotations

import pytest

from test_train_step import ADAMW, _build, _reference_gradients


@pytest.fixture(scope="module")
def models(hope_models, hope_compile, tmp_path_factory, request):
    """models(case, element): the case's TrainedModel (AdamW with clipping)."""
    cases, built = request.module.CASES, {}
    directory = tmp_path_factory.mktemp(request.module.__name__)

    def get(case: str, element: str):
        if (case, element) not in built:
            built[case, element] = _build(hope_models, hope_compile, directory, f"{case}_{element}",
                                          cases[case][0], ADAMW, element)
        return built[case, element]
    return get


@pytest.fixture(scope="module")
def references(models, request):
    """references(case): the loss and autograd gradients of the float64 reference at the
    case's seeded weights."""
    cases, computed = request.module.CASES, {}

    def get(case: str):
        if case not in computed:
            _, loss_fn, data = cases[case]
            computed[case] = _reference_gradients(loss_fn, models(case, "f64").weights, *data())
        return computed[case]
    return get
