"""The model references (titans_memory.py, hope_block.py) and the weight generator."""

from pathlib import Path

import pytest
import torch

from . import hope_block as HB
from . import memory as M
from . import nl_ops
from . import titans_memory as TM
from . import weights as W
from .util import max_rel_err, rel_err

MODELS = Path(__file__).resolve().parents[2] / "models"


# ---------------------------------------------------------------- weights


@pytest.mark.parametrize("model,shapes", [("hope_block", W.hope_block_shapes), ("titans_memory", W.titans_memory_shapes)])
def test_generated_names_and_shapes_match_the_model_files(model, shapes):
    sig = W.mlir_signature(MODELS / f"{model}.mlir", model)
    assert sig.pop("x")[-1] is not None
    assert sig == shapes()


def test_weights_are_reproducible(tmp_path):
    shapes = W.titans_memory_shapes(dim=16, heads=2)
    a, b = W.generate(shapes, seed=3), W.generate(shapes, seed=3)
    assert all(torch.equal(a[n], b[n]) for n in shapes)
    c = W.generate(shapes, seed=4)
    assert not torch.equal(a["w_k"], c["w_k"])
    # a tensor depends on its name and the seed only
    assert torch.equal(W.generate({"w_k": shapes["w_k"]}, seed=3)["w_k"], a["w_k"])
    assert float(a["store_norm"].mean()) == pytest.approx(1.0, abs=0.1)
    W.save_safetensors(a, tmp_path / "w.safetensors")
    assert all(torch.equal(v, a[n]) for n, v in W.load_safetensors(tmp_path / "w.safetensors").items())
    W.save_npy(a, tmp_path / "npy")
    assert all(torch.equal(v, a[n]) for n, v in W.load_npy(tmp_path / "npy").items())


# ---------------------------------------------------------------- small configurations

TITANS_SMALL = dict(dim=32, heads=2)
TITANS_OPTS = TM.TitansOptions(heads=2, chunk=4, linearize=8, max_lr=0.5)
HOPE_SMALL = dict(dim=16, heads=2, cms_hidden=(32, 32, 32))
HOPE_OPTS = HB.HopeOptions(HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3))


def _x(T, D, seed=0, dtype=torch.float64):
    return torch.randn(2, T, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def test_titans_memory_float32_agrees_with_float64():
    y = {}
    for dt in (torch.float64, torch.float32):
        w = W.generate(W.titans_memory_shapes(**TITANS_SMALL), seed=1, dtype=dt)
        y[dt] = TM.titans_memory(_x(18, 32, dtype=dt), w, TITANS_OPTS, return_state=True)
    assert rel_err(y[torch.float32][0], y[torch.float64][0]) < 1e-4
    assert max_rel_err(y[torch.float32][1], y[torch.float64][1]) < 1e-4


def test_hope_block_float32_agrees_with_float64():
    y = {}
    for dt in (torch.float64, torch.float32):
        w = W.generate(W.hope_block_shapes(**HOPE_SMALL), seed=1, dtype=dt)
        y[dt] = HB.hope_block(_x(11, 16, dtype=dt), w, HOPE_OPTS, return_state=True)
    assert rel_err(y[torch.float32][0], y[torch.float64][0]) < 1e-4
    for name, states in y[torch.float64][1].items():
        assert max_rel_err(y[torch.float32][1][name], states) < 1e-4, name


def test_titans_memory_reads_after_complete_chunks():
    """`after` at chunk granularity (C = 4): token 5's input reaches y_5 (its own query) and
    y_8.. (after chunk 2), nothing else; tokens 6, 7 still read theta_1."""
    w = W.generate(W.titans_memory_shapes(**TITANS_SMALL), seed=1)
    opts = TM.TitansOptions(heads=2, chunk=4, linearize=4, max_lr=0.5)
    x = _x(10, 32)
    x2 = x.clone()
    x2[:, 4] += 1.0
    diff = (TM.titans_memory(x2, w, opts) - TM.titans_memory(x, w, opts)).abs().amax(dim=(0, 2))
    changed = [t + 1 for t in range(10) if diff[t] > 1e-12]
    assert changed == [5, 8, 9, 10]


def test_hope_block_is_causal_and_reads_at_chunk_start():
    w = W.generate(W.hope_block_shapes(**HOPE_SMALL), seed=1)
    x = _x(9, 16)
    x2 = x.clone()
    x2[:, 4] += 1.0  # token 5
    h1 = nl_ops.rms_norm(x, w["titans_norm"])
    h2 = nl_ops.rms_norm(x2, w["titans_norm"])
    o1, _ = HB.self_modifying_titans(h1, w, HOPE_OPTS.selfmod)
    o2, _ = HB.self_modifying_titans(h2, w, HOPE_OPTS.selfmod)
    diff = (o2 - o1).abs().amax(dim=(0, 1, 3))
    # token 5 reaches o_5 (its query, through the conv), o_6..o_8 (conv window 4: q only), and
    # through M_mem's update in chunk 5..8 (C_mem = 4) o_9
    assert [t + 1 for t in range(9) if diff[t] > 1e-12] == [5, 6, 7, 8, 9]
    assert torch.equal(o1[:, :, :4], o2[:, :, :4])
    after = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3, read_point="after")
    oa, _ = HB.self_modifying_titans(h1, w, after)
    assert torch.equal(oa[:, :, :3], o1[:, :, :3])  # tokens 1..3 read theta_0 either way
    assert rel_err(oa[:, :, 3], o1[:, :, 3]) > 1e-6  # token 4 reads theta_4 with `after`


def test_self_modifying_titans_forward_does_not_depend_on_requires_grad():
    """The inner gradient is a partial derivative in the memory's parameters: when the outer
    level tracks gradients, keys computed from the same (self-modified) M_k must not leak into it.
    (It did: the forward changed by 2e-4 once mk_w1 required grad.)"""
    w = W.generate(W.hope_block_shapes(dim=16, heads=2, cms_hidden=(64,) * 3), seed=3)
    x = _x(3, 16)
    opts = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3)
    o1, f1 = HB.self_modifying_titans(x, w, opts)
    tracked = dict(w)
    tracked["mk_w1"] = w["mk_w1"].clone().requires_grad_()
    o2, f2 = HB.self_modifying_titans(x, tracked, opts)
    assert torch.equal(o1, o2.detach())
    for name in f1:
        for a, b in zip(f1[name], f2[name]):
            assert torch.equal(a, b.detach()), name


def test_hope_block_assembly():
    """x1 = x + W_o merge_heads(o); y = CMS(x1) with block_l(x) = x + W_out s(W_in RMSNorm(x))."""
    w = W.generate(W.hope_block_shapes(**HOPE_SMALL), seed=2)
    x = _x(6, 16)
    o, _ = HB.self_modifying_titans(nl_ops.rms_norm(x, w["titans_norm"]), w, HOPE_OPTS.selfmod)
    z = x + nl_ops.merge_heads(o) @ w["w_o"].T
    for l in range(3):
        n = z * torch.rsqrt((z * z).mean(-1, keepdim=True) + 1e-6) * w[f"cms{l}_norm"]
        z = z + torch.nn.functional.silu(n @ w[f"cms{l}_in"].T) @ w[f"cms{l}_out"].T
    assert rel_err(HB.hope_block(x, w, HOPE_OPTS), z) < 1e-14


def test_hope_memories_are_dgd_memories():
    """Each memory of the joint loop follows #nl.dgd on ||M_r(k) - vhat_r||^2: replaying M_k
    alone with run_memory on the keys / targets / rates the joint loop produced gives its state."""
    w = W.generate(W.hope_block_shapes(dim=8, heads=1, cms_hidden=(8,)), seed=5)
    opts = HB.SelfModOptions(heads=1, chunk_other=2, chunk_mem=4, eta_scale=0.3)
    h = _x(6, 8)[:1]
    _, final = HB.self_modifying_titans(h, w, opts)
    c = nl_ops.causal_conv(h, w["conv"])
    xh = nl_ops.split_heads(c, 1)
    # keys, targets, rates at the chunk-start states, token by token (C_other = 2)
    specs = {n: HB.memory_spec(HB.MEMORIES[n], w, opts) for n in ("M_k", "M_v", "M_eta", "M_alpha")}
    theta = {n: [x[0] for x in HB._init(HB.MEMORIES[n], w)] for n in specs}
    ks, vs, etas, alphas = [], [], [], []
    for t in range(6):
        if t % 2 == 0:
            ref = dict(theta)
        x_t = xh[0, 0, t]
        k = nl_ops.l2_normalize(M.apply(specs["M_k"], ref["M_k"], x_t))
        v = M.apply(specs["M_v"], ref["M_v"], x_t)
        eta = 0.3 * torch.nn.functional.softplus(M.apply(specs["M_eta"], ref["M_eta"], x_t)[0])
        alpha = torch.sigmoid(M.apply(specs["M_alpha"], ref["M_alpha"], x_t)[0])
        ks.append(k), vs.append(M.apply(specs["M_k"], ref["M_k"], v)), etas.append(eta), alphas.append(alpha)
        for n, spec in specs.items():
            vhat = M.apply(spec, ref[n], v)
            g = M.token_grad(spec, ref[n], k, vhat)
            layout = M.state_layout(spec.model, *M.widths(spec, theta[n]))
            theta[n], _ = M.dgd_step(spec, layout, theta[n], [], g, k, eta, alpha, None)
    run = M.run_memory(specs["M_k"], HB._init("mk", w), torch.stack(ks)[None, None],
                       torch.stack(vs)[None, None], torch.stack(etas)[None, None], torch.stack(alphas)[None, None])
    assert max_rel_err(run.final_state(), final["M_k"]) < 1e-13


# ---------------------------------------------------------------- the model files' sizes


def test_titans_memory_at_model_size_float32_vs_float64():
    """models/titans_memory.mlir as written: D = 384, 4 heads, C = B = 64; T = 70 (a partial chunk)."""
    out = {}
    for dt in (torch.float64, torch.float32):
        w = W.generate(W.titans_memory_shapes(), seed=7, dtype=dt)
        out[dt] = TM.titans_memory(_x(70, 384, dtype=dt)[:1], w, TM.TitansOptions(), return_state=True)
    assert out[torch.float64][0].shape == (1, 70, 384)
    assert rel_err(out[torch.float32][0], out[torch.float64][0]) < 1e-4
    assert max_rel_err(out[torch.float32][1], out[torch.float64][1]) < 1e-4


def test_hope_block_at_model_size_float32_vs_float64():
    """models/hope_block.mlir as written (D = 512, 8 heads, C_other = 8, C_mem = 64), T = 66."""
    out = {}
    for dt in (torch.float64, torch.float32):
        w = W.generate(W.hope_block_shapes(), seed=7, dtype=dt)
        out[dt] = HB.hope_block(_x(66, 512, dtype=dt)[:1], w, return_state=True)
    assert rel_err(out[torch.float32][0], out[torch.float64][0]) < 1e-4
    for name, states in out[torch.float64][1].items():
        assert max_rel_err(out[torch.float32][1][name], states) < 1e-4, name
