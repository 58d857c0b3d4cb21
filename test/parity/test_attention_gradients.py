"""train_step of HOPE-Attention (`--mixer=attention`: causal softmax attention, then the frozen
CMS) against PyTorch autograd through the token-by-token reference (test/reference/
hope_block.py's causal_attention, a torch.softmax per query), as test_train_step.py does for the
self-modifying Titans: the gradients read back from AdamW's first moment after one step equal
the reference's autograd gradients of the mean squared error (HOPE block, width 16, T = 11) and of
the mean cross-entropy (tiny HOPE LM, T = 11, some targets ignored), float64 to 1e-9 and float32
to 1e-4 (semantics doc, section 8); 3 AdamW steps with clipping equal torch.optim.AdamW (block).
hope-lm has no config between tiny and 340m, so tiny is the LM checked.

The attention's row maxima go through nl-differentiate's max-reduction rule
(DifferentiateExtremum.cpp); their adjoint cancels in the softmax, so what this checks is the
gradient through the masked scores, the exponentials and the normalisation around them. A planted
error (the attention probabilities detached from the scores: no gradient reaches w_q, w_k or
their norm through the softmax) fails the check. Artifacts compiled at -O0."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import hope_block as HB
from reference import hope_lm as LM
from test_train_step import (ADAMW, VOCABULARY, _adamw_against_torch, _block_data, _build,
                             _gradient_error, _lm_data, _reference_gradients)

OPTIONS = HB.HopeOptions(HB.SelfModOptions(heads=2), mixer="attention")
BLOCK_ARGS = ["hope-block", "--config=tiny", "--mixer=attention", "--width=16", "--heads=2", "--seed=3"]
LM_ARGS = ["hope-lm", "--config=tiny", "--mixer=attention", "--seed=5"]


def _block_attention_loss(weights, x, targets):
    return F.mse_loss(HB.hope_block(x, weights, OPTIONS), targets)


def _lm_attention_loss(weights, tokens, targets):
    logits = LM.hope_lm(tokens, weights, OPTIONS)
    return F.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1), ignore_index=-1)


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return tmp_path_factory.mktemp("attention_gradients")


@pytest.fixture(scope="module")
def block_f64(hope_models, hope_compile, directory):
    return _build(hope_models, hope_compile, directory, "attention_block_f64", BLOCK_ARGS, ADAMW, "f64")


@pytest.fixture(scope="module")
def block_reference(block_f64):
    x, targets = _block_data()
    return _reference_gradients(_block_attention_loss, block_f64.weights, x, targets)


def test_block_gradients_f64(block_f64, block_reference):
    x, targets = _block_data()
    loss, _, gradients = block_f64.gradients(x.numpy(), targets.numpy())
    reference_loss, reference = block_reference
    assert {"w_q", "w_k", "w_v", "w_o", "attn_norm"} <= set(reference)
    assert abs(loss - reference_loss) < 1e-9 * abs(reference_loss)
    assert _gradient_error(gradients, reference) < 1e-9


def test_block_gradients_f32(hope_models, hope_compile, directory, block_reference):
    model = _build(hope_models, hope_compile, directory, "attention_block_f32", BLOCK_ARGS, ADAMW, "f32")
    x, targets = _block_data()
    assert _gradient_error(model.gradients(x.numpy(), targets.numpy())[2], block_reference[1]) < 1e-4


def test_planted_error_fails(block_f64, block_reference, monkeypatch):
    """The reference with the attention probabilities treated as constants (no gradient
    through the softmax into the scores) is far from the compiled gradients."""
    softmax = torch.softmax
    monkeypatch.setattr(torch, "softmax", lambda scores, dim: softmax(scores, dim=dim).detach())
    x, targets = _block_data()
    _, planted = _reference_gradients(_block_attention_loss, block_f64.weights, x, targets)
    compiled = block_f64.gradients(x.numpy(), targets.numpy())[2]
    assert _gradient_error(compiled, block_reference[1]) < 1e-9
    assert _gradient_error(compiled, planted) > 1e-3


def test_block_adamw_steps(block_f64):
    x, targets = _block_data()
    _adamw_against_torch(block_f64, _block_attention_loss, x, targets, 1e-9)


@pytest.fixture(scope="module")
def lm_f64(hope_models, hope_compile, directory):
    return _build(hope_models, hope_compile, directory, "attention_lm_f64", LM_ARGS, ADAMW, "f64")


@pytest.fixture(scope="module")
def lm_reference(lm_f64):
    tokens, targets = _lm_data()
    return _reference_gradients(_lm_attention_loss, lm_f64.weights, tokens, targets)


def test_lm_gradients_f64(lm_f64, lm_reference):
    tokens, targets = _lm_data()
    loss, _, gradients = lm_f64.gradients(tokens.numpy(), targets.numpy())
    reference_loss, reference = lm_reference
    assert abs(loss - reference_loss) < 1e-9 * abs(reference_loss)
    assert _gradient_error(gradients, reference) < 1e-9


def test_lm_gradients_f32(hope_models, hope_compile, directory, lm_reference):
    model = _build(hope_models, hope_compile, directory, "attention_lm_f32", LM_ARGS, ADAMW, "f32")
    tokens, targets = _lm_data()
    assert _gradient_error(model.gradients(tokens.numpy(), targets.numpy())[2], lm_reference[1]) < 1e-4
