"""The optimizer references against independent formulations: NS5 as a polar factor (SVD),
clipping against torch.nn.utils.clip_grad_norm_, the schedule at its landmarks, AdamW against
torch.optim.AdamW, M3's slow momentum at its period."""

import math

import torch

from reference import optimizers as ref
from reference.util import rel_err


def test_ns5_orthogonalises_like_the_polar_factor():
    """NS5(m) = U f(S) V^T for m = U S V^T: in m's singular bases it is diagonal, with values
    near 1 (the quintic's fixed band, about [0.7, 1.2]); tall and wide matrices alike."""
    generator = torch.Generator().manual_seed(0)
    for shape in [(6, 4), (3, 5), (8, 8)]:
        m = torch.randn(shape, generator=generator, dtype=torch.float64)
        u, s, vh = torch.linalg.svd(m, full_matrices=False)
        inner = u.T @ ref.newton_schulz5(m) @ vh.T
        diagonal = torch.diagonal(inner)
        assert (inner - torch.diag(diagonal)).abs().max() < 1e-10
        assert diagonal.min() > 0.6 and diagonal.max() < 1.25


def test_ns5_is_equivariant_under_transpose():
    m = torch.randn(5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert rel_err(ref.newton_schulz5(m.T), ref.newton_schulz5(m).T) < 1e-14


def test_clipping_equals_torch():
    generator = torch.Generator().manual_seed(2)
    grads = [torch.randn(s, generator=generator, dtype=torch.float64) for s in [(4, 3), (7,)]]
    for max_norm in [0.5, 100.0]:
        ours = ref.clip_by_global_norm(grads, max_norm)
        theirs = [g.clone().requires_grad_(True) for g in grads]
        for t, g in zip(theirs, grads):
            t.grad = g.clone()
        torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        assert max(rel_err(a, b.grad) for a, b in zip(ours, theirs)) < 1e-15


def test_schedule_landmarks():
    base = 0.1
    assert ref.scheduled_lr(base, 1, warmup=4) == base / 4
    assert ref.scheduled_lr(base, 4, warmup=4) == base
    assert ref.scheduled_lr(base, 9, warmup=4) == base          # no decay without total
    assert math.isclose(ref.scheduled_lr(base, 4, warmup=4, total=10, min_ratio=0.1), base)
    assert math.isclose(ref.scheduled_lr(base, 7, warmup=4, total=10, min_ratio=0.1), base * 0.55)
    assert math.isclose(ref.scheduled_lr(base, 10, warmup=4, total=10, min_ratio=0.1), base * 0.1)
    assert math.isclose(ref.scheduled_lr(base, 50, warmup=4, total=10, min_ratio=0.1), base * 0.1)


def test_adamw_equals_torch():
    generator = torch.Generator().manual_seed(3)
    w0 = torch.randn(5, 2, generator=generator, dtype=torch.float64)
    grads = [torch.randn(5, 2, generator=generator, dtype=torch.float64) for _ in range(4)]
    w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
    weight = w0.clone().requires_grad_(True)
    optimizer = torch.optim.AdamW([weight], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.2)
    for step, g in enumerate(grads, start=1):
        w, m, v = ref.adamw_step(w, g, m, v, 0.01, step, 0.8, 0.95, 1e-6, 0.2)
        weight.grad = g.clone()
        optimizer.step()
    assert rel_err(w, weight.detach()) < 1e-14


def test_m3_slow_momentum_updates_at_its_period():
    g = torch.ones(3, 2, dtype=torch.float64)
    w, m1, m2, p, v = (torch.zeros(3, 2, dtype=torch.float64) for _ in range(5))
    for step in range(1, 4):
        w, m1, m2, p, v = ref.m3_step(w, g, m1, m2, p, v, 0.1, step, 0.9, 0.99, 0.5, 0.5, 1e-8, 2)
        if step == 1:
            assert m2.abs().max() == 0 and p.min() == 1
    assert torch.equal(m2, torch.ones_like(m2)) and torch.equal(p, torch.ones_like(p))
