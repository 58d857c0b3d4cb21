"""hope-bench: the compiled HOPE block and Titans memory against PyTorch, side by side, in one run.

    bench/hope-bench [--threads 1,2] [--repeat 3] [--parts main,tokens,chunks] [--json out.json]

Benchmarks (float32, this machine's CPU):
  (a) hope-block: `hope-models hope-block` (width 512, 8 heads of 64, C_other 8, C_mem 64, CMS
      chunk sizes 1/16/256 of hidden 2048), batch 1, T = 4096;
  (b) titans-memory: titans-pytorch's README module, NeuralMemory(dim=384, chunk_size=64) (one
      head, hidden 4 x 384, linearised over the whole sequence), batch 2, T = 1024; ours is
      `hope-models titans-memory --config=titans-pytorch` with the package module's weights.
Columns:
  ours            the artifact hope-compile makes, run by hope-run (--repeat, --num-threads);
  eager           bench/torch_models.py: chunk-parallel PyTorch, batched over heads (and
                  memories), parity-tested against the token-by-token references
                  (test/reference/test_chunk_parallel.py);
  torch.compile   the same with its per-chunk step compiled (compile time reported apart);
  titans-pytorch  (b) only: the package's NeuralMemory itself.
Every column runs in its own process (peak memory = that process's maximum resident set, weights
included), on the same inputs and weights; its output is compared with ours (column "agrees":
max |y - y_ours| / max |y_ours|). Times are medians of --repeat calls after one warm-up call.
GFLOP/s use ONE formula per model (bench/torch_models.py flops_*) for every column, next to the
machine's measured float32 matmul peak (bench/matmul_peak.py). Sweeps: tokens/s of (a) for
T = 1K, 4K, 16K, 32K and for C_mem = 16, 64, 256, and of (b) for chunk = 16, 64, 256.
Training (--parts train, not in the default --parts): whole train_step calls of (a) (AdamW,
forward + backward + optimizer) at T = --train-tokens against autograd through the eager and
compiled baselines, gradients compared (bench/train_bench.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "test"))
sys.path.insert(0, str(REPO / "tools"))


# ------------------------------------------------------------------------------------------------
# What is measured
# ------------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One model at one size: everything a column needs to run it."""

    bench: str  # "hope-block" | "titans-memory"
    batch: int
    tokens: int
    chunk: int  # C_mem (hope-block) or the chunk (titans-memory)
    columns: list[str] = field(default_factory=list)
    train: bool = False  # whole train_step calls (bench/train_bench.py) instead of the forward

    @property
    def key(self) -> str:
        return f"{self.bench}-B{self.batch}-T{self.tokens}-C{self.chunk}" + ("-train" if self.train else "")

    def model_args(self) -> list[str]:
        if self.bench == "hope-block":
            return ["hope-block", f"--chunk-memory={self.chunk}"]
        return ["titans-memory", "--config=titans-pytorch", "--width=384", "--heads=1",
                f"--chunk={self.chunk}", "--linearize=sequence"]

    def flops(self) -> int:
        import torch_models as TM

        if self.bench == "hope-block":
            return TM.flops_hope_block(self.batch, self.tokens, {"chunk_mem": self.chunk})
        return TM.flops_titans_memory(self.batch, self.tokens, {
            "dim": 384, "heads": 1, "dim_head": 384, "chunk": self.chunk, "gate": False})


def _titans_module(chunk: int):
    """titans-pytorch's README memory, NeuralMemory(dim=384, chunk_size=chunk), float32, with
    every parameter random (test/reference/test_titans_pytorch.py make_memory)."""
    from reference.test_titans_pytorch import make_memory

    return make_memory(seed=0, dim=384, heads=1, chunk=chunk, batch_size=None, max_lr=1.0).float()


# ------------------------------------------------------------------------------------------------
# Workers: one process per column and case
# ------------------------------------------------------------------------------------------------


def _timed_calls(call, repeat: int) -> tuple[float, list[float], object]:
    """(first call's seconds, the next `repeat` calls' seconds, the last output)."""
    t0 = time.perf_counter()
    out = call()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - t0)
    return first, times, out


def worker(args) -> int:
    """Runs one torch column of one case and prints its JSON result on stdout."""
    import numpy as np
    import torch
    from safetensors.torch import load_file

    import torch_models as TM
    from reference.hope_block import SelfModOptions

    torch.set_num_threads(args.threads)
    case = Case(args.bench, args.batch, args.tokens, args.chunk)
    x = torch.from_numpy(np.load(args.x))
    with torch.inference_mode():
        if args.column == "titans-pytorch":
            mem = _titans_module(case.chunk)
            call = lambda: mem(x)[0]  # noqa: E731
        else:
            weights = {k: v.float() for k, v in load_file(args.weights).items()}
            compiled = args.column == "torch.compile"
            if case.bench == "hope-block":
                opts = TM.HopeOptions(SelfModOptions(heads=8, chunk_other=8, chunk_mem=case.chunk))
                model = TM.make_hope_block(compile=compiled)
            else:
                opts = TM.TitansOptions.titans_pytorch(heads=1, chunk=case.chunk, batch_size=None,
                                                       dtype=torch.float32, max_lr=1.0)
                model = TM.make_titans_memory(compile=compiled)
            call = lambda: model(x, weights, opts)  # noqa: E731
        first, times, y = _timed_calls(call, args.repeat)
    np.save(args.y, y.numpy())
    median = statistics.median(times)
    print(json.dumps({"seconds": times, "median_seconds": median, "peak_rss_bytes": peak_rss_bytes(),
                      "first_call_seconds": first,
                      "compile_seconds": max(first - median, 0.0) if args.column == "torch.compile" else None}))
    return 0


# ------------------------------------------------------------------------------------------------
# The driver
# ------------------------------------------------------------------------------------------------


def peak_rss_bytes() -> int:
    """This process's peak resident memory (VmHWM: reset by exec, whereas getrusage's maximum of
    a child also counts the parent image it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_measured(command: list[str], log: Path) -> tuple[int, str]:
    """Runs `command` in its own process; (exit code, stdout), stderr to `log`."""
    with open(log, "w") as err:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=err, text=True)
    return result.returncode, result.stdout


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = Path(args.build_dir).resolve()
        self.work = Path(args.work_dir).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict] = []
        self.artifacts: dict[str, dict] = {}

    def tool(self, name: str) -> str:
        return str(self.build / "bin" / name)

    def prepare(self, case: Case) -> dict:
        """IR, weights, artifact (compiled once per model and chunk) and the input x."""
        import numpy as np
        import torch

        model_key = f"{case.bench}-C{case.chunk}" + ("-train" if case.train else "")
        if model_key not in self.artifacts:
            stem = self.work / model_key
            weights = stem.with_suffix(".safetensors")
            if case.bench == "hope-block":
                extra = [f"--weights-out={weights}", "--seed=1"]
            else:
                import export_weights as EW
                from reference import weights as W

                sd = _titans_module(case.chunk).state_dict()
                W.save_safetensors({k: v.float().contiguous() for k, v in
                                    EW.titans_pytorch_to_project(sd, norm_gamma=True).items()}, weights)
                extra = []
            subprocess.run([self.tool("hope-models"), *case.model_args(), "-o", f"{stem}.mlir", *extra],
                           check=True, capture_output=True)
            t0 = time.perf_counter()
            subprocess.run([self.tool("hope-compile"), f"{stem}.mlir", "-o", f"{stem}.so"]
                           + (["--train"] if case.train else []), check=True, capture_output=True)
            compile_seconds = time.perf_counter() - t0
            print(f"  compiled {model_key} in {compile_seconds:.1f} s", flush=True)
            self.artifacts[model_key] = {"so": f"{stem}.so", "weights": str(weights),
                                         "compile_seconds": compile_seconds}
        x_path = self.work / f"x-{case.key}.npy"
        if not x_path.exists():
            x = torch.randn(case.batch, case.tokens, 512 if case.bench == "hope-block" else 384,
                            generator=torch.Generator().manual_seed(2))
            np.save(x_path, x.numpy())
        files = {**self.artifacts[model_key], "x": str(x_path)}
        if case.train:  # the squared error's targets, shaped like the output
            files["targets"] = str(self.work / f"targets-{case.key}.npy")
            np.save(files["targets"], torch.randn(case.batch, case.tokens, 512,
                                                  generator=torch.Generator().manual_seed(3)).numpy())
        return files

    def measure(self, case: Case, column: str, threads: int, files: dict) -> dict:
        import numpy as np

        y_path = self.work / f"y-{case.key}-{column}-{threads}.npy"
        log = self.work / f"log-{case.key}-{column}-{threads}.txt"
        if case.train:
            return self.measure_train(case, column, threads, files, log)
        if column == "ours":
            timings = self.work / f"t-{case.key}-{threads}.json"
            code, _ = run_measured([
                self.tool("hope-run"), f"--module={files['so']}", f"--weights={files['weights']}",
                f"--input=@{files['x']}", f"--output=@{y_path}", f"--num-threads={threads}",
                f"--repeat={self.args.repeat + 1}", f"--timings-json={timings}"], log)
            result = {}
            if code == 0:
                measured = json.loads(timings.read_text())
                seconds = measured["seconds"][1:]  # the first is the warm-up
                result = {"seconds": seconds, "median_seconds": statistics.median(seconds),
                          "peak_rss_bytes": measured["peak_rss_bytes"],
                          "compile_seconds": files["compile_seconds"]}
        else:
            code, out = run_measured([
                sys.executable, __file__, "--worker", column, "--bench", case.bench,
                f"--batch={case.batch}", f"--tokens={case.tokens}", f"--chunk={case.chunk}",
                f"--threads={threads}", f"--repeat={self.args.repeat}", f"--x={files['x']}",
                f"--weights={files['weights']}", f"--y={y_path}"], log)
            result = json.loads(out.strip().splitlines()[-1]) if code == 0 else {}
        row = {"bench": case.bench, "batch": case.batch, "tokens": case.tokens, "chunk": case.chunk,
               "column": column, "threads": threads, **result}
        if code != 0:
            row["error"] = log.read_text()[-2000:]
            print(f"  {column} failed (log {log})", flush=True)
            return row
        median = row["median_seconds"]
        row["peak_rss_mib"] = round(row.pop("peak_rss_bytes") / 2**20, 1)
        row["tokens_per_second"] = case.batch * case.tokens / median
        row["gflops"] = case.flops() / median / 1e9
        ours = self.work / f"y-{case.key}-ours-{threads}.npy"
        if ours.exists():
            a, b = np.load(y_path).astype(np.float64), np.load(ours).astype(np.float64)
            row["agrees"] = float(np.abs(a - b).max() / np.abs(b).max())
        return row

    def measure_train(self, case: Case, column: str, threads: int, files: dict, log: Path) -> dict:
        """One column of a training case: whole train_step calls in a worker process."""
        import train_bench

        check = self.work / f"check-{case.key}-{column}-{threads}.npz"
        code, out = run_measured([
            sys.executable, __file__, "--worker", column, "--train-worker", "--chunk", str(case.chunk),
            f"--tokens={case.tokens}", f"--threads={threads}", f"--repeat={self.args.repeat}",
            f"--x={files['x']}", f"--targets={files['targets']}", f"--weights={files['weights']}",
            f"--module={files['so']}", f"--check={check}", f"--build-dir={self.build}"], log)
        row = {"bench": case.bench, "batch": case.batch, "tokens": case.tokens, "chunk": case.chunk,
               "column": column, "threads": threads, "train": True}
        if code != 0:
            row["error"] = log.read_text()[-2000:]
            print(f"  {column} failed (log {log})", flush=True)
            return row
        row.update(json.loads(out.strip().splitlines()[-1]))
        if column == "ours" and files.get("compile_seconds"):
            row["compile_seconds"] = files["compile_seconds"]
        row["peak_rss_mib"] = round(row.pop("peak_rss_bytes") / 2**20, 1)
        row["tokens_per_second"] = case.batch * case.tokens / row["median_seconds"]
        ours = self.work / f"check-{case.key}-ours-{threads}.npz"
        if column != "ours" and ours.exists():
            row.update(train_bench.agreement(str(check), str(ours)))
        return row

    def run_case(self, case: Case, threads_list: list[int]):
        files = self.prepare(case)
        for threads in threads_list:
            for column in ["ours"] + case.columns:
                row = self.measure(case, column, threads, files)
                self.rows.append(row)
                self.print_row(row)

    @staticmethod
    def print_row(row: dict):
        if "error" in row:
            return
        compile_s = row.get("compile_seconds")
        print(f"  {row['bench']:<13} T={row['tokens']:<6} C={row['chunk']:<4} {row['column']:<15} "
              f"threads={row['threads']}  {row['median_seconds'] * 1e3:9.1f} ms  "
              f"{row['tokens_per_second']:9.0f} tok/s  "
              + (f"{row['gflops']:6.1f} GFLOP/s  " if "gflops" in row else "train_step  ")
              + f"peak {row['peak_rss_mib']:7.0f} MiB"
              + (f"  agrees {row['agrees']:.1e}" if "agrees" in row and row["column"] != "ours" else "")
              + (f"  loss/norm/grads/w_o agree {row['loss_error']:.0e}/{row['grad_norm_error']:.0e}/"
                 f"{row['grad_error']:.0e}/{row['parameter_error']:.0e}" if "grad_error" in row else "")
              + (f"  compile {compile_s:.1f} s" if compile_s else ""), flush=True)


def table(rows: list[dict], peaks: dict[int, float]) -> str:
    """The markdown tables of docs/benchmarks.md."""
    lines = []

    def section(title, select, ratio_to=("eager", "torch.compile")):
        chosen = [r for r in rows if select(r) and "error" not in r]
        if not chosen:
            return
        lines.extend(["", f"### {title}", "",
                      "| T | C | threads | column | ms | tokens/s | GFLOP/s (% of sgemm peak) | peak MiB | vs ours | agrees | compile s |",
                      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"])
        for r in chosen:
            ours = next((o for o in chosen if o["column"] == "ours" and o["tokens"] == r["tokens"]
                         and o["chunk"] == r["chunk"] and o["threads"] == r["threads"]), None)
            speed = f"{r['median_seconds'] / ours['median_seconds']:.2f}x slower than ours" if ours and r is not ours else ""
            if ours and r is not ours and r["median_seconds"] < ours["median_seconds"]:
                speed = f"{ours['median_seconds'] / r['median_seconds']:.2f}x faster than ours"
            agrees = f"{r['agrees']:.1e}" if "agrees" in r and r["column"] != "ours" else ""
            compile_s = f"{r['compile_seconds']:.1f}" if r.get("compile_seconds") else ""
            lines.append(
                f"| {r['tokens']} | {r['chunk']} | {r['threads']} | {r['column']} | "
                f"{r['median_seconds'] * 1e3:.1f} | {r['tokens_per_second']:.0f} | "
                f"{r['gflops']:.1f} ({100 * r['gflops'] / peaks[r['threads']]:.0f}%) | "
                f"{r['peak_rss_mib']:.0f} | {speed} | {agrees} | {compile_s} |")

    section("(a) HOPE block, batch 1, C_mem 64",
            lambda r: r["bench"] == "hope-block" and r.get("part") == "main")
    section("(b) Titans memory (titans-pytorch README scale), batch 2, chunk 64",
            lambda r: r["bench"] == "titans-memory" and r.get("part") == "main")
    section("HOPE block: tokens/s against T (C_mem 64)", lambda r: r.get("part") == "tokens")
    section("HOPE block and Titans memory: tokens/s against the chunk size",
            lambda r: r.get("part") == "chunks")
    import train_bench

    return "\n".join(lines) + train_bench.table(rows)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="hope-bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("HOPE_BUILD_DIR", str(REPO / "build")),
                    help="build directory holding bin/hope-models, hope-compile, hope-run")
    ap.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "hope-bench"),
                    help="where IR, weights, artifacts, inputs and outputs go")
    ap.add_argument("--threads", default="1,2", help="thread counts of the main comparisons")
    ap.add_argument("--sweep-threads", type=int, default=None,
                    help="thread count of the sweeps (default: the largest of --threads)")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls per measurement (after one warm-up)")
    ap.add_argument("--parts", default="main,tokens,chunks",
                    help="main: (a) and (b); tokens: (a) at T = --tokens; chunks: C = --chunks; "
                         "train (not by default): train_step of (a) at T = --train-tokens")
    ap.add_argument("--tokens", default="1024,4096,16384,32768")
    ap.add_argument("--chunks", default="16,64,256")
    ap.add_argument("--train-tokens", default="1024,4096,16384",
                    help="T of the training rows (--parts train: (a)'s train_step, AdamW)")
    ap.add_argument("--train-torch-max-tokens", type=int, default=4096,
                    help="the PyTorch training columns only up to this T: autograd keeps every "
                         "step's activations, ~0.6 GB per 1K tokens (16K: ~10 GB a process)")
    ap.add_argument("--sweep-columns", default="ours,eager,torch.compile",
                    help="columns of the sweeps")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: T = 256 everywhere, one timed call, one thread")
    ap.add_argument("--json", default=str(REPO / "bench" / "results.json"), help="where the results go")
    ap.add_argument("--markdown", default=None, help="also write the tables to this file")
    # worker mode (internal)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--bench", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--x", help=argparse.SUPPRESS)
    ap.add_argument("--y", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    ap.add_argument("--train-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--targets", help=argparse.SUPPRESS)
    ap.add_argument("--module", help=argparse.SUPPRESS)
    ap.add_argument("--check", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker and args.train_worker:
        import train_bench

        args.column, args.tokens, args.threads = args.worker, int(args.tokens), int(args.threads)
        return train_bench.worker(args)
    if args.worker:
        args.column = args.worker
        args.tokens = int(args.tokens)
        args.threads = int(args.threads)
        return worker(args)

    from matmul_peak import measured_sgemm_peak

    if args.quick:
        args.threads, args.repeat, args.tokens = "1", 1, "256"
    main_tokens = (256, 256) if args.quick else (4096, 1024)
    threads_list = [int(t) for t in args.threads.split(",")]
    sweep_threads = args.sweep_threads or max(threads_list)
    parts = set(args.parts.split(","))
    sweep_columns = [c for c in args.sweep_columns.split(",") if c != "ours"]
    bench = Bench(args)
    print(f"hope-bench: work directory {bench.work}", flush=True)
    peaks = {t: measured_sgemm_peak(t) for t in sorted(set(threads_list + [sweep_threads]))}
    for t, p in peaks.items():
        print(f"  float32 matmul peak, {t} thread(s): {p:.1f} GFLOP/s", flush=True)

    def run(case: Case, part: str, threads: list[int]):
        start = len(bench.rows)
        bench.run_case(case, threads)
        for row in bench.rows[start:]:
            row["part"] = part

    if "main" in parts:
        run(Case("hope-block", 1, main_tokens[0], 64, ["eager", "torch.compile"]), "main", threads_list)
        run(Case("titans-memory", 2, main_tokens[1], 64, ["eager", "torch.compile", "titans-pytorch"]),
            "main", threads_list)
    if "tokens" in parts:
        for tokens in (int(t) for t in args.tokens.split(",")):
            run(Case("hope-block", 1, tokens, 64, sweep_columns), "tokens", [sweep_threads])
    if "chunks" in parts:
        for chunk in (int(c) for c in args.chunks.split(",")):
            run(Case("hope-block", 1, main_tokens[0], chunk, sweep_columns), "chunks", [sweep_threads])
            run(Case("titans-memory", 2, main_tokens[1], chunk, sweep_columns), "chunks", [sweep_threads])
    if "train" in parts:
        for tokens in (int(t) for t in (("256",) if args.quick else args.train_tokens.split(","))):
            columns = ["eager", "torch.compile"] if tokens <= args.train_torch_max_tokens else []
            run(Case("hope-block", 1, tokens, 64, columns, train=True), "train", threads_list)

    report = {"machine": machine(), "sgemm_peak_gflops": peaks, "rows": bench.rows}
    Path(args.json).write_text(json.dumps(report, indent=1))
    text = table(bench.rows, peaks)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    print(f"hope-bench: results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
