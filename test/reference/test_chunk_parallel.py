"""The chunk-parallel PyTorch baselines (bench/torch_models.py) against the token-by-token
references: hope_block_chunked vs hope_block.py, titans_memory_chunked vs titans_memory.py.

Outputs and final states (every memory's parameters, momentum buffers) in float64 to 1e-10 and in
float32 to 1e-4 (metric max|a - b| / max|ref|), on small sizes where the memories really move
(eta_scale 0.3, max_lr 0.5): T a multiple of the chunks and not (a last partial chunk), every
option of the references the baselines implement, titans-pytorch's form (and the package itself
when installed), torch.compile'd steps, the check failing on a perturbed weight, and the FLOP
formulas against torch's own FLOP counter.

torch.compile of the HOPE step takes ~30-40 s on the 2-core machine and the Titans step ~8 s;
both always run (the benchmark's torch.compile columns rest on them).
"""

import sys
from pathlib import Path

import pytest
import torch

from . import hope_block as HB
from . import memory as M
from . import titans_memory as TM
from . import weights as W
from .util import max_rel_err, rel_err

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import torch_models as CP  # noqa: E402

D64, D32 = torch.float64, torch.float32
TOL = {D64: 1e-10, D32: 1e-4}


def _x(T, D, seed=0, dtype=D64, batch=2):
    return torch.randn(batch, T, D, generator=torch.Generator().manual_seed(seed), dtype=D64).to(dtype)


# ---------------------------------------------------------------- HOPE block

HOPE_SMALL = dict(dim=16, heads=2, cms_hidden=(32, 32, 32))


def hope_opts(**kw):
    base = dict(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3)
    base.update(kw)
    return HB.HopeOptions(HB.SelfModOptions(**base))


def hope_weights(dtype=D64, drop=(), adaptive_q=False, seed=1, linear_memory=False):
    w = W.generate(W.hope_block_shapes(**HOPE_SMALL, adaptive_q=adaptive_q, linear_memory=linear_memory),
                   seed=seed, dtype=dtype)
    for name in drop:
        w.pop(name)
    return w


def compare_hope(T, dtype, opts, w, impl=CP.hope_block_chunked, ref_dtype=None):
    """(error of y, max error over every memory's final state) of impl vs the reference
    (computed in ref_dtype, default: dtype)."""
    ref_dtype = ref_dtype or dtype
    w_ref = {n: t.to(ref_dtype) for n, t in w.items()}
    y, final = HB.hope_block(_x(T, 16, dtype=ref_dtype), w_ref, opts, return_state=True)
    y2, final2 = impl(_x(T, 16, dtype=dtype), w, opts, return_state=True)
    assert y2.dtype == dtype and y2.shape == y.shape
    assert final2.keys() == final.keys()
    assert all(len(final2[n]) == len(final[n]) for n in final)
    # the memories really learnt: M_mem's W_1 is far from its initial state
    assert rel_err(final["M_mem"][0], w_ref["mmem_w1"].expand_as(final["M_mem"][0])) > 1e-2
    return rel_err(y2, y), max(max_rel_err(final2[n], final[n]) for n in final)


@pytest.mark.parametrize("dtype", [D64, D32], ids=["f64", "f32"])
@pytest.mark.parametrize("T", [11, 16])
def test_hope_block_matches_reference(T, dtype):
    """C_other = 2, C_mem = 4, batch 2; T = 11 ends inside a chunk of both memories."""
    err_y, err_s = compare_hope(T, dtype, hope_opts(), hope_weights(dtype))
    print(f"T={T} {dtype}: y {err_y:.1e}, states {err_s:.1e}")
    assert err_y < TOL[dtype] and err_s < TOL[dtype]
    if dtype == D32:  # also against the float64 reference
        err_y, err_s = compare_hope(T, dtype, hope_opts(), hope_weights(dtype), ref_dtype=D64)
        assert err_y < TOL[dtype] and err_s < TOL[dtype]


HOPE_VARIANTS = {
    "read_after": (dict(read_point="after"), {}),
    "no_alpha": (dict(use_alpha=False), {}),
    "no_rank1": (dict(rank1=False), {}),
    "normalized_step": (dict(step_size="normalized"), {}),
    "dot_objective": (dict(objective=M.Dot()), {}),
    "l2_mean_half": (dict(objective=M.L2(reduction="mean", half=True)), {}),
    "momentum": (dict(momentum=0.9), {}),
    "no_stopgrad": (dict(stopgrad_vhat=False), {}),
    "no_stopgrad_dot_momentum": (dict(stopgrad_vhat=False, objective=M.Dot(), momentum=0.5), {}),
    "adaptive_q": (dict(adaptive_q=True), dict(adaptive_q=True)),
    "no_qk_norm": (dict(qk_l2_norm=False), {}),
    "no_conv_no_skip": ({}, dict(drop=("conv", "meta_skip", "malpha_skip"))),
    "nested_learning_gelu_3_4": (dict(activation="gelu", chunk_other=3, chunk_mem=4, l2_eps=1e-6), {}),
    "c_other_4_c_mem_2": (dict(chunk_other=4, chunk_mem=2), {}),
    "c_1_1": (dict(chunk_other=1, chunk_mem=1), {}),
    "linear_memory": (dict(memory_model="linear"), dict(linear_memory=True)),
    "linear_memory_rates": (dict(memory_model="linear", memory_eta_scale=0.5, bounded_eta=True, retention_bias=2.0,
                                 normalize_values=True), dict(linear_memory=True)),
    "linear_memory_after_normalized_no_rank1": (
        dict(memory_model="linear", read_point="after", step_size="normalized", rank1=False),
        dict(linear_memory=True)),
}


@pytest.mark.parametrize("variant", list(HOPE_VARIANTS))
def test_hope_block_options_match_reference(variant):
    kw, wkw = HOPE_VARIANTS[variant]
    err_y, err_s = compare_hope(11, D64, hope_opts(**kw), hope_weights(**wkw))
    assert err_y < TOL[D64] and err_s < TOL[D64], (err_y, err_s)


def test_hope_read_point_after_differs_from_chunk_start():
    """The `after` read is really exercised: it changes y (and still matches the reference above)."""
    w, x = hope_weights(), _x(11, 16)
    a = CP.hope_block_chunked(x, w, hope_opts())
    b = CP.hope_block_chunked(x, w, hope_opts(read_point="after"))
    assert rel_err(b, a) > 1e-3


def _loss_gradients(block, w, opts, T=11):
    """d mean((y - R)^2) / d every weight by autograd through `block` (hope-bench's training
    rows take the baseline's gradients this way)."""
    leaves = {n: t.clone().requires_grad_() for n, t in w.items()}
    y = block(_x(T, 16), leaves, opts)
    loss = ((y - _x(T, 16, seed=5)) ** 2).mean()
    grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
    return {n: torch.zeros_like(leaves[n]) if g is None else g for n, g in zip(leaves, grads)}


GRADIENT_VARIANTS = {
    "stopgrad": (dict(), {}),
    "no_stopgrad": (dict(stopgrad_vhat=False), {}),
    "vhat_outer_gradient": (dict(vhat_outer_gradient=True), {}),
    "linear_memory": (dict(memory_model="linear"), dict(linear_memory=True)),
    "linear_memory_vhat_outer_gradient": (dict(memory_model="linear", vhat_outer_gradient=True),
                                          dict(linear_memory=True)),
}


@pytest.mark.parametrize("variant", list(GRADIENT_VARIANTS))
def test_hope_block_gradients_match_reference(variant):
    """Autograd of an outer loss through the chunk-parallel block (its closed-form DGD, the
    stop-gradient on the targets) equals autograd through the token-by-token reference."""
    kw, wkw = GRADIENT_VARIANTS[variant]
    opts, w = hope_opts(**kw), hope_weights(**wkw)
    ours, ref = _loss_gradients(CP.hope_block_chunked, w, opts), _loss_gradients(HB.hope_block, w, opts)
    scale = max(g.abs().max() for g in ref.values())
    err = max(float((ours[n] - ref[n]).abs().max() / scale) for n in ref)
    print(f"{variant}: gradient error {err:.1e}")
    assert err < TOL[D64]
    # M_v only feeds the targets: no outer gradient behind a full stop-gradient
    cut = opts.selfmod.stopgrad_vhat and not opts.selfmod.vhat_outer_gradient
    assert cut == all(not ref[n].any() for n in ("mv_w1", "mv_w2"))


# ---------------------------------------------------------------- Titans memory

TITANS_SMALL = dict(dim=32, heads=2)
TP_EXTRA = {"b_lr": (2,), "b_momentum": (2,), "b_retention": (2,), "w_gate": (2, 32)}
NORM_EXTRA = {"k_norm": (2, 16), "q_norm": (2, 16), "out_norm": (2, 16)}


def titans_opts(**kw):
    base = dict(heads=2, chunk=4, linearize=8, max_lr=0.5)
    base.update(kw)
    return TM.TitansOptions(**base)


def titans_weights(dtype=D64, extra=None, depth=2, seed=1, drop=(), order2=False):
    shapes = W.titans_memory_shapes(**TITANS_SMALL, depth=depth)
    shapes.update(extra or {})
    w = W.generate(shapes, seed=seed, dtype=dtype)
    for name in drop:
        w.pop(name)
    if order2:
        w["w_momentum"] = torch.stack([w["w_momentum"], 0.5 * w["w_momentum"].flip(0)])
    return w


def compare_titans(T, dtype, opts, w, impl=CP.titans_memory_chunked, gamma=False, init_momentum=None):
    """(error of y, max error over the final state) of impl vs titans_memory.py. gamma: impl gets
    mem_norm_gamma = mem_norm - 1 (hope-models titans-memory --config=titans-pytorch)."""
    x = _x(T, 32, dtype=dtype)
    y, final = TM.titans_memory(x, w, opts, init_momentum=init_momentum, return_state=True)
    w2 = dict(w)
    if gamma:
        assert opts.ln_scale_center == 1.0
        w2["mem_norm_gamma"] = w2.pop("mem_norm") - 1.0
    y2, final2 = impl(x, w2, opts, init_momentum=init_momentum, return_state=True)
    if gamma:
        final2[2] = final2[2] + 1.0
    assert len(final2) == len(final)
    assert rel_err(final[0], w["mem_w1"].expand_as(final[0])) > 1e-2  # the memory moved
    return rel_err(y2, y), max_rel_err(final2, final)


@pytest.mark.parametrize("dtype", [D64, D32], ids=["f64", "f32"])
@pytest.mark.parametrize("T", [13, 16])
def test_titans_memory_matches_reference(T, dtype):
    """dim 32, 2 heads, C = 4, linearisation B = 8 (2 chunks), batch 2; T = 13: a partial chunk."""
    err_y, err_s = compare_titans(T, dtype, titans_opts(), titans_weights(dtype))
    print(f"T={T} {dtype}: y {err_y:.1e}, states {err_s:.1e}")
    assert err_y < TOL[dtype] and err_s < TOL[dtype]


TITANS_VARIANTS = {
    "linearize_sequence": (30, dict(linearize=None), {}),
    "linearize_chunk": (30, dict(linearize=4), {}),
    "linearize_4_chunks": (30, dict(linearize=16), {}),
    "partial_update": (13, dict(partial_chunk_update=True), {}),
    "partial_update_mid_block": (10, dict(partial_chunk_update=True), {}),
    "partial_update_sequence": (14, dict(partial_chunk_update=True, linearize=None), {}),
    "shorter_than_a_chunk": (3, dict(partial_chunk_update=True), {}),
    "titans_pytorch_form": (30, dict(ln_scale_center=1.0, rms_eps=torch.finfo(D64).eps), dict(extra=TP_EXTRA)),
    "qk_out_norms": (13, {}, dict(extra=NORM_EXTRA)),
    "no_momentum": (16, {}, dict(drop=("w_momentum",))),
    "momentum_order_2": (16, {}, dict(order2=True)),
    "no_mem_norm": (16, {}, dict(drop=("mem_norm",))),
    "newton_schulz": (16, dict(newton_schulz=True, ns_eps=1e-7), {}),
    "depth_3": (16, {}, dict(depth=3)),
    "depth_1": (16, {}, dict(depth=1)),
    "silu_chunk_1": (16, dict(activation="silu", chunk=1, linearize=2), {}),
}


@pytest.mark.parametrize("variant", list(TITANS_VARIANTS))
def test_titans_memory_options_match_reference(variant):
    T, kw, wkw = TITANS_VARIANTS[variant]
    err_y, err_s = compare_titans(T, D64, titans_opts(**kw), titans_weights(**wkw))
    assert err_y < TOL[D64] and err_s < TOL[D64], (err_y, err_s)


def test_titans_memory_norm_gamma_and_init_momentum():
    """mem_norm_gamma (scale gamma + 1, the --config=titans-pytorch model) and streamed-in momenta."""
    w = titans_weights(extra=TP_EXTRA)
    opts = titans_opts(ln_scale_center=1.0)
    err = compare_titans(13, D64, opts, w, gamma=True)
    assert max(err) < TOL[D64], err
    g = torch.Generator().manual_seed(3)
    init = [0.1 * torch.randn(2, *w[n].shape, generator=g, dtype=D64) for n in ("mem_w1", "mem_w2", "mem_norm")]
    err = compare_titans(13, D64, opts, w, init_momentum=init)
    assert max(err) < TOL[D64], err


@pytest.mark.parametrize("case", [dict(T=30, chunk=4, batch_size=8), dict(T=32, chunk=8, batch_size=None)],
                         ids=["B=8-partial", "B=None"])
def test_titans_memory_matches_titans_pytorch(case):
    """The package's NeuralMemory itself, through tools/export_weights.py --titans-pytorch-norm."""
    pytest.importorskip("titans_pytorch")
    import export_weights as EW

    from .test_titans_pytorch import MAX_LR, make_memory

    mem = make_memory(chunk=case["chunk"], batch_size=case["batch_size"])
    x = _x(case["T"], 64, seed=7)
    with torch.no_grad():
        y_pkg, _ = mem(x)
    w = EW.titans_pytorch_to_project(mem.state_dict(), norm_gamma=True)
    opts = TM.TitansOptions.titans_pytorch(2, case["chunk"], case["batch_size"], D64, max_lr=MAX_LR)
    assert rel_err(CP.titans_memory_chunked(x, w, opts), y_pkg) < 1e-10


# ---------------------------------------------------------------- torch.compile


def test_compiled_titans_memory():
    """The per-block step under torch.compile(dynamic=False, fullgraph=True), f64; T = 13 also
    runs the eager path of the partial chunk."""
    impl = CP.make_titans_memory(compile=True)
    err = compare_titans(13, D64, titans_opts(), titans_weights(), impl=impl)
    assert impl._steps, "no compiled step was used"
    assert max(err) < TOL[D64], err


def test_compiled_hope_block():
    impl = CP.make_hope_block(compile=True)
    err = compare_hope(11, D64, hope_opts(), hope_weights(), impl=impl)
    assert impl._steps, "no compiled step was used"
    assert max(err) < TOL[D64], err


# ---------------------------------------------------------------- the check can fail


def _perturbed(weights, name, eps=1e-2):
    w = dict(weights)
    w[name] = weights[name].clone()
    w[name].view(-1)[0] += eps
    return w


def test_the_check_can_fail():
    """The same comparisons with one weight element (a memory's initial W_1) perturbed by 1e-2
    in the chunk-parallel input only: outputs and states differ beyond both tolerances."""
    def hope_impl(x, w, opts, return_state):
        return CP.hope_block_chunked(x, _perturbed(w, "mmem_w1"), opts, return_state)

    def titans_impl(x, w, opts, init_momentum, return_state):
        return CP.titans_memory_chunked(x, _perturbed(w, "mem_w1"), opts, init_momentum, return_state)

    for err in (compare_hope(11, D64, hope_opts(), hope_weights(), impl=hope_impl),
                compare_titans(13, D64, titans_opts(), titans_weights(), impl=titans_impl)):
        assert min(err) > TOL[D32], err


# ---------------------------------------------------------------- FLOP formulas


def _counted_flops(fn):
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize("T", [16, 11])
def test_flops_hope_block_counts_the_matmuls(T):
    """flops_hope_block = torch's FLOP count of the eager run (mm / bmm / convolution) + the
    triangular solves (which torch does not count) - the padded outputs of the convolution."""
    shapes = W.hope_block_shapes(dim=16, heads=2, hidden=8, cms_hidden=(32, 24))
    w = W.generate(shapes, seed=1)
    counted = _counted_flops(lambda: CP.hope_block_chunked(_x(T, 16), w, hope_opts()))
    steps = [2] * (T // 2) + [T % 2] * (T % 2)
    solve = 2 * 2 * 2 * sum(c * (c - 1) // 2 * (5 * 8 + 2) for c in steps)
    conv_padding = 2 * 2 * 3 * 16 * 4
    cfg = dict(dim=16, heads=2, hidden=8, chunk_other=2, chunk_mem=4, cms_hidden=(32, 24), window=4)
    assert CP.flops_hope_block(2, T, cfg) == counted + solve - conv_padding


@pytest.mark.parametrize("T", [16, 13])
def test_flops_titans_memory_counts_the_matmuls(T):
    w = titans_weights()
    cfg = dict(dim=32, heads=2, chunk=4, gate=False)
    for lin in (8, None):
        counted = _counted_flops(lambda: CP.titans_memory_chunked(_x(T, 32), w, titans_opts(linearize=lin)))
        assert CP.flops_titans_memory(2, T, cfg) == counted
