"""Module-scoped fixtures and checks of the train_step gradient tests that check several models; a
test module imports the fixtures and defines CASES, case -> (hope-models arguments, loss(weights,
data, targets), data() -> (data, targets)). Every model (its hope-models arguments: cases that
differ only in their data share it) is compiled with --train once per element type, and each
case's float64 reference gradients are computed once, on first use."""

from __future__ import annotations

import pytest

from reference import memory as M
from test_train_step import ADAMW, _build, _gradient_error, _reference_gradients


@pytest.fixture(scope="module")
def models(hope_models, hope_compile, tmp_path_factory, request):
    """models(case, element): the TrainedModel (AdamW with clipping) of the case's model."""
    cases, built = request.module.CASES, {}
    directory = tmp_path_factory.mktemp(request.module.__name__)

    def get(case: str, element: str):
        key = (tuple(cases[case][0]), element)
        if key not in built:
            built[key] = _build(hope_models, hope_compile, directory, f"{case}_{element}",
                                cases[case][0], ADAMW, element)
        return built[key]
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


def check_gradients(models, references, cases, case, element, tolerance):
    """The case's loss and every parameter's gradient from train_step equal the reference's
    to `tolerance` (relative)."""
    data, targets = cases[case][2]()
    model = models(case, element)
    loss, _, gradients = model.gradients(data.numpy(), targets.numpy())
    reference_loss, reference = references(case)
    assert set(reference) == set(model.weights)
    print(f"{case} {element}: loss {loss:.12f} (reference {reference_loss:.12f})")
    assert abs(loss - reference_loss) < tolerance * abs(reference_loss)
    assert _gradient_error(gradients, reference) < tolerance


def check_planted_error_fails(models, references, cases, case, monkeypatch):
    """The reference with the inner gradient treated as a constant (every second-order term
    dropped) is far from the compiled gradients: the check sees it."""
    exact_reference = references(case)[1]  # before the patch
    exact = M.token_grad
    monkeypatch.setattr(M, "token_grad", lambda *a, **k: [g.detach() for g in exact(*a, **k)])
    _, loss_fn, data = cases[case]
    model = models(case, "f64")
    x, targets = data()
    _, first_order = _reference_gradients(loss_fn, model.weights, x, targets)
    compiled = model.gradients(x.numpy(), targets.numpy())[2]
    assert _gradient_error(compiled, exact_reference) < 1e-9
    assert _gradient_error(compiled, first_order) > 1e-3
