"""Cross-check: titans-pytorch 0.5.5 NeuralMemory vs titans_memory.py (float64, 1e-9).

The package's weights go through tools/export_weights.py; the reference then needs the options
of TitansOptions.titans_pytorch and the extra weights the exporter writes (README.md,
"Differences from titans-pytorch"). The last tests show that each of those differences is real:
with the project's default instead, the results move by far more than 1e-9.
"""

import pytest
import torch

import export_weights as EW

from . import titans_memory as TM
from .util import max_rel_err, rel_err

titans_pytorch = pytest.importorskip("titans_pytorch")

D64 = torch.float64
MAX_LR = 0.5  # a large step so that the memory moves far from its initial state


def make_memory(seed=0, dim=64, heads=2, dim_head=32, chunk=8, batch_size=None, max_lr=MAX_LR, **kw):
    """A NeuralMemory whose every parameter is random (per-head memory weights differ, the
    LayerNorm gamma and the rate biases are non-zero), in float64."""
    torch.manual_seed(seed)
    if heads == 1:
        dim_head = dim
    mem = titans_pytorch.NeuralMemory(dim=dim, heads=heads, dim_head=dim_head, chunk_size=chunk,
                                      batch_size=batch_size, default_step_transform_max_lr=max_lr, **kw)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in mem.named_parameters():
            z = torch.randn(p.shape, generator=g)
            if name.endswith("norm.weight"):
                new = 1 + 0.1 * z
            elif "gamma" in name or name.endswith("bias"):
                new = 0.3 * z
            else:
                new = z / p.shape[-1] ** 0.5
            p.data = new.contiguous()  # the memory parameters are expanded views: replace
    return mem.double()


def package_final_state(mem, state):
    """(last_update, last_momentum) of the package in the project's layout: mem_w1.., mem_norm,
    then the momentum buffers (order-major), each [B, H, ...]."""
    last_update, last_momentum = state.states
    heads = mem.heads
    names = mem.memory_model_parameter_names

    def convert(t, name):
        t = t.reshape(-1, heads, *t.shape[1:])
        if name.endswith("norm.gamma"):
            return t + 1.0  # the scale; for a momentum buffer the caller subtracts 1 again
        return t.transpose(-1, -2)

    order = [n for n in names if not n.endswith("norm.gamma")] + [n for n in names if n.endswith("norm.gamma")]
    params = [convert(last_update[n], n) for n in order]
    momenta = []
    if mem.to_momentum is not None:
        for o in range(mem.momentum_order):
            for n in order:
                m = convert(last_momentum[n][o], n)
                momenta.append(m - 1.0 if n.endswith("norm.gamma") else m)
    return params + momenta


def compare(mem, T, chunk, batch_size, heads=2, seed=0, **opt_kw):
    x = torch.randn(2, T, mem.store_norm.weight.shape[0], generator=torch.Generator().manual_seed(seed + 7), dtype=D64)
    y_pkg, state = mem(x)
    weights = EW.titans_pytorch_to_project(mem.state_dict())
    opts = TM.TitansOptions.titans_pytorch(heads, chunk, batch_size, D64, max_lr=MAX_LR, **opt_kw)
    y_ref, final = TM.titans_memory(x, weights, opts, return_state=True)
    return y_pkg, y_ref, package_final_state(mem, state), final, weights, x


CONFIGS = [
    dict(T=32, chunk=8, batch_size=None),
    dict(T=32, chunk=8, batch_size=8),
    dict(T=32, chunk=4, batch_size=16),
    dict(T=30, chunk=8, batch_size=8),      # last chunk partial
    dict(T=30, chunk=4, batch_size=None),   # last chunk partial, linearised over the sequence
    dict(T=32, chunk=4, batch_size=8, heads=1),
    dict(T=32, chunk=8, batch_size=8, kw=dict(qk_rmsnorm=True, post_rmsnorm=True)),
    dict(T=32, chunk=4, batch_size=8, kw=dict(momentum_order=2)),
    dict(T=32, chunk=4, batch_size=8, kw=dict(momentum=False)),
    dict(T=32, chunk=4, batch_size=8, kw=dict(per_head_learned_parameters=False)),
    dict(T=30, chunk=4, batch_size=None, kw=dict(mem_model_norm_add_residual=False)),
    dict(T=32, chunk=4, batch_size=8, kw=dict(spectral_norm_surprises=True), opts=dict(newton_schulz=True)),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_matches_titans_pytorch(cfg):
    heads = cfg.get("heads", 2)
    mem = make_memory(heads=heads, chunk=cfg["chunk"], batch_size=cfg["batch_size"], **cfg.get("kw", {}))
    y_pkg, y_ref, s_pkg, s_ref, weights, _ = compare(mem, cfg["T"], cfg["chunk"], cfg["batch_size"], heads,
                                                     **cfg.get("opts", {}))
    assert rel_err(y_ref, y_pkg) < 1e-9
    assert len(s_ref) == len(s_pkg)
    assert max_rel_err(s_ref, s_pkg) < 1e-9
    # the memory really learnt: its final state is far from the initial one
    assert rel_err(s_ref[0], weights["mem_w1"].expand_as(s_ref[0])) > 1e-3


def _flip(name, weights, opts):
    """Undo one titans-pytorch-specific choice: back to the project's default."""
    from dataclasses import replace

    w = dict(weights)
    if name == "rms_eps":
        opts = replace(opts, rms_eps=1e-6)
    elif name == "ln_scale_center":
        opts = replace(opts, ln_scale_center=0.0)
    elif name == "partial_chunk_update":
        opts = replace(opts, partial_chunk_update=True)
    elif name == "rate_biases":
        for b in ("b_lr", "b_momentum", "b_retention"):
            w.pop(b)
    elif name == "retrieve_gate":
        w.pop("w_gate")
    elif name == "decay_sign":
        w["w_retention"], w["b_retention"] = -w["w_retention"], -w["b_retention"]
    return w, opts


@pytest.mark.parametrize("difference", ["rms_eps", "ln_scale_center", "partial_chunk_update", "rate_biases",
                                        "retrieve_gate", "decay_sign"])
def test_each_difference_matters(difference):
    T, chunk, bs = 30, 4, 8
    mem = make_memory(chunk=chunk, batch_size=bs)
    y_pkg, _, s_pkg, _, weights, x = compare(mem, T, chunk, bs)
    opts = TM.TitansOptions.titans_pytorch(2, chunk, bs, D64, max_lr=MAX_LR)
    w, opts = _flip(difference, weights, opts)
    y, s = TM.titans_memory(x, w, opts, return_state=True)
    err = max(rel_err(y, y_pkg), max_rel_err(s, s_pkg))
    assert err > 1e-8, f"{difference}: {err}"


def test_exporter_command_line(tmp_path):
    mem = make_memory(chunk=4, batch_size=8)
    torch.save(mem.state_dict(), tmp_path / "nm.pt")
    assert EW.main(["titans-pytorch", str(tmp_path / "nm.pt"), str(tmp_path / "w.safetensors")]) == 0
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "w.safetensors"))
    direct = EW.titans_pytorch_to_project(mem.state_dict())
    assert saved.keys() == direct.keys()
    assert all(torch.equal(saved[k], direct[k]) for k in saved)
    # the model file's arguments are all there, with its layout
    for name in ("store_norm", "retrieve_norm", "w_k", "w_v", "w_q", "w_lr", "w_momentum", "w_retention",
                 "w_out", "mem_w1", "mem_w2", "mem_norm"):
        assert name in saved
    assert saved["mem_w1"].shape == (2, 128, 32) and saved["mem_w2"].shape == (2, 32, 128)
