"""train_step of the `small` configs (issue 13: "gradients of the tiny and small configs of every
model", docs/models.md) against PyTorch autograd through the token-by-token references, whose
inner gradients keep their graph (create_graph): hope-lm, hope-block and self-modifying-titans
small (width 64, 4 heads, C_other 4, C_mem 16; the LM: 2 layers, vocabulary 256, CMS 1/4/16) and
titans-memory small (titans-pytorch's options at width 64, 4 heads, chunk 8, linearisation
period 16), batch 2, at T = 64 (several chunks of every level) and T = 45 (a partial chunk of
every level and linearisation period). The gradients read back from AdamW's first moment after
one step (test_train_step.py's TrainedModel) equal the reference's autograd gradients of the mean
cross-entropy (LM, some targets ignored) or of the mean squared error against random targets,
float64 to 1e-9 and float32 to 1e-4 (semantics doc, section 8; float32 for the LM and
titans-memory); both T share one artifact per model and element type (-O0). A planted error (the reference's inner gradient detached: every
second-order term dropped) fails the check for every model at T = 64. Eta scale 0.3 for the
self-modifying Titans (the config's 1e-3 barely moves the memories), titans-memory's max_lr 1."""

from __future__ import annotations

from functools import partial

import pytest
import torch
import torch.nn.functional as F

from reference import hope_block as HB
from reference import hope_lm as LM
from reference import nl_ops
from reference import titans_memory as TM
from test_train_step import BATCH, VOCABULARY
from train_cases import check_gradients, check_planted_error_fails
from train_cases import models, references  # noqa: F401 (fixtures over CASES)

WIDTH, ETA_SCALE = 64, 0.3
HOPE = HB.HopeOptions(HB.SelfModOptions(heads=4, chunk_other=4, chunk_mem=16, eta_scale=ETA_SCALE))
TITANS = TM.TitansOptions.titans_pytorch(heads=4, chunk=8, batch_size=16, dtype=torch.float64, max_lr=1.0)
LENGTHS = (64, 45)


def _lm_loss(weights, tokens, targets):
    logits = LM.hope_lm(tokens, weights, HOPE)
    return F.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1), ignore_index=-1)


def _block_loss(weights, x, targets):
    return F.mse_loss(HB.hope_block(x, weights, HOPE), targets)


def _self_modifying_loss(weights, h, targets):
    o_heads, _ = HB.self_modifying_titans(h, weights, HOPE.selfmod)
    return F.mse_loss(nl_ops.merge_heads(o_heads), targets)


def _titans_memory_loss(weights, x, targets):
    """The model's mem_norm_gamma is the reference's LayerNorm scale minus 1 (titans-pytorch)."""
    weights = dict(weights)
    weights["mem_norm"] = weights.pop("mem_norm_gamma") + 1.0
    return F.mse_loss(TM.titans_memory(x, weights, TITANS), targets)


def _tokens(tokens: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    data = torch.randint(0, VOCABULARY, (BATCH, tokens), generator=generator)
    targets = torch.randint(0, VOCABULARY, (BATCH, tokens), generator=generator)
    targets[0, 3] = targets[1, 0] = targets[1, tokens - 1] = -1  # ignored positions
    return data, targets


def _vectors(tokens: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(BATCH, tokens, WIDTH, generator=generator, dtype=torch.float64)
    return x, torch.randn(BATCH, tokens, WIDTH, generator=generator, dtype=torch.float64)


# model: (hope-models arguments, loss, data(T, seed))
MODELS = {
    "hope-lm": (["hope-lm", "--config=small", f"--eta-scale={ETA_SCALE}", "--seed=5"], _lm_loss, _tokens),
    "hope-block": (["hope-block", "--config=small", f"--eta-scale={ETA_SCALE}", "--seed=3"],
                   _block_loss, _vectors),
    "self-modifying-titans": (["self-modifying-titans", "--config=small", f"--eta-scale={ETA_SCALE}",
                               "--seed=21"], _self_modifying_loss, _vectors),
    "titans-memory": (["titans-memory", "--config=small", "--seed=7"], _titans_memory_loss, _vectors),
}
# case "<model>-T<T>": (hope-models arguments, loss, data); the cases of a model share its artifacts
CASES = {f"{model}-T{length}": (arguments, loss, partial(data, length, seed=length))
         for model, (arguments, loss, data) in MODELS.items() for length in LENGTHS}


# float32 for the LM (whose two blocks are hope-block small, each holding self-modifying-titans
# small) and titans-memory: compiling the block and the mixer alone in float32 too would add
# ~100 CPU-s of `hope-compile --train` for code the LM's float32 artifact already runs.
FLOAT32_MODELS = ("hope-lm", "titans-memory")
ELEMENTS = [(case, "f64", 1e-9) for case in CASES] + [
    (case, "f32", 1e-4) for case in CASES if case.rsplit("-T", 1)[0] in FLOAT32_MODELS]


@pytest.mark.parametrize("case,element,tolerance", ELEMENTS)
def test_gradients(models, references, case, element, tolerance):
    check_gradients(models, references, CASES, case, element, tolerance)


@pytest.mark.parametrize("model", list(MODELS))
def test_planted_error_fails(models, references, model, monkeypatch):
    check_planted_error_fails(models, references, CASES, f"{model}-T{LENGTHS[0]}", monkeypatch)
