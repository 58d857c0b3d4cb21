"""hope-models' package configs hold the packages' defaults: `titans-memory --config=titans-pytorch`
claims titans-pytorch 0.5.x's NeuralMemory defaults and `self-modifying-titans
--config=nested-learning` nested-learning 0.2.0's SelfModifyingTitansConfig defaults. Every
parameter of the installed constructors (inspect.signature) is either a size (given by the user,
so also given to hope-models) or an option whose default is read back from the IR hope-models
emits; a parameter the test does not know fails it (a new package version must be looked at).
Overriding a size keeps the package's rules for the sizes derived from it."""

from __future__ import annotations

import inspect
import re
import subprocess

import pytest

titans_pytorch = pytest.importorskip("titans_pytorch")
sm = pytest.importorskip("nested_learning.titan.self_modifying")


def emit(hope_models, *args: str) -> str:
    result = subprocess.run([str(hope_models), *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return "\n".join(line for line in result.stdout.splitlines() if not line.lstrip().startswith("//"))


def defaults(function) -> dict:
    return {name: p.default for name, p in inspect.signature(function).parameters.items()}


def ops(ir: str) -> set[str]:
    return set(re.findall(r"= (nl\.\w+)", ir)) | set(re.findall(r"^\s*(nl\.\w+)", ir, re.M))


# NeuralMemory's sizes: the user gives them, and the same to hope-models.
NEURAL_MEMORY_SIZES = {"dim", "chunk_size", "batch_size", "dim_head", "heads"}


def neural_memory_options(ir: str) -> dict:
    """What the IR of a titans-pytorch config implements, in NeuralMemory's parameter names."""
    lr = re.search(r"nl\.rate sigmoid %\w+ scale (\S+)", ir)  # only the learning rate is scaled
    mlp = re.search(r"#nl\.mlp<([^>]*)>", ir).group(1)
    hidden = int(re.search(r"hidden = (\d+)", mlp).group(1))
    head = int(re.search(r"!nl\.memory<\d+ heads, (\d+) ->", ir).group(1))
    depth = re.search(r"depth = (\d+)", mlp)
    rule = re.search(r"rule = #nl\.momentum_gd<([^>]*)>", ir).group(1)
    order = re.search(r"order = (\d+)", rule)
    used = ops(ir)
    return {
        "default_step_transform_max_lr": float(lr.group(1)) if lr else 1.0,
        # The memory: MemoryMLP(dim_head, depth 2, expansion 4, GELU) in ResidualNorm (post-norm
        # LayerNorm on the branch, residual added) with the mean-over-features L2 loss.
        "model": None if "activation = gelu" in mlp and "norm = post" in mlp else "other",
        "default_model_kwargs": {"depth": int(depth.group(1)) if depth else 2,
                                 "expansion_factor": hidden / head},
        "mem_model_norm_add_residual": "norm = post" in mlp and "residual = none" not in mlp,
        "store_memory_loss_fn": "mean L2" if "#nl.l2<reduction = mean>" in ir else "other",
        "momentum": "momentum(" in ir,
        "momentum_order": int(order.group(1)) if order else 1,
        "pre_rmsnorm": ir.count("nl.rms_norm") == 2,  # store_norm and retrieve_norm
        "post_rmsnorm": False if ir.count("nl.rms_norm") == 2 else "?",
        "qk_rmsnorm": False if ir.count("nl.rms_norm") == 2 else "?",
        # Mean-pooled chunks for the momentum and decay rates, one learned rate per head.
        "attn_pool_chunks": "nl.chunk_pool" not in used,
        "per_head_learned_parameters": True,
        # Nothing besides these ops: no activation on q/k/v, no gradient clipping or spectral
        # norm, no per-parameter or learned rates, one key/value per token from one view.
        "adaptive_step_transform": None,
        "activation": None,
        "per_parameter_lr_modulation": False,
        "max_mem_layer_modulation": 1.0,
        "learned_momentum_combine": False,
        "learned_combine_include_zeroth": False,
        "num_kv_per_token": 1,
        "qkv_receives_diff_views": False,
        "max_grad_norm": None,
        "use_accelerated_scan": False,
        "init_adaptive_step_bias": None,
        "init_momentum_bias": None,
        "init_decay_bias": None,
        "accept_weight_residual": False,
        "spectral_norm_surprises": False,
        "gated_transition": False,
        "store_with_lookahead_value": False,
    } if used <= PLAIN_NEURAL_MEMORY_OPS else {"ops": used}


PLAIN_NEURAL_MEMORY_OPS = {"nl.rms_norm", "nl.linear", "nl.split_heads", "nl.rate", "nl.chunk_pool",
                           "nl.memory", "nl.update", "nl.read", "nl.gate", "nl.merge_heads"}


def package_neural_memory_defaults() -> dict:
    values = defaults(titans_pytorch.NeuralMemory)
    for name in NEURAL_MEMORY_SIZES:
        values.pop(name)
    loss = values["store_memory_loss_fn"]
    assert loss.__name__ == "default_loss_fn" and "mean(dim = -1)" in inspect.getsource(loss)
    values["store_memory_loss_fn"] = "mean L2"
    return values


def test_titans_pytorch_config_has_neural_memory_defaults(hope_models):
    ir = emit(hope_models, "titans-memory", "--config=titans-pytorch", "--width=64", "--heads=2")
    assert neural_memory_options(ir) == package_neural_memory_defaults()


def test_neural_memory_check_can_fail(hope_models):
    """Another max_lr is another function, and the comparison sees it."""
    ir = emit(hope_models, "titans-memory", "--config=titans-pytorch", "--width=64", "--max-lr=0.01")
    assert neural_memory_options(ir) != package_neural_memory_defaults()


# SelfModifyingTitansConfig's sizes: dim (no default), chunk_size_other, chunk_size_memory.
def self_modifying_options(ir: str) -> dict:
    """What the IR of a nested-learning config implements, in SelfModifyingTitansConfig's names."""
    eta = re.search(r"nl\.rate softplus %\w+ scale (\S+)", ir)
    epsilon = re.search(r"nl\.l2_normalize %\w+ \{epsilon = (\S+) : f64\}", ir)
    conv = re.search(r"tensor<\d+x(\d+)x\w+> \{nl\.weight = \"conv\"\}", ir)
    mlps = re.findall(r"#nl\.mlp<([^>]*)>", ir)
    return {
        "eta_scale": float(eta.group(1)) if eta else 1.0,
        "eps": float(epsilon.group(1)) if epsilon else None,
        "local_conv_window": int(conv.group(1)) if conv else None,
        "objective": "l2" if ir.count("#nl.l2<>") == 5 else "other",
        "use_rank1_precond": ir.count("#nl.dgd<>") == 5,  # DGD with its rank-1 term
        "momentum": 0.0 if "momentum" not in ir else "?",
        "use_alpha": '"M_alpha"' in ir,
        "qk_l2_norm": epsilon is not None,
        "use_skip": len(mlps) == 5 and not any("residual = none" in m for m in mlps),
        "stopgrad_vhat": True,
        "adaptive_q": False,
    }


def test_nested_learning_config_has_package_defaults(hope_models):
    ir = emit(hope_models, "self-modifying-titans", "--config=nested-learning")
    values = defaults(sm.SelfModifyingTitansConfig)
    sizes = {name: values.pop(name) for name in ("dim", "chunk_size_other", "chunk_size_memory")}
    assert self_modifying_options(ir) == values
    # The sizes the config picks: the package's chunk defaults (chunk_size_memory = None means
    # chunk_size_other), dim 64 (the package has none).
    assert sizes["chunk_size_other"] == 1 and sizes["chunk_size_memory"] is None
    assert len(re.findall(r"every = #nl\.every<1 tokens>", ir)) == 5
    assert "tensor<1x64x64xf32> {nl.weight = \"mk_w1\"}" in ir


def test_nested_learning_sizes_follow_the_package_rules(hope_models):
    """The memories' hidden width is dim and chunk_size_memory follows chunk_size_other, as in the
    package, when only the width and C_other are given."""
    ir = emit(hope_models, "self-modifying-titans", "--config=nested-learning", "--width=32", "--chunk=3")
    model = sm.SelfModifyingTitans(sm.SelfModifyingTitansConfig(dim=32, chunk_size_other=3))
    hidden = next(v.shape[0] for k, v in model.state_dict().items() if k.endswith("w2.weight"))
    assert hidden == 32
    assert model.config.chunk_size_memory == 3
    assert len(re.findall(r"every = #nl\.every<3 tokens>, model = #nl\.mlp<hidden = 32,", ir)) == 5


def test_self_modifying_check_can_fail(hope_models):
    """Another eta scale is another function, and the comparison sees it."""
    ir = emit(hope_models, "self-modifying-titans", "--config=nested-learning", "--eta-scale=0.3")
    values = defaults(sm.SelfModifyingTitansConfig)
    for name in ("dim", "chunk_size_other", "chunk_size_memory"):
        values.pop(name)
    assert self_modifying_options(ir) != values
