"""memory.py against recurrences written out by hand, and its internal consistency."""

import pytest
import torch

from . import memory as M
from .util import max_rel_err, rel_err

D64 = torch.float64


def rnd(*shape, seed=0, scale=1.0):
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=D64)


def unit(*shape, seed=0):
    x = rnd(*shape, seed=seed)
    return x / x.norm(dim=-1, keepdim=True)


def sig(*shape, seed=0):
    return torch.sigmoid(rnd(*shape, seed=seed))


B, H = 2, 2
LIN = M.LinearModel()


# ---------------------------------------------------------------- layout and model


def test_state_layout_order():
    lay = M.state_layout(M.MLPModel(hidden=5, depth=3, residual="learned", norm="pre"), 4, 2)
    assert [(p.name, p.shape, p.role) for p in lay] == [
        ("W_1", (5, 4), "in"), ("W_2", (5, 5), "hidden"), ("W_3", (2, 5), "out"),
        ("W_skip", (2, 4), "skip"), ("norm", (4,), "norm")]
    assert [p.shape for p in M.state_layout(M.MLPModel(hidden=5, norm="post"), 4, 4)][-1] == (4,)


def test_mlp_apply_by_hand():
    spec = M.MemorySpec(M.MLPModel(hidden=5, activation="silu", residual="learned", norm="pre"), M.L2(), M.DGD())
    w1, w2, ws, s = rnd(5, 4, seed=1), rnd(3, 5, seed=2), rnd(3, 4, seed=3), rnd(4, seed=4)
    x = rnd(4, seed=5)
    ln = (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + 1e-5) * s
    ref = ws @ x + w2 @ torch.nn.functional.silu(w1 @ ln)
    assert rel_err(M.apply(spec, [w1, w2, ws, s], x), ref) < 1e-14


# ---------------------------------------------------------------- hand-written recurrences


@pytest.mark.parametrize("chunk", [1, 3])
def test_dgd_dot_linear_is_the_gated_delta_rule(chunk):
    """DGD + dot objective + linear memory: W_t = alpha_t W_{t-1} - eta_t (W_{t-1} k_t - v_t) k_t^T
    (g = -v k^T does not depend on the state, so the chunk size only moves the reads)."""
    T, d = 7, 3
    k, v, q = unit(B, H, T, d, seed=1), rnd(B, H, T, d, seed=2), rnd(B, H, T, d, seed=3)
    eta, alpha = 0.5 * sig(B, H, T, seed=4), sig(B, H, T, seed=5)
    w0 = rnd(H, d, d, seed=6)
    spec = M.MemorySpec(LIN, M.Dot(), M.DGD(), chunk=chunk)
    run = M.run_memory(spec, [w0], k, v, eta, alpha)
    for b in range(B):
        for h in range(H):
            S = w0[h]
            states = [S]
            for t in range(T):
                S = alpha[b, h, t] * S - eta[b, h, t] * torch.outer(S @ k[b, h, t] - v[b, h, t], k[b, h, t])
                states.append(S)
            assert max_rel_err([x[0] for x in run.states[b][h]], states) < 1e-13
            y = run.read(q)[b, h]
            for t in range(1, T + 1):
                assert rel_err(y[t - 1], states[chunk * (t // chunk)] @ q[b, h, t - 1]) < 1e-13


@pytest.mark.parametrize("momentum,step", [(False, "plain"), (True, "plain"), (True, "normalized")])
def test_dgd_l2_linear_by_hand(momentum, step):
    """DGD + L2 (sum, no 1/2): W k k^T appears twice, once from the rank-1 term at the current
    state and once inside g_t = 2 (W_{r(t)} k - v) k^T at the chunk start."""
    T, d, C = 8, 3, 3
    k, v = unit(B, H, T, d, seed=1), rnd(B, H, T, d, seed=2)
    eta, alpha, beta = 0.3 * sig(B, H, T, seed=3), sig(B, H, T, seed=4), sig(B, H, T, seed=5)
    w0 = rnd(B, H, d, d, seed=6)  # per-sequence initial state
    spec = M.MemorySpec(LIN, M.L2(), M.DGD(momentum=momentum, step_size=step), chunk=C)
    run = M.run_memory(spec, [w0], k, v, eta, alpha, [beta] if momentum else ())
    final = run.final_state()
    for b in range(B):
        for h in range(H):
            W, S = w0[b, h], torch.zeros(d, d, dtype=D64)
            for t in range(T):
                if t % C == 0:
                    ref = W
                e = eta[b, h, t] / (1 + eta[b, h, t]) if step == "normalized" else eta[b, h, t]
                g = 2 * torch.outer(ref @ k[b, h, t] - v[b, h, t], k[b, h, t])
                if momentum:
                    S = beta[b, h, t] * S + g
                    g = S
                W = alpha[b, h, t] * W - e * torch.outer(W @ k[b, h, t], k[b, h, t]) - e * g
            assert rel_err(final[0][b, h], W) < 1e-13
            if momentum:
                assert rel_err(final[1][b, h], S) < 1e-13


def test_momentum_gd_order2_chunk_rates_by_hand():
    """#nl.momentum_gd<order = 2, retention = chunk> with L2 mean + half on a linear memory."""
    T, d_in, d_out, C = 9, 3, 2, 2
    nc = -(-T // C)
    k, v = rnd(B, H, T, d_in, seed=1), rnd(B, H, T, d_out, seed=2)
    eta = 0.4 * sig(B, H, T, seed=3)
    alpha = sig(B, H, nc, seed=4)
    b1, b2 = sig(B, H, T, seed=5), sig(B, H, T, seed=6)
    w0 = rnd(H, d_out, d_in, seed=7)
    spec = M.MemorySpec(LIN, M.L2(reduction="mean", half=True),
                        M.MomentumGD(order=2, retention="chunk"), chunk=C)
    run = M.run_memory(spec, [w0], k, v, eta, alpha, [b1, b2])
    final = run.final_state()
    for b in range(B):
        for h in range(H):
            W = w0[h]
            S1 = torch.zeros_like(W)
            S2 = torch.zeros_like(W)
            for t in range(T):
                if t % C == 0:
                    ref = W
                g = torch.outer(ref @ k[b, h, t] - v[b, h, t], k[b, h, t]) / d_out
                S1 = b1[b, h, t] * S1 - eta[b, h, t] * g
                S2 = b2[b, h, t] * S2 + S1
                W = alpha[b, h, t // C] * W + S2
            assert max_rel_err([final[0][b, h], final[1][b, h], final[2][b, h]], [W, S1, S2]) < 1e-13


def test_newton_schulz5_against_svd():
    """NS5 maps each singular value s/||S||_F through p(x) = a x + b x^3 + c x^5 five times."""
    a, b, c = M.NS5_COEFFS
    for shape in [(3, 5), (6, 2)]:
        S = rnd(*shape, seed=sum(shape))
        U, s, Vh = torch.linalg.svd(S, full_matrices=False)
        x = s / S.norm()
        for _ in range(5):
            x = a * x + b * x**3 + c * x**5
        assert rel_err(M.newton_schulz5(S), U @ torch.diag(x) @ Vh) < 1e-12
        assert rel_err(M.newton_schulz5(S.T), M.newton_schulz5(S).T) < 1e-12
    assert torch.equal(M.newton_schulz5(torch.zeros(2, 3, dtype=D64)), torch.zeros(2, 3, dtype=D64))


def test_newton_schulz_output_skips_vectors():
    T, d = 5, 3
    spec = M.MemorySpec(M.MLPModel(hidden=4, norm="post"), M.L2(), M.MomentumGD(order=1, newton_schulz=True))
    k, v = rnd(1, 1, T, d, seed=1), rnd(1, 1, T, d, seed=2)
    eta, alpha, beta = sig(1, 1, T, seed=3), sig(1, 1, T, seed=4), sig(1, 1, T, seed=5)
    init = [rnd(1, 4, d, seed=6), rnd(1, d, 4, seed=7), 1 + 0.1 * rnd(1, d, seed=8)]
    run = M.run_memory(spec, init, k, v, eta, alpha, [beta])
    # by hand, with the momentum buffers of the run
    theta = [x[0] for x in init]
    S = [torch.zeros_like(x) for x in theta]
    for t in range(T):
        g = M.token_grad(spec, theta, k[0, 0, t], v[0, 0, t])
        S = [beta[0, 0, t] * s - eta[0, 0, t] * x for s, x in zip(S, g)]
        theta = [alpha[0, 0, t] * w + (M.newton_schulz5(s) if s.ndim == 2 else s) for w, s in zip(theta, S)]
    assert max_rel_err([x[0, 0] for x in run.final_state()[:3]], theta) < 1e-12


# ---------------------------------------------------------------- token vs chunk-aggregated


MLP_POST = M.MLPModel(hidden=6, activation="gelu", norm="post")


def _mlp_init(d, hidden=6, heads=H, seed=10):
    return [rnd(heads, hidden, d, seed=seed, scale=0.5), rnd(heads, d, hidden, seed=seed + 1, scale=0.5),
            1 + 0.1 * rnd(heads, d, seed=seed + 2)]


def test_chunk_aggregated_with_C1_equals_token_variant():
    T, d = 7, 4
    k, v, q = rnd(B, H, T, d, seed=1), rnd(B, H, T, d, seed=2), rnd(B, H, T, d, seed=3)
    eta, alpha, beta = 0.5 * sig(B, H, T, seed=4), sig(B, H, T, seed=5), sig(B, H, T, seed=6)
    init = _mlp_init(d)
    obj = M.L2(reduction="mean")
    tok = M.MemorySpec(MLP_POST, obj, M.MomentumGD(order=1), chunk=1)
    agg = M.MemorySpec(MLP_POST, obj, M.MomentumGD(order=1, retention="chunk", momentum="chunk"), chunk=1,
                       chunk_aggregated=M.ChunkAggregated(1))
    r1 = M.run_memory(tok, init, k, v, eta, alpha, [beta])
    r2 = M.run_memory(agg, init, k, v, eta, alpha, [beta])
    assert max_rel_err(r2.final_state(), r1.final_state()) < 1e-13
    for point in ("after", "chunk_start"):
        assert rel_err(r2.read(q, point), r1.read(q, point)) < 1e-13


def test_chunk_aggregated_order0_equals_token_variant_at_chunk_ends():
    """Without momentum and retention, the token variant's chunk sums G_i = sum eta_t g_t(theta_ref):
    both variants agree at chunk ends, for `after` reads, and with a last partial chunk."""
    T, d, C = 10, 4, 4
    k, v, q = rnd(B, H, T, d, seed=1), rnd(B, H, T, d, seed=2), rnd(B, H, T, d, seed=3)
    eta = 0.5 * sig(B, H, T, seed=4)
    init = _mlp_init(d)
    tok = M.MemorySpec(MLP_POST, M.L2(), M.MomentumGD(order=0), chunk=C)
    agg = M.MemorySpec(MLP_POST, M.L2(), M.MomentumGD(order=0, retention="chunk", momentum="chunk"), chunk=C,
                       chunk_aggregated=M.ChunkAggregated(C), partial_chunk_update=True)
    r1 = M.run_memory(tok, init, k, v, eta)
    r2 = M.run_memory(agg, init, k, v, eta)
    for i, t in enumerate([0, 4, 8, 10]):
        assert max_rel_err(r2.states[1][0][i], r1.states[1][0][t]) < 1e-13
    assert rel_err(r2.read(q), r1.read(q)) < 1e-13
    assert max_rel_err(r2.final_state(), r1.final_state()) < 1e-13


def test_linearize_over_the_sequence_takes_every_gradient_at_theta0():
    """linearize = sequence: G_i at theta_0 for every chunk; with order 0 and no retention the
    final state is theta_0 - sum_t eta_t g_t(theta_0), a token variant whose one chunk spans T."""
    T, d = 11, 4
    k, v = rnd(B, H, T, d, seed=1), rnd(B, H, T, d, seed=2)
    eta = 0.5 * sig(B, H, T, seed=4)
    init = _mlp_init(d)
    agg = M.MemorySpec(MLP_POST, M.L2(), M.MomentumGD(order=0, retention="chunk", momentum="chunk"), chunk=4,
                       chunk_aggregated=M.ChunkAggregated(None), partial_chunk_update=True)
    tok = M.MemorySpec(MLP_POST, M.L2(), M.MomentumGD(order=0), chunk=16)
    assert max_rel_err(M.run_memory(agg, init, k, v, eta).final_state(),
                       M.run_memory(tok, init, k, v, eta).final_state()) < 1e-13
    # and B = 8 differs from B = 4 (the reference state moves at multiples of B only)
    s8 = M.run_memory(M.MemorySpec(MLP_POST, M.L2(), agg.rule, chunk=4, chunk_aggregated=M.ChunkAggregated(8)),
                      init, k, v, eta).final_state()
    s4 = M.run_memory(M.MemorySpec(MLP_POST, M.L2(), agg.rule, chunk=4, chunk_aggregated=M.ChunkAggregated(4)),
                      init, k, v, eta).final_state()
    assert rel_err(s8[0], s4[0]) > 1e-6


def test_partial_last_chunk_option():
    T, d, C = 10, 4, 4
    k, v = rnd(1, H, T, d, seed=1), rnd(1, H, T, d, seed=2)
    eta = 0.5 * sig(1, H, T, seed=4)
    alpha, beta = sig(1, H, 3, seed=5), sig(1, H, 3, seed=6)
    rule = M.MomentumGD(order=1, retention="chunk", momentum="chunk")
    with_p = M.MemorySpec(MLP_POST, M.L2(), rule, chunk=C, chunk_aggregated=M.ChunkAggregated(C),
                          partial_chunk_update=True)
    without = M.MemorySpec(MLP_POST, M.L2(), rule, chunk=C, chunk_aggregated=M.ChunkAggregated(C))
    r1 = M.run_memory(with_p, _mlp_init(d), k, v, eta, alpha, [beta])
    r2 = M.run_memory(without, _mlp_init(d), k, v, eta, alpha[..., :2], [beta[..., :2]])
    assert len(r1.states[0][0]) == 4 and len(r2.states[0][0]) == 3
    q = rnd(1, H, T, d, seed=7)
    assert rel_err(r1.read(q), r2.read(q)) == 0.0  # no read sees the partial chunk's update
    assert max_rel_err(r2.final_state(), [x for x in _states_after(r1, 2)]) < 1e-15


def _states_after(run, i):
    n = len(run.states[0][0][0])
    return [torch.stack([torch.stack([run.states[b][h][i][p] for h in range(len(run.states[b]))])
                         for b in range(len(run.states))]) for p in range(n)]


# ---------------------------------------------------------------- reads, init, streaming


def test_read_points():
    run = M.MemoryRun(M.MemorySpec(LIN, M.L2(), M.DGD(), chunk=2), [], [])
    assert [run.state_index(t, "after") for t in range(1, 6)] == [0, 2, 2, 4, 4]
    assert [run.state_index(t, "chunk_start") for t in range(1, 6)] == [0, 0, 2, 2, 4]
    agg = M.MemoryRun(M.MemorySpec(LIN, M.L2(), M.MomentumGD(), chunk=2, chunk_aggregated=M.ChunkAggregated(2)), [], [])
    assert [agg.state_index(t, "after") for t in range(1, 6)] == [0, 1, 1, 2, 2]


def test_per_sequence_init_equals_per_head_init():
    T, d = 5, 3
    k, v = rnd(B, H, T, d, seed=1), rnd(B, H, T, d, seed=2)
    eta, alpha = sig(B, H, T, seed=3), sig(B, H, T, seed=4)
    init = _mlp_init(d)
    spec = M.MemorySpec(MLP_POST, M.L2(), M.DGD(), chunk=2)
    a = M.run_memory(spec, init, k, v, eta, alpha).final_state()
    b = M.run_memory(spec, [x.expand(B, *x.shape) for x in init], k, v, eta, alpha).final_state()
    assert max_rel_err(a, b) == 0.0


@pytest.mark.parametrize("variant", ["token_dgd_momentum", "aggregated_order2"])
def test_streaming_with_final_state_equals_one_call(variant):
    """Feeding nl.final_state (parameters, then momentum buffers) back as init of a second call
    continues the sequence exactly when the split is at a chunk (and linearisation) boundary."""
    T, T1, d, C = 11, 6, 3, 3
    k, v = rnd(B, H, T, d, seed=1), rnd(B, H, T, d, seed=2)
    eta = 0.5 * sig(B, H, T, seed=3)
    init = _mlp_init(d)
    if variant == "token_dgd_momentum":
        spec = M.MemorySpec(MLP_POST, M.L2(), M.DGD(momentum=True), chunk=C)
        alpha, betas = sig(B, H, T, seed=4), [sig(B, H, T, seed=5)]
        cut_a = lambda r, s: r[..., s]  # noqa: E731
    else:
        spec = M.MemorySpec(MLP_POST, M.L2(), M.MomentumGD(order=2, retention="chunk", momentum="chunk"),
                            chunk=C, chunk_aggregated=M.ChunkAggregated(C))
        nc = -(-T // C)
        alpha, betas = sig(B, H, nc, seed=4), [sig(B, H, nc, seed=5), sig(B, H, nc, seed=6)]
        cut_a = lambda r, s: r[..., slice(None if s.start is None else s.start // C,  # noqa: E731
                                          None if s.stop is None else s.stop // C)]
    full = M.run_memory(spec, init, k, v, eta, alpha, betas).final_state()
    first, second = slice(None, T1), slice(T1, None)
    mid = M.run_memory(spec, init, k[:, :, first], v[:, :, first], eta[..., first], cut_a(alpha, first),
                       [cut_a(b, first) for b in betas]).final_state()
    n = len(init)
    end = M.run_memory(spec, mid[:n], k[:, :, second], v[:, :, second], eta[..., second], cut_a(alpha, second),
                       [cut_a(b, second) for b in betas], init_momentum=mid[n:]).final_state()
    assert max_rel_err(end, full) < 1e-13


def test_self_generated_target_without_stop_gradient():
    """A callable target is differentiated with the state: the gradient gains d vhat / d theta."""
    spec = M.MemorySpec(LIN, M.L2(), M.DGD())
    W, k, v = rnd(3, 3, seed=1), rnd(3, seed=2), rnd(3, seed=3)
    g_stop = M.token_grad(spec, [W], k, W @ v)[0]
    g_flow = M.token_grad(spec, [W], k, lambda th: th[0] @ v)[0]
    e = W @ k - W @ v
    assert rel_err(g_stop, 2 * torch.outer(e, k)) < 1e-14
    assert rel_err(g_flow, 2 * torch.outer(e, k - v)) < 1e-14


def test_outer_gradients_through_the_inner_updates():
    """The reference is differentiable end to end (second-order terms included): gradcheck of the
    reads and the final state with respect to the initial state, keys and learning rates."""
    T, d = 4, 2
    v, q = rnd(1, 1, T, d, seed=2), rnd(1, 1, T, d, seed=3)
    alpha, beta = sig(1, 1, T, seed=5), sig(1, 1, T, seed=6)
    spec = M.MemorySpec(M.MLPModel(hidden=3, activation="silu", norm="post"), M.L2(),
                        M.MomentumGD(order=1), chunk=2)

    def f(w1, w2, s, k, eta):
        run = M.run_memory(spec, [w1, w2, s], k, v, eta, alpha, [beta])
        return run.read(q), run.final_state()[0]

    inputs = (rnd(1, 3, d, seed=7, scale=0.5), rnd(1, d, 3, seed=8, scale=0.5), 1 + 0.1 * rnd(1, d, seed=9),
              rnd(1, 1, T, d, seed=1), 0.5 * sig(1, 1, T, seed=4))
    inputs = tuple(x.clone().requires_grad_() for x in inputs)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7)


def test_invalid_configurations():
    k = v = rnd(1, 1, 4, 2)
    eta = sig(1, 1, 4)
    with pytest.raises(ValueError, match="DGD"):
        M.run_memory(M.MemorySpec(LIN, M.L2(), M.DGD(), chunk=2, chunk_aggregated=M.ChunkAggregated(2)),
                     [rnd(1, 2, 2)], k, v, eta)
    with pytest.raises(ValueError, match="multiple"):
        M.run_memory(M.MemorySpec(LIN, M.L2(), M.MomentumGD(order=0, retention="chunk", momentum="chunk"),
                                  chunk=2, chunk_aggregated=M.ChunkAggregated(3)), [rnd(1, 2, 2)], k, v, eta)
    with pytest.raises(ValueError, match="per-chunk"):
        M.run_memory(M.MemorySpec(LIN, M.L2(), M.MomentumGD(order=0), chunk=2,
                                  chunk_aggregated=M.ChunkAggregated(2)), [rnd(1, 2, 2)], k, v, eta)
