"""hope-bench's training rows (--parts train): whole `train_step` calls of the HOPE block.

ours           the artifact of `hope-compile --train` (AdamW, its defaults: betas 0.9/0.999, eps
               1e-8, weight decay 0.01, clipping to global norm 1.0), called through the
               runtime's C API (test/parity/runtime_api.py) with every parameter and optimizer
               state bound as a mutable weight: forward, backward and optimizer, in place;
eager          bench/torch_models.py's chunk-parallel block, loss.backward() (PyTorch autograd
               through the chunked inner updates), clip_grad_norm_ and torch.optim.AdamW with
               the same options;
torch.compile  the same with the per-chunk step compiled (AOTAutograd compiles its backward).
The loss is the artifact's (codegen/lib/Train/TrainLoss.cpp): the mean squared error against
targets shaped like the output. Every column runs in its own process; the first call (step 1,
untimed) also writes the loss, the gradient norm and the gradients (ours: from AdamW's first
moment, m = (1 - beta1) c g with c the clipping factor) and w_o after the step, which the driver
compares across columns."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np

LR = 1e-3
BETA1, CLIP = 0.9, 1.0  # hope-compile --train's defaults (docs/artifact-abi.md)
CHECKED_PARAMETER = "w_o"


def _clipping(norm: float) -> float:
    """clip_grad_norm_'s factor (and the artifact's)."""
    return min(1.0, CLIP / (norm + 1e-6))


def _timed_steps(step, repeat: int) -> tuple[float, list[float]]:
    """Calls step(1) (the warm-up, untimed), then step(2..repeat+1), timed."""
    t0 = time.perf_counter()
    step(1)
    first = time.perf_counter() - t0
    times = []
    for number in range(2, repeat + 2):
        t0 = time.perf_counter()
        step(number)
        times.append(time.perf_counter() - t0)
    return first, times


def _ours(args, x, targets) -> tuple[float, list[float]]:
    """The artifact's train_step through the runtime's C API."""
    from safetensors.numpy import load_file

    from parity.runtime_api import Runtime, Session

    session = Session(Runtime(Path(args.build_dir)), Path(args.module), threads=args.threads)
    entry = session.entry("train_step")
    weights = load_file(args.weights)
    updated = {}
    for spec in entry["inputs"]:
        if spec.get("updated"):
            value = weights.get(spec["name"])
            updated[spec["name"]] = (np.zeros(spec["shape"], np.float32) if value is None
                                     else np.ascontiguousarray(value, np.float32))
            session.set_weight(spec["name"], updated[spec["name"]])
    data = [s["name"] for s in entry["inputs"] if s["role"] == "input"]
    assert data[1:] == ["targets", "learning_rate", "step"], data

    def step(number: int):
        outputs = session.invoke_map("train_step", {
            data[0]: x, "targets": targets, "learning_rate": np.array(LR, np.float32),
            "step": np.array(number, np.int64)})
        if number == 1:
            loss, norm = float(outputs["loss"]), float(outputs["grad_norm"])
            scale = (1 - BETA1) * _clipping(norm)
            grads = {n: updated[f"{n}.adamw_m"] / scale for n in weights}
            _save_check(args.check, loss, norm, grads, updated[CHECKED_PARAMETER])

    return _timed_steps(step, args.repeat)


def _torch(args, x, targets) -> tuple[float, list[float]]:
    """Autograd through bench/torch_models.py's block, clip_grad_norm_, torch.optim.AdamW."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import load_file

    import torch_models as TM
    from reference.hope_block import SelfModOptions

    torch.set_num_threads(args.threads)
    params = {k: v.float().requires_grad_() for k, v in load_file(args.weights).items()}
    x, targets = torch.from_numpy(x), torch.from_numpy(targets)
    opts = TM.HopeOptions(SelfModOptions(heads=8, chunk_other=8, chunk_mem=args.chunk))
    model = TM.make_hope_block(compile=args.column == "torch.compile")
    optimizer = torch.optim.AdamW(params.values(), lr=LR, betas=(BETA1, 0.999), eps=1e-8,
                                  weight_decay=0.01)

    def step(number: int):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x, params, opts), targets)
        loss.backward()
        for p in params.values():  # weights behind a stop-gradient only: zero, as ours
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = {n: p.grad.numpy().copy() for n, p in params.items()} if number == 1 else None
        norm = float(torch.nn.utils.clip_grad_norm_(list(params.values()), CLIP))
        optimizer.step()
        if number == 1:
            _save_check(args.check, float(loss.detach()), norm, grads,
                        params[CHECKED_PARAMETER].detach().numpy())

    return _timed_steps(step, args.repeat)


def _save_check(path: str, loss: float, norm: float, grads: dict, parameter: np.ndarray):
    np.savez(path, loss=loss, grad_norm=norm, parameter=parameter,
             **{f"grad/{n}": g for n, g in grads.items()})


def worker(args) -> int:
    """Runs one column of one training case; prints its JSON result on stdout."""
    from hope_bench import peak_rss_bytes

    x, targets = np.load(args.x), np.load(args.targets)
    first, times = (_ours if args.column == "ours" else _torch)(args, x, targets)
    median = statistics.median(times)
    print(json.dumps({"seconds": times, "median_seconds": median, "peak_rss_bytes": peak_rss_bytes(),
                      "first_call_seconds": first,
                      "compile_seconds": max(first - median, 0.0) if args.column == "torch.compile" else None}))
    return 0


def agreement(check: str, ours: str) -> dict:
    """A column's step 1 against ours: relative errors of the loss, the gradient norm, every
    gradient (max |g - g_ours| over all parameters / max |g_ours|) and w_o after the step."""
    a, b = np.load(check), np.load(ours)
    names = [n for n in b.files if n.startswith("grad/")]
    largest = max(np.abs(b[n]).max() for n in names)
    return {"loss_error": float(abs(a["loss"] - b["loss"]) / abs(b["loss"])),
            "grad_norm_error": float(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"]),
            "grad_error": float(max(np.abs(a[n] - b[n]).max() for n in names) / largest),
            "parameter_error": float(np.abs(a["parameter"] - b["parameter"]).max()
                                     / np.abs(b["parameter"]).max())}


def table(rows: list[dict]) -> str:
    """The training section of docs/benchmarks.md: every row, its ratios against ours, and the
    slope of peak memory against T per column and thread count."""
    chosen = [r for r in rows if r.get("part") == "train" and "error" not in r]
    if not chosen:
        return ""
    lines = ["", "### HOPE block train_step (AdamW), batch 1, C_mem 64", "",
             "| T | threads | column | ms / step | tokens/s | peak MiB | vs ours | loss, grad norm, grads, w_o agree | compile s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in chosen:
        ours = next((o for o in chosen if o["column"] == "ours" and o["tokens"] == r["tokens"]
                     and o["threads"] == r["threads"]), None)
        speed = ""
        if ours and r is not ours:
            ratio = r["median_seconds"] / ours["median_seconds"]
            speed = f"ours {ratio:.2f}x faster" if ratio >= 1 else f"ours {1 / ratio:.2f}x slower"
        agrees = ""
        if "grad_error" in r:
            agrees = ", ".join(f"{r[k]:.0e}" for k in ("loss_error", "grad_norm_error", "grad_error",
                                                        "parameter_error"))
        compile_s = f"{r['compile_seconds']:.1f}" if r.get("compile_seconds") else ""
        lines.append(f"| {r['tokens']} | {r['threads']} | {r['column']} | {r['median_seconds'] * 1e3:.0f} | "
                     f"{r['tokens_per_second']:.0f} | {r['peak_rss_mib']:.0f} | {speed} | {agrees} | {compile_s} |")
    lines += ["", "| threads | column | peak memory slope, MiB per 1K tokens (least squares over T) |",
              "| --- | --- | --- |"]
    for threads in sorted({r["threads"] for r in chosen}):
        for column in dict.fromkeys(r["column"] for r in chosen):
            points = [(r["tokens"], r["peak_rss_mib"]) for r in chosen
                      if r["threads"] == threads and r["column"] == column]
            if len(points) >= 2:
                t, m = np.array(points, dtype=np.float64).T
                slope = np.polyfit(t / 1024, m, 1)[0]
                lines.append(f"| {threads} | {column} | {slope:.1f} |")
    return "\n".join(lines)
