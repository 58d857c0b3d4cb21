"""Every model family through the emulated CUDA target (hope-compile --target=cuda-emulated, run
through the runtime's CUDA backend: emulated.py) against the references of its CPU parity test,
float32 against float64 to 1e-5 (semantics doc, section 8), batch 3: T a multiple of the chunks,
T not one, T below the longest chunk. Each artifact is compiled once per module. A call launches
as many kernels at T=64 as at T=4096 (1024 for the LMs with attention or five blocks: their
emulation at 4096 takes minutes).

What test_emulated_parity.py covers already (the memory levels, the HOPE block with the
sequential and nested CMS and the attention mixer, the shipped Titans memory) is not repeated.
Here: self-modifying Titans (tiny, and nested-learning against the package), the Titans memory
in the titans-pytorch config (against the package), the HOPE block with the independent CMS, and
the tiny HOPE LM (with self-modifying Titans or attention, two blocks or five)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
import torch

import export_weights as EW
from artifact import relative_error
from conftest import BUILD
from emulated import EmulatedModel, compile_emulated
from reference import hope_block as HB
from reference import hope_lm as LM
from reference import nl_ops
from runtime_api import Runtime, RuntimeApiError

B, ETA_SCALE = 3, 0.3  # eta scale larger than the default, so that the memories move
TINY_SELFMOD = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=ETA_SCALE)


@dataclass
class Model:
    """How to build one model, seed its data and compute its reference output."""
    args: list  # hope-models' arguments
    entry: str
    width: int  # of the data input; 0: token ids
    tokens: tuple  # T a multiple of every chunk, not one, below the longest chunk
    reference: Callable  # (data as torch float64, weights) -> output
    weights: Callable = lambda seeded: seeded  # hope-models' seeded weights -> those run on
    long: int = 4096  # the long T of the launch count check


def _nested_learning():
    sm = pytest.importorskip("nested_learning.titan.self_modifying")
    torch.manual_seed(0)
    config = sm.SelfModifyingTitansConfig(dim=16, chunk_size_other=2, chunk_size_memory=4)
    return sm.SelfModifyingTitans(config).double()


def _nested_learning_reference(x, _weights):
    with torch.no_grad():
        return _nested_learning().forward_with_updates(x, _nested_learning().init_fast_state())[0]


def _titans_pytorch():
    titans_pytorch = pytest.importorskip("titans_pytorch")
    torch.manual_seed(0)
    return titans_pytorch.NeuralMemory(dim=64, heads=2, dim_head=32, chunk_size=4,
                                       batch_size=8).double()


def _titans_pytorch_reference(x, _weights):
    with torch.no_grad():
        return _titans_pytorch()(x)[0]


def _independent_weights(seeded):
    """The mixing weights far from their seeded init, so that every CMS block counts."""
    return {**seeded, "cms_mix": torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)}


MODELS = {
    "selfmod-tiny": Model(
        ["self-modifying-titans", "--config=tiny", f"--eta-scale={ETA_SCALE}", "--seed=21"],
        "self_modifying_titans", 32, (8, 11, 3),
        lambda h, w: nl_ops.merge_heads(HB.self_modifying_titans(h, w, TINY_SELFMOD)[0])),
    "selfmod-nested-learning": Model(
        ["self-modifying-titans", "--config=nested-learning", "--width=16", "--chunk=2",
         "--chunk-memory=4"],
        "self_modifying_titans", 16, (8, 10, 3), _nested_learning_reference,
        lambda _: EW.nested_learning_to_project(_nested_learning().state_dict())),
    "titans-pytorch": Model(
        ["titans-memory", "--config=titans-pytorch", "--width=64", "--heads=2", "--chunk=4",
         "--linearize=8"],
        "titans_memory", 64, (16, 14, 3), _titans_pytorch_reference,
        lambda _: EW.titans_pytorch_to_project(_titans_pytorch().state_dict(), norm_gamma=True)),
    "hope-block-independent": Model(
        ["hope-block", "--config=tiny", "--cms=independent", f"--eta-scale={ETA_SCALE}",
         "--seed=7"],
        "hope_block", 32, (8, 9, 3),
        lambda x, w: HB.hope_block(x, w, HB.HopeOptions(TINY_SELFMOD, cms_variant="independent")),
        _independent_weights),
    "hope-lm": Model(
        ["hope-lm", "--config=tiny", f"--eta-scale={ETA_SCALE}", "--seed=5"],
        "hope_lm", 0, (8, 11, 3),
        lambda tokens, w: LM.hope_lm(tokens, w, HB.HopeOptions(TINY_SELFMOD))),
    "hope-lm-attention": Model(
        ["hope-lm", "--config=tiny", "--mixer=attention", "--seed=13"],
        "hope_lm", 0, (8, 9, 3),
        lambda tokens, w: LM.hope_lm(tokens, w, HB.HopeOptions(HB.SelfModOptions(heads=2),
                                                               mixer="attention")),
        long=1024),  # attention's T^2: two minutes emulated at 4096
    # Five blocks: the middle ones run one outlined function (nl-split-large-functions), its
    # kernels launched once per block. One T, not a multiple of the chunks (the reference of
    # five blocks is the slowest here).
    "hope-lm-5-layers": Model(
        ["hope-lm", "--config=tiny", "--layers=5", f"--eta-scale={ETA_SCALE}", "--seed=5"],
        "hope_lm", 0, (11,),
        lambda tokens, w: LM.hope_lm(tokens, w, HB.HopeOptions(TINY_SELFMOD)),
        long=1024),  # a minute emulated at 4096
}


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime(BUILD)


@pytest.fixture(scope="module")
def compiled(hope_models, hope_compile, tmp_path_factory, runtime):
    """name -> (model, its float32 emulated artifact, the weights it runs on), each compiled
    once for the whole module, when a test first asks for it."""
    cache = {}

    def get(name: str):
        if name not in cache:
            model = MODELS[name]
            library, seeded = compile_emulated(hope_models, hope_compile,
                                               tmp_path_factory.mktemp(name), name,
                                               [*model.args, "--dtype=f32"])
            weights = model.weights(seeded)
            cache[name] = model, EmulatedModel(runtime, library, model.entry, weights,
                                               np.float32), weights
        return cache[name]
    yield get
    for _, emulated, _ in cache.values():
        emulated.close()


def _data(model: Model, tokens: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    if model.width == 0:
        return torch.randint(0, 256, (B, tokens), generator=generator)
    return torch.randn(B, tokens, model.width, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("name", list(MODELS))
def test_parity(compiled, name):
    """T a multiple of every chunk, not one, and below the longest, batch 3: float32 to 1e-5."""
    model, emulated, weights = compiled(name)
    for tokens in model.tokens:
        x = _data(model, tokens, seed=tokens)
        reference = model.reference(x, weights).numpy()
        error = relative_error(emulated.output(x.numpy()), reference)
        print(f"{name} T={tokens} float32 error {error:.1e}")
        assert error < 1e-5, (name, tokens, error)


@pytest.mark.parametrize("name", list(MODELS))
def test_launches_do_not_depend_on_tokens(compiled, name):
    """The chunk loops run inside the kernels: T=64 and a long T launch alike."""
    model, emulated, _ = compiled(name)
    launches = []
    for tokens in (64, model.long):
        y = emulated.output(_data(model, tokens, seed=1).numpy())
        assert np.isfinite(y).all(), (name, tokens)
        launches.append(emulated.launches())
    print(f"{name} launches per call at T=64, {model.long}: {launches}")
    assert launches[0] == launches[1] > 0


@pytest.mark.parametrize("token", [256, -1])
def test_lm_refuses_a_token_out_of_range(compiled, token):
    """The token ids' check reads device data, so it runs as a kernel (one thread) that stores
    its verdict for the host: a token outside the vocabulary is refused before anything else
    runs, and the next call with valid tokens runs."""
    model, emulated, _ = compiled("hope-lm")
    tokens = _data(model, 5, seed=2).numpy()
    tokens[1, 3] = token
    with pytest.raises(RuntimeApiError, match="vocabulary|token"):
        emulated.output(tokens)
    tokens[1, 3] = 0
    assert np.isfinite(emulated.output(tokens)).all()
