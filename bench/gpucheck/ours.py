"""The column "ours" of bench/gpu-check: our compiled artifacts, run by the carried hope-run.

OURS_MODELS names, per model of the cases (baselines.Case.model), the hope-models arguments of
its artifact. `bench/gpu-check --prepare DIR` compiles each listed model with hope-compile and
TARGET_FLAGS, checks that the weights the GPU side generates (baselines.weights_for) have the
names and shapes of the IR's arguments, and carries the artifact with hope-run, the runtime
library and the OpenMP runtime (DIR/ours/). On the GPU, each case of a listed model runs with
`hope-run RUN_FLAGS --repeat=1+repeat --timings-json` (host wall clock per call, copies
included) on the same weights and input as the PyTorch columns; its output is checked against
the float64 PyTorch reference, and a one-call run's output against the timed run's last call,
bitwise. A model without a carried artifact is reported "not available (no CUDA artifact
carried)".

Until the CUDA target exists the table is empty. Adding a model is one line (the arguments
giving the cases' sizes, baselines.CASES):
    "hope-block": ("hope-block", "--chunk-memory=64"),
    "titans-memory": ("titans-memory", "--config=titans-pytorch", "--width=384", "--heads=1",
                      "--chunk=64", "--linearize=sequence"),
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from pathlib import Path

from .baselines import Case, emit, flops_for, input_for, rel_err, weights_for

TARGET_FLAGS = ["--target=cuda", "--gpu=sm_80,sm_90"]
RUN_FLAGS = ["--device=cuda"]
OURS_MODELS: dict[str, tuple[str, ...]] = {
    # model -> hope-models arguments, e.g. "hope-block": ("hope-block", "--chunk-memory=64"),
}
NOT_CARRIED = "not available (no CUDA artifact carried)"


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {result.returncode}): {' '.join(cmd)}\n{result.stderr[-3000:]}")
    return result


def _shared_libraries(binary: Path) -> dict[str, Path]:
    """name -> path of the libraries `binary` loads that travel with it (ldd)."""
    out = _run(["ldd", str(binary)], f"ldd {binary.name}").stdout
    carried = {}
    for line in out.splitlines():
        parts = line.split("=>")
        if len(parts) == 2 and parts[1].strip().startswith("/"):
            name, path = parts[0].strip(), Path(parts[1].split()[0])
            if name.startswith(("libhope", "libomp", "libLLVM", "libMLIR")):
                carried[name] = path
    return carried


def weight_shapes(ir_text: str) -> dict[str, tuple]:
    """{name: shape} of the arguments {nl.weight = NAME} of hope-models' IR ('?' dims: None)."""
    shapes = {}
    for dims, name in re.findall(r"tensor<([^>]*)>\s*\{nl\.weight = \"(\w+)\"", ir_text):
        shapes[name] = tuple(None if p == "?" else int(p) for p in dims.split("x")[:-1])
    return shapes


def prepare_ours(dest: Path, build: Path, cases: list[Case], models: dict, target_flags: list[str]) -> dict:
    """Compiles the listed models into dest/ours; returns the manifest entry."""
    entry = {"target_flags": target_flags, "models": {}}
    wanted = {c.model: c for c in cases if c.model in models}
    if not wanted:
        return entry
    out = dest / "ours"
    (out / "lib").mkdir(parents=True, exist_ok=True)
    for model, case in wanted.items():
        ir, so = out / f"{model}.mlir", out / f"{model}.so"
        _run([str(build / "bin" / "hope-models"), *models[model], "-o", str(ir)], f"hope-models {model}")
        # the weights the GPU side generates must be exactly the IR's, name and shape
        expected = weight_shapes(ir.read_text())
        generated = {n: tuple(t.shape) for n, t in weights_for(case).items()}
        if generated != expected:
            differ = sorted(n for n in expected.keys() | generated.keys() if expected.get(n) != generated.get(n))
            raise RuntimeError(f"{model}: the generated weights do not fit the IR's arguments: "
                               + ", ".join(f"{n} {generated.get(n)} vs the IR's {expected.get(n)}" for n in differ))
        _run([str(build / "bin" / "hope-compile"), str(ir), *target_flags, "-o", str(so)], f"hope-compile {model}")
        ir.unlink()
        entry["models"][model] = {"artifact": so.name, "hope_models_args": list(models[model])}
    hope_run = out / "hope-run"
    shutil.copy2(build / "bin" / "hope-run", hope_run)
    # the runtime (hope-run's) and the OpenMP runtime (the artifacts' host code): not on the GPU machine
    for binary in [hope_run] + [out / m["artifact"] for m in entry["models"].values()]:
        for name, path in _shared_libraries(binary).items():
            shutil.copy2(path, out / "lib" / name)
    entry["libraries"] = sorted(p.name for p in (out / "lib").iterdir())
    return entry


def run_ours(case: Case, carried: Path, manifest: dict, work: Path, repeat: int, run_flags: list[str]) -> dict:
    """One row of the column "ours" (see the module docstring)."""
    import os

    import numpy as np
    import torch

    from reference import weights as W

    row = {"case": case.key, "model": case.model, "batch": case.batch, "tokens": case.tokens, "column": "ours"}
    model = manifest.get("ours", {}).get("models", {}).get(case.model)
    if model is None:
        return {**row, "status": "not available", "reason": NOT_CARRIED}
    out = carried / "ours"
    weights, x = work / f"w-{case.model}.safetensors", work / f"x-{case.key}.npy"
    W.save_safetensors({k: v.float() for k, v in weights_for(case).items()}, weights)
    np.save(x, input_for(case).float().numpy())
    ys = [work / f"y-ours-{case.key}-{i}.npy" for i in range(2)]
    timings = work / f"t-ours-{case.key}.json"
    env = {**os.environ, "LD_LIBRARY_PATH": f"{out / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}"}
    base = [str(out / "hope-run"), *run_flags, f"--module={out / model['artifact']}", f"--weights={weights}",
            f"--input=@{x}"]
    try:
        # the first process: one call (its output: the bitwise comparison); the second: timed
        for cmd in (base + [f"--output=@{ys[0]}"],
                    base + [f"--output=@{ys[1]}", f"--repeat={repeat + 1}", f"--timings-json={timings}"]):
            result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
            if result.returncode != 0:
                return {**row, "status": "failed", "reason": f"hope-run exit {result.returncode}: {result.stderr[-1500:]}"}
    except subprocess.TimeoutExpired:
        return {**row, "status": "failed", "reason": "hope-run took over 600 s"}
    measured = json.loads(timings.read_text())
    seconds = measured["seconds"][1:]
    median = statistics.median(seconds)
    y = [torch.from_numpy(np.load(p)) for p in ys]
    ref = torch.from_numpy(np.load(work / f"y64-{case.key}.npy"))
    err = rel_err(y[1], ref)
    return {**row, "status": "ok", "timing": "hope-run --timings-json (host wall clock per call)",
            "seconds": seconds, "median_ms": median * 1e3, "tokens_per_s": case.batch * case.tokens / median,
            "tflops": flops_for(case) / median / 1e12, "f32_vs_f64": err, "tolerance": case.tolerance,
            "within_tolerance": bool(err <= case.tolerance),
            "bitwise_equal_runs": bool(torch.equal(y[0], y[1]))}


def ours_worker(cases: list[Case], carried: Path, work: Path, repeat: int, run_flags: list[str]):
    manifest = json.loads((carried / "manifest.json").read_text())
    for case in cases:
        try:
            emit(run_ours(case, carried, manifest, work, repeat, run_flags))
        except Exception as e:  # reported in the row; the other cases still run
            emit({"case": case.key, "model": case.model, "batch": case.batch, "tokens": case.tokens,
                  "column": "ours", "status": "failed", "reason": f"{type(e).__name__}: {e}"[:2000]})
