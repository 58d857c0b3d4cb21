"""train_step (`hope-compile --train`, nl-build-train-step; docs/artifact-abi.md "Training entry
point") against PyTorch autograd and torch.optim through the token-by-token references
(test/reference/hope_lm.py, hope_block.py), whose inner gradients keep their graph:

* gradients: AdamW's first moment after step 1 is m = (1 - beta1) c g, c the clipping factor
  min(1, clip / (grad_norm + 1e-6)) of the step's grad_norm output, so g = m / ((1 - beta1) c)
  for every parameter; they equal the reference's autograd gradients of the mean cross-entropy
  (tiny HOPE LM, T = 11, some targets ignored) and of the mean squared error (HOPE block,
  width 16), float64 to 1e-9 and float32 to 1e-4 (semantics doc, section 8);
* 3 AdamW steps with weight decay and clipping by the global norm equal torch.optim.AdamW after
  torch.nn.utils.clip_grad_norm_: losses, gradient norms, parameters and both moments;
* a planted error (the reference with its inner gradient treated as a constant: every
  second-order term dropped) fails the gradient check.

Every artifact is compiled once (module-scoped fixtures) and prints its compile time."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from artifact import Artifact, PreconditionError
from reference import hope_block as HB
from reference import hope_lm as LM
from reference import memory as M

ETA_SCALE = 0.3
OPTIONS = HB.HopeOptions(HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=ETA_SCALE))
LM_ARGS = ["hope-lm", "--config=tiny", f"--eta-scale={ETA_SCALE}", "--seed=5"]
BLOCK_ARGS = ["hope-block", "--config=tiny", "--width=16", "--heads=2", "--hidden=8", "--chunk=2",
              "--chunk-memory=4", f"--eta-scale={ETA_SCALE}", "--seed=3"]
CLIP, BETA1 = 0.5, 0.9
ADAMW = ["--optimizer=adamw", "--weight-decay=0.01", f"--clip={CLIP}"]
TOKENS, BATCH, VOCABULARY = 11, 2, 256
NUMPY = {"f32": np.float32, "f64": np.float64}


def _run(command):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")


class TrainedModel:
    """A model compiled with --train, its seeded weights (float64 torch) and the tensors its
    train_step updates in place (numpy, the artifact's dtype): parameters, optimizer states."""

    def __init__(self, artifact: Artifact, weights: dict, element: str):
        self.artifact, self.weights, self.numpy_type = artifact, weights, NUMPY[element]
        self.updated = {}
        for spec in artifact.entry("train_step")["inputs"]:
            if spec.get("updated"):
                assert spec["role"] == "weight", spec
                source = weights.get(spec["name"])
                self.updated[spec["name"]] = (np.zeros(spec["shape"], self.numpy_type) if source is None
                                              else source.numpy().astype(self.numpy_type))

    def step(self, data: np.ndarray, targets: np.ndarray, lr: float, step: int) -> tuple[float, float]:
        entry = self.artifact.entry("train_step")
        given = [data, targets, np.array(lr, self.numpy_type), np.array(step, np.int64)]
        assert [s["name"] for s in entry["inputs"][1:4]] == ["targets", "learning_rate", "step"]
        arguments = given + [self.updated[s["name"]] for s in entry["inputs"][4:]]
        loss, norm = self.artifact("train_step", *arguments)
        return float(loss), float(norm)

    def gradients(self, data: np.ndarray, targets: np.ndarray) -> tuple[float, float, dict]:
        """The loss, gradient norm and gradients at the current weights, from AdamW's first
        moment after one step from zero moments (every tensor is restored after it)."""
        before = {name: value.copy() for name, value in self.updated.items()}
        for name, value in self.updated.items():
            if name.endswith((".adamw_m", ".adamw_v")):
                value[...] = 0
        loss, norm = self.step(data, targets, 0.0, 1)
        clipping = min(1.0, CLIP / (norm + 1e-6))
        gradients = {name: self.updated[f"{name}.adamw_m"] / ((1 - BETA1) * clipping)
                     for name in self.weights}
        for name, value in before.items():
            self.updated[name][...] = value
        return loss, norm, gradients


def _build(hope_models, hope_compile, directory, name, model_args, train_args, element) -> TrainedModel:
    source, library = directory / f"{name}.mlir", directory / f"{name}.so"
    weights = directory / f"{name}.safetensors"
    _run([hope_models, *model_args, f"--dtype={element}", "-o", source, f"--weights-out={weights}"])
    start = time.monotonic()
    # -O0: half the compile time of -O1 (LLVM's optimisation of train_step's
    # ~1,400 parallel loop bodies is most of it), the same arithmetic, and the
    # tiny sizes still run in milliseconds.
    _run([hope_compile, source, "--train", *train_args, "-O0", "-o", library])
    print(f"\n{name}: hope-compile --train {time.monotonic() - start:.1f} s")
    loaded = {key: value.double() for key, value in load_file(str(weights)).items()}
    return TrainedModel(Artifact(library), loaded, element)


def _lm_data():
    generator = torch.Generator().manual_seed(6)
    tokens = torch.randint(0, VOCABULARY, (BATCH, TOKENS), generator=generator)
    targets = torch.randint(0, VOCABULARY, (BATCH, TOKENS), generator=generator)
    targets[0, 3] = targets[1, 0] = targets[1, 7] = -1  # ignored positions
    return tokens, targets


def _lm_loss(weights: dict, tokens, targets):
    logits = LM.hope_lm(tokens, weights, OPTIONS)
    return F.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1), ignore_index=-1)


def _block_data():
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(BATCH, TOKENS, 16, generator=generator, dtype=torch.float64)
    return x, torch.randn(BATCH, TOKENS, 16, generator=generator, dtype=torch.float64)


def _block_loss(weights: dict, x, targets):
    return F.mse_loss(HB.hope_block(x, weights, OPTIONS), targets)


def _reference_gradients(loss_fn, weights: dict, data, targets) -> tuple[float, dict]:
    leaves = {name: value.clone().requires_grad_() for name, value in weights.items()}
    loss = loss_fn(leaves, data, targets)
    names = list(leaves)
    gradients = torch.autograd.grad(loss, [leaves[n] for n in names], allow_unused=True)
    return float(loss.detach()), {n: (torch.zeros_like(leaves[n]) if g is None else g).numpy()
                         for n, g in zip(names, gradients)}


def _gradient_error(compiled: dict, reference: dict) -> float:
    """max over parameters of max |g - r| / max(max |r|, 1e-3 max over all |r|)."""
    assert set(reference) <= set(compiled), set(reference) - set(compiled)
    overall = max(np.abs(r).max() for r in reference.values())
    errors = {n: np.abs(compiled[n] - r).max() / max(np.abs(r).max(), 1e-3 * overall)
              for n, r in reference.items()}
    worst = max(errors, key=errors.get)
    print(f"gradient error {errors[worst]:.1e} (worst: {worst})")
    return errors[worst]


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return tmp_path_factory.mktemp("train_step")


@pytest.fixture(scope="module")
def lm_f64(hope_models, hope_compile, directory):
    return _build(hope_models, hope_compile, directory, "lm_f64", LM_ARGS, ADAMW, "f64")


@pytest.fixture(scope="module")
def lm_reference(lm_f64):
    tokens, targets = _lm_data()
    return _reference_gradients(_lm_loss, lm_f64.weights, tokens, targets)


@pytest.fixture(scope="module")
def block_f64(hope_models, hope_compile, directory):
    return _build(hope_models, hope_compile, directory, "block_f64", BLOCK_ARGS, ADAMW, "f64")


def test_lm_gradients_f64(lm_f64, lm_reference):
    tokens, targets = _lm_data()
    loss, norm, gradients = lm_f64.gradients(tokens.numpy(), targets.numpy())
    reference_loss, reference = lm_reference
    assert abs(loss - reference_loss) < 1e-9 * abs(reference_loss)
    assert abs(norm - np.sqrt(sum((g ** 2).sum() for g in reference.values()))) < 1e-9 * norm
    assert _gradient_error(gradients, reference) < 1e-9


def test_lm_targets_beyond_the_vocabulary_are_refused(lm_f64):
    tokens, targets = _lm_data()
    targets[1, 2] = VOCABULARY
    before = {name: value.copy() for name, value in lm_f64.updated.items()}
    with pytest.raises(PreconditionError, match="targets must be below the vocabulary size 256"):
        lm_f64.step(tokens.numpy(), targets.numpy(), 1.0, 1)
    assert all(np.array_equal(before[n], v) for n, v in lm_f64.updated.items())


def test_lm_gradients_f32(hope_models, hope_compile, directory, lm_reference):
    model = _build(hope_models, hope_compile, directory, "lm_f32", LM_ARGS, ADAMW, "f32")
    tokens, targets = _lm_data()
    assert _gradient_error(model.gradients(tokens.numpy(), targets.numpy())[2], lm_reference[1]) < 1e-4


def test_planted_error_fails(lm_f64, lm_reference, monkeypatch):
    """Without the second-order terms (the inner gradient a constant), the reference's
    gradients are far from the compiled ones: the check sees it."""
    exact = M.token_grad
    monkeypatch.setattr(M, "token_grad", lambda *a, **k: [g.detach() for g in exact(*a, **k)])
    tokens, targets = _lm_data()
    _, first_order = _reference_gradients(_lm_loss, lm_f64.weights, tokens, targets)
    compiled = lm_f64.gradients(tokens.numpy(), targets.numpy())[2]
    assert _gradient_error(compiled, lm_reference[1]) < 1e-9
    assert _gradient_error(compiled, first_order) > 1e-3


def test_block_gradients_f64(block_f64):
    x, targets = _block_data()
    reference_loss, reference = _reference_gradients(_block_loss, block_f64.weights, x, targets)
    loss, _, gradients = block_f64.gradients(x.numpy(), targets.numpy())
    assert abs(loss - reference_loss) < 1e-9 * abs(reference_loss)
    assert _gradient_error(gradients, reference) < 1e-9


def adamw_against_torch(step, read, weights, loss_fn, data, targets, tolerance, lr=1e-2,
                        steps=3, weight_decay=0.01):
    """Runs `steps` train_steps, `step(data, targets, lr, k) -> (loss, grad_norm)`, beside
    torch.optim.AdamW after torch.nn.utils.clip_grad_norm_ on float64 copies of `weights`;
    checks each step's loss and gradient norm, then every parameter and both moments as
    `read(name)` returns them (relative to the largest entry). Returns the worst error."""
    leaves = {name: value.clone().requires_grad_() for name, value in weights.items()}
    optimizer = torch.optim.AdamW(leaves.values(), lr=lr, betas=(BETA1, 0.999), eps=1e-8,
                                  weight_decay=weight_decay)
    for k in range(1, steps + 1):
        loss, norm = step(data.numpy(), targets.numpy(), lr, k)
        optimizer.zero_grad()
        reference_loss = loss_fn(leaves, data, targets)
        reference_loss.backward()
        for leaf in leaves.values():  # weights behind a stop-gradient only: zero, as ours
            if leaf.grad is None:
                leaf.grad = torch.zeros_like(leaf)
        reference_norm = float(torch.nn.utils.clip_grad_norm_(list(leaves.values()), CLIP))
        optimizer.step()
        reference_loss = float(reference_loss.detach())
        print(f"step {k}: loss {loss:.12f} (torch {reference_loss:.12f}), "
              f"grad_norm {norm:.9e} (torch {reference_norm:.9e})")
        assert abs(loss - reference_loss) < tolerance * abs(reference_loss)
        assert abs(norm - reference_norm) < tolerance * reference_norm
    worst = 0.0
    for name, leaf in leaves.items():
        state = optimizer.state[leaf]
        for ours, theirs in ((name, leaf.detach()), (f"{name}.adamw_m", state["exp_avg"]),
                             (f"{name}.adamw_v", state["exp_avg_sq"])):
            theirs = theirs.numpy()
            error = np.abs(read(ours) - theirs).max() / max(np.abs(theirs).max(), 1e-12)
            assert error < tolerance, (ours, error)
            worst = max(worst, error)
    return worst


def _adamw_against_torch(model: TrainedModel, loss_fn, data, targets, tolerance):
    assert all(not v.any() for n, v in model.updated.items() if n not in model.weights), \
        "the optimizer states start at zero"
    adamw_against_torch(model.step, model.updated.__getitem__, model.weights, loss_fn, data,
                        targets, tolerance)


def test_lm_adamw_steps(lm_f64):
    tokens, targets = _lm_data()
    _adamw_against_torch(lm_f64, _lm_loss, tokens, targets, 1e-9)


def test_block_adamw_steps(block_f64):
    x, targets = _block_data()
    _adamw_against_torch(block_f64, _block_loss, x, targets, 1e-9)
