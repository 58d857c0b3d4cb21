"""The PyTorch columns of bench/gpu-check: bench/torch_models.py's chunk-parallel HOPE block and
Titans memory, eager and under torch.compile, on the GPU (or the CPU in the dry run).

Cases (CASES; DRY_CASES are the same models at tiny sizes): the HOPE block of hope-bench
(width 512, 8 heads of 64, C_other 8, C_mem 64, CMS of hidden 2048) at batch 1 and 8, T = 4096;
the Titans memory at titans-pytorch's README scale (NeuralMemory(dim=384, chunk_size=64): one
head of 384, MLP hidden 1536, linearised over the whole sequence), batch 2, T = 1024, and at
batch 8, T = 8192. Weights: test/reference/weights.py's seeded generator (numpy, so the same
numbers on every machine; nothing is carried); the Titans weights in titans-pytorch's form
(biases, mem_norm_gamma), the names `hope-models titans-memory --config=titans-pytorch` takes.

Every float32 run has TF32 off (matmuls and cuDNN); the same function in float64 on the same
device is the reference (metric max|a - b| / max|ref|, tolerance of the semantics doc §8:
1e-5 for T <= 256, 1e-4 above). Times: CUDA events around each call (wall clock on the CPU),
the median of `repeat` calls after the warm-up (two calls under torch.compile, the first of
which compiles; compile seconds = first call - median).

A worker runs in its own process (`main.py --worker eager|compile`) and prints one JSON line
per result, so that a compile over its cap or a run past the time budget is killed without
losing the results before it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for sub in ("bench", "test"):
    if str(REPO / sub) not in sys.path:
        sys.path.insert(0, str(REPO / sub))


@dataclass(frozen=True)
class Case:
    model: str  # "hope-block" | "titans-memory"
    batch: int
    tokens: int
    dim: int
    heads: int
    chunk: int  # C_mem (HOPE) or the chunk (Titans)
    chunk_other: int = 8  # HOPE only
    hidden: int = 0  # CMS hidden (HOPE) or the memory MLP's hidden (Titans)
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.model}-B{self.batch}-T{self.tokens}"

    @property
    def tolerance(self) -> float:
        return 1e-5 if self.tokens <= 256 else 1e-4


CASES = [
    Case("hope-block", 1, 4096, 512, 8, 64, 8, 2048, "hope-bench (a)"),
    Case("hope-block", 8, 4096, 512, 8, 64, 8, 2048, "hope-bench (a) at batch 8"),
    Case("titans-memory", 2, 1024, 384, 1, 64, hidden=1536, note="titans-pytorch README scale"),
    Case("titans-memory", 8, 8192, 384, 1, 64, hidden=1536, note="README module, batch 8, T 8192"),
]
DRY_CASES = [
    # hope-models hope-block --config=tiny's sizes (C_other 2, C_mem 4; CMS hidden 64)
    Case("hope-block", 1, 40, 32, 2, 4, 2, 64, "dry run"),
    Case("hope-block", 2, 42, 32, 2, 4, 2, 64, "dry run"),
    # 256 tokens: one full step of 256 // 64 = 4 chunks (the step torch.compile compiles)
    Case("titans-memory", 1, 256, 32, 1, 64, hidden=128, note="dry run"),
    Case("titans-memory", 2, 256, 32, 1, 64, hidden=128, note="dry run"),
]


def cases_for(dry_run: bool) -> list[Case]:
    return DRY_CASES if dry_run else CASES


# ------------------------------------------------------------------------------------------
# Models, weights, inputs
# ------------------------------------------------------------------------------------------


def weights_for(case: Case):
    """float64 weights (CPU), named as the model files / hope-models name them."""
    from reference import weights as W

    if case.model == "hope-block":
        return W.generate(W.hope_block_shapes(dim=case.dim, heads=case.heads, cms_hidden=(case.hidden,) * 3),
                          seed=1)
    shapes = W.titans_memory_shapes(dim=case.dim, heads=case.heads, hidden=case.hidden)
    shapes.update({"b_lr": (case.heads,), "b_momentum": (case.heads,), "b_retention": (case.heads,)})
    w = W.generate(shapes, seed=1)
    w["mem_norm_gamma"] = w.pop("mem_norm") - 1.0  # titans-pytorch's gamma (scale = gamma + 1)
    return w


def options_for(case: Case):
    import torch

    import torch_models as TM
    from reference.hope_block import SelfModOptions

    if case.model == "hope-block":
        return TM.HopeOptions(SelfModOptions(heads=case.heads, chunk_other=case.chunk_other, chunk_mem=case.chunk))
    # float32's epsilon in the RMSNorms for both precisions: the same function, rounded twice.
    return TM.TitansOptions.titans_pytorch(heads=case.heads, chunk=case.chunk, batch_size=None,
                                           dtype=torch.float32, max_lr=1.0)


def model_for(case: Case, compiled: bool, backend: str = "inductor"):
    import torch_models as TM

    if case.model == "hope-block":
        return TM.make_hope_block(compile=compiled, backend=backend)
    return TM.make_titans_memory(compile=compiled, backend=backend)


def input_for(case: Case):
    import torch

    return torch.randn(case.batch, case.tokens, case.dim, generator=torch.Generator().manual_seed(2),
                       dtype=torch.float64)


def flops_for(case: Case) -> int:
    import torch_models as TM

    if case.model == "hope-block":
        return TM.flops_hope_block(case.batch, case.tokens, {
            "dim": case.dim, "heads": case.heads, "chunk_other": case.chunk_other, "chunk_mem": case.chunk,
            "cms_hidden": (case.hidden,) * 3})
    return TM.flops_titans_memory(case.batch, case.tokens, {
        "dim": case.dim, "heads": case.heads, "dim_head": case.dim // case.heads, "hidden": case.hidden,
        "chunk": case.chunk, "gate": False})


# ------------------------------------------------------------------------------------------
# Precision and timing
# ------------------------------------------------------------------------------------------


def tf32_off() -> dict:
    """Float32 matmuls and convolutions in IEEE float32 (no TF32); returns the flags as read back.
    The legacy flags, not torch >= 2.9's fp32_precision: setting only some of the new ones makes
    the legacy getters, which torch's own code still reads, raise ("a mix of the legacy and new
    APIs"); the legacy setters keep both views consistent."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # their deprecation notice
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
        return {"cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                "float32_matmul_precision": torch.get_float32_matmul_precision()}


class Timer:
    """Seconds of one call: CUDA events on the current stream (GPU), perf_counter (CPU)."""

    def __init__(self, device):
        import torch

        self.cuda = device.type == "cuda"
        self.torch = torch

    def __call__(self, call):
        if self.cuda:
            start = self.torch.cuda.Event(enable_timing=True)
            end = self.torch.cuda.Event(enable_timing=True)
            start.record()
            out = call()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3, out
        t0 = time.perf_counter()
        out = call()
        return time.perf_counter() - t0, out


def rel_err(a, ref) -> float:
    import torch

    a, ref = a.double(), ref.double()
    return float((a - ref).abs().max() / ref.abs().max().clamp(min=torch.finfo(torch.float64).tiny))


def emit(record: dict):
    print("RESULT " + json.dumps(record), flush=True)


def _row(case: Case, column: str, **kw) -> dict:
    return {"case": case.key, "model": case.model, "batch": case.batch, "tokens": case.tokens,
            "column": column, **kw}


def _timed(case: Case, column: str, call, timer, warmup: int, repeat: int, ref, device, extra=None) -> dict:
    import torch

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    first, y = timer(call)
    for _ in range(warmup - 1):
        _, y = timer(call)
    seconds = []
    for _ in range(repeat):
        s, y = timer(call)
        seconds.append(s)
    median = statistics.median(seconds)
    err = rel_err(y, ref)
    row = _row(case, column, status="ok", seconds=seconds, median_ms=median * 1e3,
               first_call_ms=first * 1e3, tokens_per_s=case.batch * case.tokens / median,
               tflops=flops_for(case) / median / 1e12, f32_vs_f64=err, tolerance=case.tolerance,
               within_tolerance=bool(err <= case.tolerance))
    if device.type == "cuda":
        row["peak_memory_mib"] = torch.cuda.max_memory_allocated() / 2**20
    row.update(extra or {})
    return row


# ------------------------------------------------------------------------------------------
# Workers (each in its own process)
# ------------------------------------------------------------------------------------------


def _setup(device_name: str):
    import torch

    flags = tf32_off()
    device = torch.device(device_name)
    if device.type == "cpu":
        torch.set_num_threads(1)
    return device, flags


def eager_worker(cases: list[Case], work: Path, device_name: str, repeat: int):
    """Per case: the float64 reference (saved for the other columns), then eager float32."""
    import numpy as np
    import torch

    device, flags = _setup(device_name)
    emit({"event": "flags", "tf32": flags, "torch": torch.__version__, "device": str(device),
          "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"})
    for case in cases:
        try:
            w64 = {k: v.to(device) for k, v in weights_for(case).items()}
            x64 = input_for(case).to(device)
            opts = options_for(case)
            with torch.inference_mode():
                t0 = time.perf_counter()
                y64 = model_for(case, False)(x64, w64, opts)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                ref_s = time.perf_counter() - t0
                np.save(work / f"y64-{case.key}.npy", y64.cpu().numpy())
                w32 = {k: v.float() for k, v in w64.items()}
                x32 = x64.float()
                model = model_for(case, False)
                row = _timed(case, "eager", lambda: model(x32, w32, opts), Timer(device), 1, repeat, y64, device,
                             {"float64_reference_s": ref_s})
            emit(row)
        except Exception as e:  # reported in the row; the other cases still run
            emit(_row(case, "eager", status="failed", reason=f"{type(e).__name__}: {e}"[:2000]))
        finally:
            if device.type == "cuda":
                torch.cuda.empty_cache()


def compile_worker(case: Case, work: Path, device_name: str, repeat: int, backend: str = "inductor"):
    """torch.compile'd per-chunk step; prints READY before its first (compiling) call and
    COMPILED after it, for the parent's compile-time cap. backend "eager" (the dry run's test):
    dynamo's graph capture without code generation."""
    import numpy as np
    import torch

    device, _ = _setup(device_name)
    w32 = {k: v.to(device).float() for k, v in weights_for(case).items()}
    x32 = input_for(case).to(device).float()
    ref = torch.from_numpy(np.load(work / f"y64-{case.key}.npy")).to(device)
    opts = options_for(case)
    model = model_for(case, True, backend)
    timer = Timer(device)
    with torch.inference_mode():
        print("READY", flush=True)
        first, _ = timer(lambda: model(x32, w32, opts))
        print(f"COMPILED {first:.3f}", flush=True)
        if not model._steps:
            raise RuntimeError("no compiled step was used")
        row = _timed(case, "torch.compile", lambda: model(x32, w32, opts), timer, 1, repeat, ref, device)
    row["first_call_ms"] = first * 1e3
    row["compile_s"] = max(first - row["median_ms"] / 1e3, 0.0)
    row["backend"] = backend
    emit(row)


def case_json(case: Case) -> str:
    return json.dumps(asdict(case))


def case_from_json(text: str) -> Case:
    return Case(**json.loads(text))
