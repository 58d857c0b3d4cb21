"""The CUDA target's kernels, emulated on the CPU (hope-compile --target=cuda-emulated), against
the token-by-token references (test/reference/memory.py), run the way a host program runs a GPU
artifact: through the runtime's CUDA backend (module loading, the device arena, the stream,
copies) over its CPU stand-in for the driver. Every memory level `hope-models memory-level`
has a config for (built through --memory-spec with the same model, objective, rule and chunk as
the config), batch 3, T a multiple of the chunk, not one, and below it; float64 to 1e-9 and
float32 to 1e-5 (semantics doc, section 8). A forward call launches as many kernels at T=64 as at
T=4096. The HOPE block (both mixers, the nested CMS) and the shipped Titans memory too, against
the references their CPU parity tests use, batch 3."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import torch

from conftest import BUILD
from memory_ir import builder_spec
from reference import memory as ref
from runtime_api import DEVICE_CUDA, Runtime, Session

B, H, D_IN, D_OUT = 3, 2, 4, 4

# hope-models memory-level's configs (tools/hope-models/ModelCatalog.cpp), as reference specs.
CONFIGS = {
    "linear-momentum": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.MomentumGD(order=1), chunk=4),
    "linear-dgd": ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.DGD(), chunk=4),
    "mlp-momentum": ref.MemorySpec(ref.MLPModel(hidden=16), ref.L2(), ref.MomentumGD(order=1),
                                   chunk=4),
    "mlp-dgd": ref.MemorySpec(ref.MLPModel(hidden=16), ref.L2(), ref.DGD(), chunk=4),
    "chunk-aggregated": ref.MemorySpec(
        ref.MLPModel(hidden=16, activation="gelu", norm="post"), ref.L2(reduction="mean"),
        ref.MomentumGD(order=1, retention="chunk", momentum="chunk"), chunk=4,
        chunk_aggregated=ref.ChunkAggregated(8)),
    "gated-delta": ref.MemorySpec(ref.LinearModel(), ref.Dot(), ref.DGD(), chunk=4),
}


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime(BUILD)


def _compile(hope_models, hope_compile, tmp_path, spec, point, element, name) -> object:
    fields = builder_spec(spec, H, D_IN, D_OUT, point, element)
    spec_file = tmp_path / f"{name}.json"
    spec_file.write_text(json.dumps(fields))
    source, library = tmp_path / f"{name}.mlir", tmp_path / f"{name}.so"
    for command in ([hope_models, "memory-level", f"--memory-spec={spec_file}", "-o", source],
                    [hope_compile, source, "--target=cuda-emulated", "-o", library]):
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-4000:]
    return library


class _Case:
    """Seeded inputs of one memory level at `tokens` tokens, and the reference's outputs."""

    def __init__(self, spec, point, tokens, seed=0):
        gen = torch.Generator().manual_seed(seed)
        rand = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)
        self.k, self.v, self.q = (rand(B, H, tokens, D_IN), rand(B, H, tokens, D_OUT),
                                  rand(B, H, tokens, D_IN))
        chunks = -(-tokens // spec.chunk)
        length = lambda grain: chunks if grain == "chunk" else tokens
        self.lr = 0.1 * torch.rand(B, H, tokens, generator=gen, dtype=torch.float64)
        self.retention = 0.9 + 0.1 * torch.rand(B, H, length(spec.rule.retention), generator=gen,
                                                dtype=torch.float64)
        grain = getattr(spec.rule, "momentum", "token")
        self.momentum = [0.5 + 0.4 * torch.rand(B, H, length(grain), generator=gen,
                                                dtype=torch.float64)
                         for _ in range(spec.momentum_order())]
        layout = ref.state_layout(spec.model, D_IN, D_OUT)
        self.init = [0.3 * rand(H, *p.shape) + (1.0 if p.name == "norm" else 0.0) for p in layout]
        self.spec, self.point = spec, point

    def reference(self):
        y, final = ref.run_and_read(self.spec, self.init, self.k, self.v, self.lr, self.q,
                                    self.point, self.retention, self.momentum)
        return [y, *final]

    def run(self, session: Session, numpy_type):
        entry = session.entry("memory_level")
        data = [self.k, self.v, self.lr, self.retention, *self.momentum, self.q]
        inputs = [p["name"] for p in entry["inputs"] if p["role"] != "weight"]
        weights = [p["name"] for p in entry["inputs"] if p["role"] == "weight"]
        assert len(inputs) == len(data) and len(weights) == len(self.init), entry
        for name, value in zip(weights, self.init):
            session.set_weight(name, value.numpy().astype(numpy_type))
        outputs = session.invoke_map("memory_level", {
            name: value.numpy().astype(numpy_type) for name, value in zip(inputs, data)})
        return [outputs[p["name"]] for p in entry["outputs"]]


def _error(outputs, references) -> float:
    errors = []
    for output, reference in zip(outputs, references):
        reference = reference.numpy()
        assert output.shape == reference.shape, (output.shape, reference.shape)
        errors.append(np.abs(output - reference).max() / np.abs(reference).max())
    return max(errors)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_memory_level_float64(hope_models, hope_compile, runtime, tmp_path, config):
    """T = 8 (a multiple of the chunk), 10 (not) and 3 (below it), one artifact."""
    spec = CONFIGS[config]
    library = _compile(hope_models, hope_compile, tmp_path, spec, "after", "f64", config)
    session = Session(runtime, library, device=DEVICE_CUDA)
    try:
        assert session.manifest["target"]["kind"] == "cuda-emulated"
        for tokens in (8, 10, 3):
            case = _Case(spec, "after", tokens)
            error = _error(case.run(session, np.float64), case.reference())
            print(f"{config} T={tokens} float64 error {error:.1e}")
            assert error < 1e-9, (config, tokens, error)
    finally:
        session.close()


@pytest.mark.parametrize("config", ["linear-momentum", "mlp-dgd"])
def test_chunk_start_read_float32(hope_models, hope_compile, runtime, tmp_path, config):
    """The other read point, in float32 (the GPU's element type), T = 10."""
    spec = CONFIGS[config]
    library = _compile(hope_models, hope_compile, tmp_path, spec, "chunk_start", "f32", config)
    session = Session(runtime, library, device=DEVICE_CUDA)
    try:
        case = _Case(spec, "chunk_start", 10)
        error = _error(case.run(session, np.float32), case.reference())
        print(f"{config} chunk_start float32 error {error:.1e}")
        assert error < 1e-5
    finally:
        session.close()


def test_launches_do_not_depend_on_tokens(hope_models, hope_compile, runtime, tmp_path):
    """One kernel per memory stage and per loop nest: T=64 and T=4096 launch alike."""
    spec = CONFIGS["linear-momentum"]
    library = _compile(hope_models, hope_compile, tmp_path, spec, "after", "f32", "launches")
    session = Session(runtime, library, device=DEVICE_CUDA)
    try:
        launches = []
        for tokens in (64, 4096):
            _Case(spec, "after", tokens).run(session, np.float32)
            launches.append(session.device_stats().last_call_launches)
        print(f"launches per call at T=64, 4096: {launches}")
        assert launches[0] == launches[1] > 0
    finally:
        session.close()


def test_the_check_can_fail(hope_models, hope_compile, runtime, tmp_path):
    """The reference of another chunk size must not pass."""
    library = _compile(hope_models, hope_compile, tmp_path, CONFIGS["linear-momentum"], "after",
                       "f64", "other")
    session = Session(runtime, library, device=DEVICE_CUDA)
    try:
        other = ref.MemorySpec(ref.LinearModel(), ref.L2(), ref.MomentumGD(order=1), chunk=2)
        case = _Case(other, "after", 10)
        assert _error(case.run(session, np.float64), case.reference()) > 1e-3
    finally:
        session.close()


def _run_model(runtime, library, name, data, weights, numpy_type):
    """Entry point `name` of an emulated artifact on one data input, every weight bound by its
    manifest name from `weights` (torch tensors)."""
    session = Session(runtime, library, device=DEVICE_CUDA)
    try:
        entry = session.entry(name)
        for spec in entry["inputs"]:
            if spec["role"] == "weight":
                session.set_weight(spec["name"], weights[spec["name"]].numpy().astype(numpy_type))
        (data_name,) = [spec["name"] for spec in entry["inputs"] if spec["role"] != "weight"]
        outputs = session.invoke_map(name, {data_name: data.astype(numpy_type)})
        return [outputs[spec["name"]] for spec in entry["outputs"]]
    finally:
        session.close()


def _compile_model(hope_models, hope_compile, tmp_path, name, model_args):
    """-O0: LLVM's optimisation of the ~80 emulated kernels of a HOPE block takes half a minute;
    unoptimised they still run the tiny sizes in a second."""
    source, library = tmp_path / f"{name}.mlir", tmp_path / f"{name}.so"
    for command in ([hope_models, *model_args, "-o", source],
                    [hope_compile, source, "--target=cuda-emulated", "-O0", "-o", library]):
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-4000:]
    return library


@pytest.mark.parametrize("element,tolerance", [("f64", 1e-9), ("f32", 1e-5)])
def test_hope_block(hope_models, hope_compile, runtime, tmp_path, element, tolerance):
    """The HOPE block (self-modifying Titans: five memories in one chunk loop, then the CMS
    chain), as test_hope_block_parity.py checks it on the CPU: batch 3, 11 tokens (chunks 2 and
    4: neither divides it)."""
    from reference import hope_block as HB
    from reference import weights as W
    dim, heads, cms_hidden, eta_scale, tokens = 16, 2, 64, 0.3, 11
    library = _compile_model(hope_models, hope_compile, tmp_path, "hope_block", [
        "hope-block", "--config=tiny", f"--width={dim}", f"--heads={heads}",
        f"--hidden={dim // heads}", "--chunk=2", "--chunk-memory=4", f"--eta-scale={eta_scale}",
        f"--dtype={element}"])
    weights = W.generate(W.hope_block_shapes(dim=dim, heads=heads, cms_hidden=(cms_hidden,) * 3),
                         seed=3, dtype=torch.float64)
    x = torch.randn(B, tokens, dim, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    options = HB.HopeOptions(HB.SelfModOptions(heads=heads, chunk_other=2, chunk_mem=4,
                                               eta_scale=eta_scale))
    reference = HB.hope_block(x, weights, options)
    numpy_type = np.float64 if element == "f64" else np.float32
    (y,) = _run_model(runtime, library, "hope_block", x.numpy(), weights, numpy_type)
    error = _error([y], [reference])
    print(f"hope block {element} error {error:.1e}")
    assert error < tolerance


def test_titans_memory(hope_compile, runtime, tmp_path):
    """models/titans_memory.mlir as shipped (width 384, 4 heads, chunk 64), as
    test_titans_memory_parity.py checks it on the CPU, at batch 3 and T = 150."""
    from pathlib import Path
    from reference import titans_memory as TM
    from reference import weights as W
    model = Path(__file__).resolve().parents[2] / "models" / "titans_memory.mlir"
    library = tmp_path / "titans.so"
    result = subprocess.run([str(hope_compile), str(model), "--target=cuda-emulated", "-O0",
                             "-o", str(library)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    weights = W.generate(W.titans_memory_shapes(), seed=5, dtype=torch.float64)
    x = torch.randn(B, 150, 384, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    reference = TM.titans_memory(x, weights)
    (y,) = _run_model(runtime, library, "titans_memory", x.numpy(), weights, np.float32)
    error = _error([y], [reference])
    print(f"titans memory float32 error {error:.1e}")
    assert error < 1e-5


@pytest.mark.parametrize("variant", ["attention", "nested-cms"])
def test_hope_block_variants(hope_models, hope_compile, runtime, tmp_path, variant):
    """HOPE-Attention (`--mixer=attention`) and the nested CMS (`--cms=nested`), seeded by
    hope-models, as test_hope_block_parity.py checks them on the CPU: batch 3, 13 tokens,
    float32 against float64."""
    from safetensors.torch import load_file
    from reference import hope_block as HB
    weights_file = tmp_path / "weights.safetensors"
    option = "--mixer=attention" if variant == "attention" else "--cms=nested"
    library = _compile_model(hope_models, hope_compile, tmp_path, "hope_variant", [
        "hope-block", "--config=tiny", option, "--eta-scale=0.3", "--seed=11",
        f"--weights-out={weights_file}"])
    weights = {key: value.double() for key, value in load_file(str(weights_file)).items()}
    x = torch.randn(B, 13, 32, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    selfmod = HB.SelfModOptions(heads=2, chunk_other=2, chunk_mem=4, eta_scale=0.3)
    options = (HB.HopeOptions(HB.SelfModOptions(heads=2), mixer="attention")
               if variant == "attention" else HB.HopeOptions(selfmod, cms_variant="nested"))
    reference = HB.hope_block(x, weights, options)
    (y,) = _run_model(runtime, library, "hope_block", x.numpy(), weights, np.float32)
    error = _error([y], [reference])
    print(f"hope block {variant} float32 error {error:.1e}")
    assert error < 1e-5
