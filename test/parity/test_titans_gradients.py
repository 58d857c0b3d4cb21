"""train_step of the two Titans models on their own (issue 13), `hope-models titans-memory` and
`hope-models self-modifying-titans` at their tiny configs, against PyTorch autograd through the
token-by-token references (test/reference/titans_memory.py, hope_block.py's
self_modifying_titans), whose inner gradients keep their graph (create_graph): the gradients
read back from AdamW's first moment after one step (test_train_step.py's TrainedModel) equal the
reference's autograd gradients of the mean squared error against random targets (neither model
ends in logits), float64 to 1e-9 and float32 to 1e-4 (semantics doc, section 8); batch 2.

Titans memory: T = 14, three chunks of 4 and a partial one, the second linearisation period
partial; --max-lr=0.5 (the tiny config's 0.01 barely moves the memory, so the second-order terms
would hardly count). Self-modifying Titans: T = 11, eta scale 0.3 as test_train_step.py's block.
A planted error (the reference's inner gradient detached: every second-order term dropped)
fails the check for both. Artifacts compiled at -O0, once per module."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import hope_block as HB
from reference import nl_ops
from reference import titans_memory as TM
from test_train_step import BATCH
from train_cases import check_gradients, check_planted_error_fails
from train_cases import models, references  # noqa: F401 (fixtures over CASES)

WIDTH, MAX_LR, ETA_SCALE = 32, 0.5, 0.3
TITANS_OPTIONS = TM.TitansOptions(heads=2, chunk=4, linearize=8, max_lr=MAX_LR)
SELFMOD_OPTIONS = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=ETA_SCALE)


def _titans_memory_loss(weights, x, targets):
    return F.mse_loss(TM.titans_memory(x, weights, TITANS_OPTIONS), targets)


def _self_modifying_loss(weights, h, targets):
    o_heads, _ = HB.self_modifying_titans(h, weights, SELFMOD_OPTIONS)
    return F.mse_loss(nl_ops.merge_heads(o_heads), targets)


def _data(tokens: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(BATCH, tokens, WIDTH, generator=generator, dtype=torch.float64)
    return x, torch.randn(BATCH, tokens, WIDTH, generator=generator, dtype=torch.float64)


# case: (hope-models arguments, loss, data)
CASES = {
    "titans-memory": (["titans-memory", "--config=tiny", f"--max-lr={MAX_LR}", "--seed=3"],
                      _titans_memory_loss, lambda: _data(14, 4)),
    "self-modifying-titans": (["self-modifying-titans", "--config=tiny", f"--eta-scale={ETA_SCALE}",
                               "--seed=21"], _self_modifying_loss, lambda: _data(11, 8)),
}


@pytest.mark.parametrize("element,tolerance", [("f64", 1e-9), ("f32", 1e-4)])
@pytest.mark.parametrize("case", list(CASES))
def test_gradients(models, references, case, element, tolerance):
    check_gradients(models, references, CASES, case, element, tolerance)


@pytest.mark.parametrize("case", list(CASES))
def test_planted_error_fails(models, references, case, monkeypatch):
    check_planted_error_fails(models, references, CASES, case, monkeypatch)
