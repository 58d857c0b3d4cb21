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
from test_train_step import (VOCABULARY, _adamw_against_torch, _block_data, _gradient_error, _lm_data,
                             _reference_gradients)
from train_cases import models, references  # noqa: F401 (fixtures over CASES)

OPTIONS = HB.HopeOptions(HB.SelfModOptions(heads=2), mixer="attention")
BLOCK_ARGS = ["hope-block", "--config=tiny", "--mixer=attention", "--width=16", "--heads=2", "--seed=3"]
LM_ARGS = ["hope-lm", "--config=tiny", "--mixer=attention", "--seed=5"]


def _block_attention_loss(weights, x, targets):
    return F.mse_loss(HB.hope_block(x, weights, OPTIONS), targets)


def _lm_attention_loss(weights, tokens, targets):
    logits = LM.hope_lm(tokens, weights, OPTIONS)
    return F.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1), ignore_index=-1)


# case: (hope-models arguments, loss, data)
CASES = {"block": (BLOCK_ARGS, _block_attention_loss, _block_data),
         "lm": (LM_ARGS, _lm_attention_loss, _lm_data)}


@pytest.mark.parametrize("element,tolerance", [("f64", 1e-9), ("f32", 1e-4)])
@pytest.mark.parametrize("case", list(CASES))
def test_gradients(models, references, case, element, tolerance):
    data, targets = CASES[case][2]()
    loss, _, gradients = models(case, element).gradients(data.numpy(), targets.numpy())
    reference_loss, reference = references(case)
    assert {"w_q", "w_k", "w_v", "w_o", "attn_norm"} <= {name.split(".")[-1] for name in reference}
    assert abs(loss - reference_loss) < tolerance * abs(reference_loss)
    assert _gradient_error(gradients, reference) < tolerance


def test_planted_error_fails(models, references, monkeypatch):
    """The reference with the attention probabilities treated as constants (no gradient
    through the softmax into the scores) is far from the compiled gradients."""
    softmax = torch.softmax
    monkeypatch.setattr(torch, "softmax", lambda scores, dim: softmax(scores, dim=dim).detach())
    block = models("block", "f64")
    x, targets = _block_data()
    _, planted = _reference_gradients(_block_attention_loss, block.weights, x, targets)
    compiled = block.gradients(x.numpy(), targets.numpy())[2]
    assert _gradient_error(compiled, references("block")[1]) < 1e-9
    assert _gradient_error(compiled, planted) > 1e-3


def test_block_adamw_steps(models):
    x, targets = _block_data()
    _adamw_against_torch(models("block", "f64"), _block_attention_loss, x, targets, 1e-9)
