"""Cross-check: nested-learning 0.2.0 SelfModifyingTitans vs hope_block.self_modifying_titans
(float64, 1e-9): outputs o_t and the final states (and momentum buffers) of every memory.

The package runs one head of width D with GELU memories and F.normalize(eps = 1e-6); its
weights go through tools/export_weights.py (its w2 is the input-side matrix: our W_1).
SelfModOptions.nested_learning gives the options; the package's own options map one to one.
"""

import pytest
import torch

import export_weights as EW

from . import hope_block as HB
from . import memory as M
from .util import max_rel_err, rel_err

sm = pytest.importorskip("nested_learning.titan.self_modifying")

D64 = torch.float64
ETA_SCALE = 0.3  # larger than the default 1e-3, so that the memories move


def make(dim=16, seed=0, **cfg):
    torch.manual_seed(seed)
    config = sm.SelfModifyingTitansConfig(dim=dim, eta_scale=cfg.pop("eta_scale", ETA_SCALE), **cfg)
    return sm.SelfModifyingTitans(config).double()


def options_for(config) -> HB.SelfModOptions:
    """The package's configuration, option by option."""
    return HB.SelfModOptions.nested_learning(
        config.chunk_size_other,
        config.chunk_size_memory,
        eta_scale=config.eta_scale,
        objective=M.Dot() if config.objective == "dot" else M.L2(),
        stopgrad_vhat=config.stopgrad_vhat,
        rank1=config.use_rank1_precond,
        use_alpha=config.use_alpha,
        momentum=config.momentum if config.momentum > 0 else None,
        adaptive_q=config.adaptive_q,
        qk_l2_norm=config.qk_l2_norm,
        l2_eps=config.eps,
    )


PACKAGE_STATE = {"M_k": "k", "M_v": "v", "M_eta": "eta", "M_alpha": "alpha", "M_mem": "memory", "M_q": "q"}


def package_states(state, name, momentum):
    s = getattr(state, PACKAGE_STATE[name])
    out = [s.w2, s.w1] + ([s.w_skip] if s.w_skip is not None else [])
    if momentum:
        out += [s.m_w2, s.m_w1] + ([s.m_w_skip] if s.w_skip is not None else [])
    return out


def run_both(model, T, seed=3, weights_fn=None):
    x = torch.randn(2, T, model.config.dim, generator=torch.Generator().manual_seed(seed), dtype=D64)
    o_pkg, state = model.forward_with_updates(x, model.init_fast_state())
    weights = EW.nested_learning_to_project(model.state_dict())
    if weights_fn:
        weights = weights_fn(weights)
    o_heads, final = HB.self_modifying_titans(x, weights, options_for(model.config))
    return o_pkg, o_heads[:, 0], state, final, weights, x


CONFIGS = [
    dict(chunk_size_other=2, chunk_size_memory=4),
    dict(chunk_size_other=1, chunk_size_memory=1),
    dict(chunk_size_other=3, chunk_size_memory=4, T=11),   # chunk sizes that do not divide T or each other
    dict(chunk_size_other=2, chunk_size_memory=4, objective="dot"),
    dict(chunk_size_other=2, chunk_size_memory=4, stopgrad_vhat=False),
    dict(chunk_size_other=2, chunk_size_memory=4, momentum=0.7),
    dict(chunk_size_other=2, chunk_size_memory=4, use_rank1_precond=False, use_alpha=False),
    dict(chunk_size_other=2, chunk_size_memory=2, use_skip=False),
    dict(chunk_size_other=2, chunk_size_memory=4, adaptive_q=True),
    dict(chunk_size_other=2, chunk_size_memory=4, qk_l2_norm=False, local_conv_window=None),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_matches_nested_learning(cfg):
    cfg = dict(cfg)
    T = cfg.pop("T", 10)
    model = make(**cfg)
    drop_skip = (lambda w: {k: v for k, v in w.items() if not k.endswith("_skip")}) if not model.config.use_skip else None
    o_pkg, o_ref, state, final, weights, _ = run_both(model, T, weights_fn=drop_skip)
    assert rel_err(o_ref, o_pkg) < 1e-9
    momentum = model.config.momentum > 0
    for name, ours in final.items():
        theirs = package_states(state, name, momentum)
        assert len(ours) == len(theirs), name
        assert max_rel_err([s[:, 0] for s in ours], theirs) < 1e-9, name
    # the memories really learnt
    w0 = weights["mmem_w1"][0]
    assert rel_err(final["M_mem"][0][:, 0], w0.expand_as(final["M_mem"][0][:, 0])) > 1e-3


@pytest.mark.parametrize("change", ["silu", "read_after", "stopgrad_off", "no_rank1", "l2_eps_1e-12"])
def test_each_difference_matters(change):
    """The project's defaults that differ from the package change the numbers (except the
    F.normalize epsilon, which only matters for vectors shorter than 1e-6)."""
    from dataclasses import replace

    model = make(chunk_size_other=2, chunk_size_memory=4)
    o_pkg, _, state, _, weights, x = run_both(model, 10)
    opts = options_for(model.config)
    opts = {
        "silu": replace(opts, activation="silu"),
        "read_after": replace(opts, read_point="after"),
        "stopgrad_off": replace(opts, stopgrad_vhat=False),
        "no_rank1": replace(opts, rank1=False),
        "l2_eps_1e-12": replace(opts, l2_eps=1e-12),
    }[change]
    o, _ = HB.self_modifying_titans(x, weights, opts)
    err = rel_err(o[:, 0], o_pkg)
    if change == "l2_eps_1e-12":
        assert err < 1e-12
    else:
        assert err > 1e-8, f"{change}: {err}"


def test_exporter_command_line(tmp_path):
    model = make(chunk_size_other=2)
    torch.save(model.state_dict(), tmp_path / "smt.pt")
    assert EW.main(["nested-learning", str(tmp_path / "smt.pt"), str(tmp_path / "w.safetensors"),
                    "--dtype", "float32"]) == 0
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "w.safetensors"))
    assert saved["mk_w1"].dtype == torch.float32
    assert torch.equal(saved["mk_w1"][0], model.m_k.w2.weight.float())  # input side
    assert torch.equal(saved["meta_w2"][0], model.m_eta.w1.weight.float())  # output side [1, hidden]
    assert saved["conv"].shape == (16, 4)
