"""SGD with momentum, Muon and M3 through train_step (`hope-compile --train --optimizer=...`):
a few steps of the HOPE block (float64; test_train_step.py's model, data and loss) against
PyTorch: autograd through the token-by-token reference for the gradients and
torch.nn.utils.clip_grad_norm_ for the clipping by global norm, then
* sgd: torch.optim.SGD (momentum, coupled weight decay);
* muon, m3: the semantics doc's formulas (section 6), test/reference/optimizers.py's
  muon_step and m3_step, on the matrices, and torch.optim.AdamW on every other parameter (the
  block's per-head memories, rank 3, and its vectors).
Losses and gradient norms at every step, parameters and optimizer states after the last, to
1e-9 relative. M3 runs 4 steps: its slow moment M2 takes its first update at step 4 (every 4
steps, the compiled default), so every M3 state is exercised."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import optimizers as ref
from test_train_step import BLOCK_ARGS, _block_data, _block_loss, _build

CLIP, WEIGHT_DECAY, MOMENTUM = 0.5, 0.01, 0.9
# M3 divides by sqrt(V), V the sum of g^2 (no decay): an element's step is about r / |g|, so
# its rate is smaller (at 1e-2 the block's loss jumps from 3 to 5e6 at step 2).
RATES = {"sgd": 1e-2, "muon": 1e-2, "m3": 1e-4}
BETAS, EPS = (0.9, 0.999), 1e-8
# M3's compiled defaults (nl/Models/OptimizerStep.h): beta1, beta2, beta3, alpha, every.
M3 = dict(beta1=0.9, beta2=0.999, beta3=0.5, alpha=0.5, every=4)
STEPS = {"sgd": 3, "muon": 3, "m3": 4}
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return tmp_path_factory.mktemp("train_step_optimizers")


class Reference:
    """The HOPE block's parameters (float64 leaves) and one optimizer over them, stepped as
    the compiled train_step is: gradients of the mean squared error, clipped over the whole
    group, then the optimizer's rule per parameter."""

    def __init__(self, optimizer: str, weights: dict):
        self.optimizer, self.lr = optimizer, RATES[optimizer]
        self.leaves = {name: value.clone().requires_grad_() for name, value in weights.items()}
        orthogonalised = optimizer in ("muon", "m3")
        self.matrices = [n for n, v in self.leaves.items() if orthogonalised and v.dim() == 2]
        rest = [self.leaves[n] for n in self.leaves if n not in self.matrices]
        if optimizer == "sgd":
            self.torch = torch.optim.SGD(rest, lr=self.lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        else:
            self.torch = torch.optim.AdamW(rest, lr=self.lr, betas=BETAS, eps=EPS,
                                           weight_decay=WEIGHT_DECAY)
        # Muon: [m]; M3: [M1, M2, pending sum, V] (zero before step 1, as the compiled states).
        self.states = {n: [torch.zeros_like(self.leaves[n]) for _ in range(4)]
                       for n in self.matrices}

    def step(self, step: int, data, targets) -> tuple[float, float]:
        for leaf in self.leaves.values():
            leaf.grad = None
        loss = _block_loss(self.leaves, data, targets)
        loss.backward()
        for leaf in self.leaves.values():  # weights behind a stop-gradient only: zero, as ours
            if leaf.grad is None:
                leaf.grad = torch.zeros_like(leaf)
        norm = float(torch.nn.utils.clip_grad_norm_(list(self.leaves.values()), CLIP))
        self.torch.step()
        with torch.no_grad():
            for name in self.matrices:
                param, grad, states = self.leaves[name], self.leaves[name].grad, self.states[name]
                if self.optimizer == "muon":
                    new, states[0] = ref.muon_step(param, grad, states[0], self.lr,
                                                     MOMENTUM)
                else:
                    new, *states[:] = ref.m3_step(param, grad, *states, self.lr, step, M3["beta1"],
                                                  M3["beta2"], M3["beta3"], M3["alpha"], EPS,
                                                  M3["every"])
                param.copy_(new)
        return float(loss.detach()), norm

    def expected(self) -> dict:
        """Every tensor train_step updates, by its manifest name."""
        tensors = {}
        for name, leaf in self.leaves.items():
            tensors[name] = leaf.detach()
            prefix = f"{name}.{self.optimizer}_"
            if name in self.matrices:
                suffixes = ["m"] if self.optimizer == "muon" else ["m1", "m2", "m2.pending", "v"]
                tensors.update({prefix + s: v for s, v in zip(suffixes, self.states[name])})
            elif self.optimizer == "sgd":
                # The level's m is -buf (nl/Models/OptimizerStep.h).
                tensors[prefix + "m"] = -self.torch.state[leaf]["momentum_buffer"]
            else:
                state = self.torch.state[leaf]
                tensors[prefix + "m"], tensors[prefix + "v"] = state["exp_avg"], state["exp_avg_sq"]
        return tensors


@pytest.mark.parametrize("optimizer", ["sgd", "muon", "m3"])
def test_block_steps_match_pytorch(hope_models, hope_compile, directory, optimizer):
    flags = [f"--optimizer={optimizer}", f"--weight-decay={WEIGHT_DECAY}", f"--clip={CLIP}",
             f"--momentum={MOMENTUM}"]
    model = _build(hope_models, hope_compile, directory, f"block_{optimizer}", BLOCK_ARGS, flags,
                   "f64")
    reference = Reference(optimizer, model.weights)
    x, targets = _block_data()
    for step in range(1, STEPS[optimizer] + 1):
        loss, norm = model.step(x.numpy(), targets.numpy(), RATES[optimizer], step)
        reference_loss, reference_norm = reference.step(step, x, targets)
        print(f"{optimizer} step {step}: loss {loss:.12f} (torch {reference_loss:.12f}), "
              f"grad_norm {norm:.9e} (torch {reference_norm:.9e})")
        assert abs(loss - reference_loss) < TOLERANCE * abs(reference_loss)
        assert abs(norm - reference_norm) < TOLERANCE * reference_norm
    expected = reference.expected()
    assert set(expected) == set(model.updated), set(expected) ^ set(model.updated)
    worst = 0.0
    for name, theirs in expected.items():
        theirs = theirs.numpy()
        error = np.abs(model.updated[name] - theirs).max() / max(np.abs(theirs).max(), 1e-12)
        assert error < TOLERANCE, (name, error)
        worst = max(worst, error)
    moved = max(np.abs(model.updated[n] - w.numpy()).max() for n, w in model.weights.items())
    print(f"{optimizer}: {len(expected)} tensors after {STEPS[optimizer]} steps, worst relative "
          f"error {worst:.1e}; the parameters moved by up to {moved:.2e}")
    assert moved > 1e-4
