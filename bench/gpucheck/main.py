"""bench/gpu-check: one prepared command for a lent GPU machine (docs/gpu-results.md says how a
run is made and added).

  bench/gpu-check --prepare DIR        here: build what travels into DIR (cubins and PTX of our
                                       MLIR pipeline, the loader, our artifacts, manifest.json)
  bench/gpu-check --carried DIR --out OUT
                                       there: the checks and timings; OUT/gpu-check.{json,md,log}
  bench/gpu-check --dry-run [--out OUT] here, on the CPU, tiny sizes: prepare into OUT, the
                                       loader built and checked against the PTX, the PyTorch
                                       columns on the CPU, the same JSON and markdown

On the GPU, in this order (so that the first results survive a run cut short): the cubin check
(cubin.py: driver, card, compute capability, which image loaded, registers against ptxas -v);
per case, the float64 reference and eager float32 (baselines.py); the column "ours" (ours.py);
per case, torch.compile (its compile capped at --compile-cap-s, else "skipped"). Everything
stays inside --budget-s; what does not fit is reported as skipped, never estimated.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import baselines as B
from . import cubin as K
from . import ours as O
from . import report as R

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Test-only (--ours-on-cpu): the column "ours" with a CPU artifact of one of the dry run's tiny
# models, to exercise its plumbing where no CUDA target exists (sizes: baselines.DRY_CASES); the
# other model keeps "not available". ("hope-block": ("hope-block", "--config=tiny") works too,
# at ~15 s more of hope-compile.)
DRY_OURS_MODELS = {
    "titans-memory": ("titans-memory", "--config=titans-pytorch", "--width=32", "--heads=1", "--chunk=64",
                      "--linearize=sequence"),
}


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------------------
# --prepare
# ------------------------------------------------------------------------------------------


def prepare(dest: Path, args) -> dict:
    mlir_opt = K.find_tool("mlir-opt-22", ["/usr/lib/llvm-22/bin"]) or K.find_tool("mlir-opt", ["/usr/lib/llvm-22/bin"])
    ptxas = K.find_tool("ptxas", ["/usr/local/cuda/bin"])
    missing = [n for n, t in (("mlir-opt-22", mlir_opt), ("ptxas", ptxas)) if not t]
    if missing:
        raise K.PrepareError(f"--prepare needs {' and '.join(missing)} (LLVM 22's MLIR tools, the CUDA toolkit)")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    manifest = {"commit": git_commit(), "prepared": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "mlir_opt": mlir_opt, "ptxas": ptxas}
    manifest["cubin"] = K.prepare_images(dest, mlir_opt, ptxas)
    loader = K.build_loader(dest)
    manifest["loader_abi"] = K.check_loader_abi(loader, manifest["cubin"])
    if not manifest["loader_abi"]["matches"]:
        raise K.PrepareError(f"the loader's kernel parameters do not match the PTX .entry: {manifest['loader_abi']}")
    models = DRY_OURS_MODELS if args.ours_on_cpu else O.OURS_MODELS
    target_flags = [] if args.ours_on_cpu else O.TARGET_FLAGS
    manifest["ours"] = O.prepare_ours(dest, Path(args.build_dir), B.cases_for(args.dry_run), models, target_flags)
    manifest["ours"]["run_flags"] = [] if args.ours_on_cpu else O.RUN_FLAGS
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    manifest["bytes"] = dir_bytes(dest)
    return manifest


# ------------------------------------------------------------------------------------------
# Workers, with deadlines
# ------------------------------------------------------------------------------------------


class Worker:
    """A child process printing `RESULT {json}` lines (and READY / COMPILED for the compile cap),
    killed (its whole process group: inductor's compile workers too) at a deadline."""

    def __init__(self, cmd: list[str], log: Path):
        self.log = open(log, "a")
        self.log.write(f"\n=== {' '.join(cmd)}\n")
        self.log.flush()
        pythonpath = os.pathsep.join([str(HERE.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": pythonpath})
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _last_error(self) -> str:
        """The last line of the worker's stderr (its exception, for a Python error)."""
        lines = [l for l in Path(self.log.name).read_text(errors="replace").splitlines() if l.strip()]
        return lines[-1][:300] if lines else "no output"

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def run(self, deadline: float, compile_cap: float | None = None) -> tuple[list[dict], str | None, str]:
        """(results, why it stopped early or None, "skipped" | "failed"): killed at the compile cap
        or the budget's end, a row left out is skipped; a worker that exits non-zero failed."""
        results, compile_deadline, compiling_since = [], None, None
        while True:
            now = time.monotonic()
            limit = min(deadline, compile_deadline) if compile_deadline else deadline
            try:
                line = self.lines.get(timeout=max(limit - now, 0.01))
            except queue.Empty:
                self.kill()
                self.log.close()
                if compile_deadline and time.monotonic() >= compile_deadline:
                    return results, f"compile exceeded the {compile_cap:.0f} s cap", "skipped"
                return results, "the time budget ran out" + (
                    f" while compiling ({time.monotonic() - compiling_since:.0f} s)" if compiling_since else ""), "skipped"
            if line is None:
                code = self.proc.wait()
                self.log.close()  # the child has exited: everything it wrote is in the file
                if code == 0:
                    return results, None, "skipped"
                return results, f"worker exit {code}: {self._last_error()} (gpu-check.log)", "failed"
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
            elif line == "READY" and compile_cap is not None:
                compiling_since = time.monotonic()
                compile_deadline = compiling_since + compile_cap
            elif line.startswith("COMPILED"):
                compile_deadline, compiling_since = None, None


def worker_cmd(kind: str, args, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "gpucheck.main", "--worker", kind, "--work", str(args.work),
            "--device", args.device, "--repeat", str(args.repeat), *extra]


# ------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------


def machine_info() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()}
    smi = shutil.which("nvidia-smi")
    if smi:
        r = subprocess.run([smi, "--query-gpu=name,driver_version,memory.total,clocks.max.sm",
                            "--format=csv,noheader"], capture_output=True, text=True)
        if r.returncode == 0:
            info["nvidia_smi"] = "nvidia-smi: " + r.stdout.strip().replace("\n", "; ")
    return info


def run(args) -> int:
    t_start = time.monotonic()
    deadline = t_start + args.budget_s
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "gpu-check.log"
    log.write_text("")
    notes = []
    if args.dry_run:
        carried = out / "carried"
        manifest = prepare(carried, args)
        print(f"gpu-check: prepared {carried} ({manifest['bytes'] / 2**20:.2f} MiB)", flush=True)
    else:
        carried = Path(args.carried)
    manifest = json.loads((carried / "manifest.json").read_text())
    cases = B.cases_for(args.dry_run)
    args.work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    doc = {"tool": "bench/gpu-check", "dry_run": args.dry_run, "device": args.device, "commit": manifest["commit"],
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine_info(), "repeat": args.repeat, "compile_cap_s": args.compile_cap_s,
           "budget_s": args.budget_s, "prepared": {k: manifest[k] for k in ("prepared", "loader_abi")},
           "ptxas": manifest["cubin"]["ptxas"], "rows": [], "notes": notes}

    def save():
        doc["wall_s"] = time.monotonic() - t_start
        (out / "gpu-check.json").write_text(json.dumps(doc, indent=1) + "\n")
        (out / "gpu-check.md").write_text(R.markdown(doc))

    # 1. the cubin check
    loader, how = K.usable_loader(carried, args.work)
    doc["loader"] = how
    if loader:
        doc["cubin"] = K.run_loader(loader, carried, manifest["cubin"], work=args.work)
    else:
        doc["cubin"] = {"passed": False, "driver": None, "error": how}
    print(f"gpu-check: cubin check: {'passed' if doc['cubin'].get('passed') else 'not passed'}"
          f"{': ' + doc['cubin']['error'] if doc['cubin'].get('error') else ''}", flush=True)
    save()

    def remaining() -> float:
        return deadline - time.monotonic()

    def add(rows: list[dict]):
        for row in rows:
            if row.get("event") == "flags":
                doc["tf32"], doc["machine"]["torch"] = row["tf32"], row["torch"]
                doc["machine"]["torch_device_name"] = row.get("device_name")
            else:
                doc["rows"].append(row)
                status = row.get("status")
                detail = (f"{row['median_ms']:.2f} ms, f32 vs f64 {row['f32_vs_f64']:.1e}" if status == "ok"
                          else row.get("reason", ""))
                print(f"  {row['case']:<26} {row['column']:<14} {status}: {detail}", flush=True)
        save()

    def skipped(case, column, reason, status="skipped"):
        add([{"case": case.key, "model": case.model, "batch": case.batch, "tokens": case.tokens,
              "column": column, "status": status, "reason": reason}])

    # 2. float64 references and eager float32, all cases in one process
    cases_arg = json.dumps([json.loads(B.case_json(c)) for c in cases])
    w = Worker(worker_cmd("eager", args, ["--cases", cases_arg]), log)
    rows, why, status = w.run(deadline)
    add(rows)
    done = {r["case"] for r in rows if "case" in r}
    for case in cases:
        if case.key not in done:
            skipped(case, "eager", why or "the eager worker ended early (gpu-check.log)", status)
    have_ref = {c.key for c in cases if (args.work / f"y64-{c.key}.npy").exists()}

    # 3. ours (a worker only when an artifact travelled)
    if manifest["ours"]["models"]:
        w = Worker(worker_cmd("ours", args, ["--cases", cases_arg, "--carried", str(carried.resolve())]), log)
        rows, why, status = w.run(deadline)
        add(rows)
    else:
        rows, why, status = [], O.NOT_CARRIED, "not available"
    for case in cases:
        if case.key not in {r.get("case") for r in rows}:
            skipped(case, "ours", why or "the ours worker ended early (gpu-check.log)", status)

    # 4. torch.compile, one process per case (its compile capped); the Titans memory's cheap
    # compiles first, then the HOPE block's largest batch, so that a run cut short by the budget
    # loses the least
    for case in sorted(cases, key=lambda c: (c.model == "hope-block", -c.batch)):
        if args.compile_models is not None and case.model not in args.compile_models.split(","):
            skipped(case, "torch.compile", "not selected (--compile-models)")
            continue
        if case.key not in have_ref:
            skipped(case, "torch.compile", "no float64 reference (the eager worker did not reach this case)")
            continue
        if remaining() < 10:
            skipped(case, "torch.compile", "the time budget ran out")
            continue
        w = Worker(worker_cmd("compile", args, ["--case", B.case_json(case), "--compile-backend",
                                                args.compile_backend]), log)
        rows, why, status = w.run(deadline, compile_cap=args.compile_cap_s)
        add(rows)
        if not rows:
            skipped(case, "torch.compile", why or "the compile worker printed no result (gpu-check.log)", status)

    shutil.rmtree(args.work, ignore_errors=True)
    ok_rows = [r for r in doc["rows"] if r.get("status") == "ok"]
    failures = [r for r in doc["rows"] if r.get("status") == "failed"] + \
               [r for r in ok_rows if not r["within_tolerance"] or r.get("bitwise_equal_runs") is False]
    cubin_ok = doc["cubin"].get("passed") or (args.dry_run and doc["cubin"].get("driver") is None)
    if args.dry_run and doc["cubin"].get("driver") is None:
        notes.append("dry run: no CUDA driver here, so the cubin check stopped after building the images, "
                     "checking them with ptxas and the loader's parameters against the PTX.")
    doc["passed"] = bool(cubin_ok and not failures)
    # rows the budget cut (a compile over its cap is a result: "skipped", not incomplete)
    doc["incomplete"] = [f"{r['case']} {r['column']}" for r in doc["rows"] if r.get("status") == "skipped"
                         and ("budget" in r.get("reason", "") or "no float64 reference" in r.get("reason", ""))]
    save()
    print(R.markdown(doc), flush=True)
    print(f"gpu-check: {'passed' if doc['passed'] else 'NOT passed'}"
          f"{' but INCOMPLETE (time budget)' if doc['incomplete'] else ''}; results in {out}/gpu-check.json and "
          f"gpu-check.md ({doc['wall_s']:.0f} s)", flush=True)
    return 0 if doc["passed"] else 1


def worker_main(args) -> int:
    if args.worker == "eager":
        cases = [B.Case(**c) for c in json.loads(args.cases)]
        B.eager_worker(cases, Path(args.work), args.device, args.repeat)
    elif args.worker == "compile":
        B.compile_worker(B.case_from_json(args.case), Path(args.work), args.device, args.repeat,
                         args.compile_backend)
    elif args.worker == "ours":
        cases = [B.Case(**c) for c in json.loads(args.cases)]
        manifest = json.loads((Path(args.carried) / "manifest.json").read_text())
        O.ours_worker(cases, Path(args.carried), Path(args.work), args.repeat, manifest["ours"].get("run_flags", []))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench/gpu-check", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--prepare", metavar="DIR", help="build what travels into DIR, then exit")
    mode.add_argument("--carried", metavar="DIR", default=".gpucheck", help="what --prepare built (default .gpucheck)")
    mode.add_argument("--dry-run", action="store_true", help="the whole check here on the CPU at tiny sizes")
    ap.add_argument("--out", default=os.environ.get("OUT") or "gpu-check-out", help="where the results go (default $OUT)")
    ap.add_argument("--device", default=None, help="torch device (default: cuda, cpu with --dry-run)")
    ap.add_argument("--repeat", type=int, default=None, help="timed calls after warm-up (default 10; 3 dry)")
    ap.add_argument("--compile-cap-s", type=float, default=90.0, help="cap on torch.compile's compiling (s)")
    ap.add_argument("--compile-models", default=None, metavar="M1,M2",
                    help="run torch.compile for these models only (default: all)")
    ap.add_argument("--compile-backend", default="inductor",
                    help="torch.compile's backend (default inductor; eager: graph capture only, for tests)")
    ap.add_argument("--budget-s", type=float, default=None, help="the whole run's wall time (default 270; 150 dry)")
    ap.add_argument("--build-dir", default=os.environ.get("HOPE_BUILD_DIR", str(REPO / "build")),
                    help="where hope-models, hope-compile and hope-run are (--prepare of the column ours)")
    ap.add_argument("--ours-on-cpu", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--cases", help=argparse.SUPPRESS)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.device = args.device or ("cpu" if args.dry_run else "cuda")
    args.repeat = args.repeat or (3 if args.dry_run else 10)
    args.budget_s = args.budget_s or (150.0 if args.dry_run else 270.0)
    if args.worker:
        return worker_main(args)
    if args.prepare:
        try:
            manifest = prepare(Path(args.prepare), args)
        except (K.PrepareError, RuntimeError) as e:
            print(f"gpu-check --prepare: {e}", file=sys.stderr)
            return 1
        print(f"gpu-check: prepared {args.prepare}: {manifest['bytes'] / 2**20:.2f} MiB to carry "
              f"(limit 64 MiB with the working tree), commit {manifest['commit']}; ours: "
              f"{', '.join(manifest['ours']['models']) or 'no artifact'}")
        return 0
    if not args.dry_run and not (Path(args.carried) / "manifest.json").exists():
        print(f"gpu-check: {args.carried}/manifest.json not found: run `bench/gpu-check --prepare {args.carried}` "
              "here first and carry that folder", file=sys.stderr)
        return 2
    try:
        return run(args)
    except (K.PrepareError, RuntimeError) as e:
        print(f"gpu-check: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
