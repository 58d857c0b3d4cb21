"""bench/gpu-check in its dry-run mode, end to end on the CPU (docs/gpu-results.md), and the
pieces a GPU run depends on that can be checked here: the worker deadlines (compile cap,
budget, a failing worker), the MLIR string and PTX parsing, the report's verdicts.

The dry run builds the cubins and PTX with mlir-opt-22 and ptxas (a missing tool fails the
test: the CUDA toolkit is part of these machines), compiles the loader and checks its kernel
parameters against the PTX's .entry, runs the PyTorch columns at tiny sizes (torch.compile with
its `eager` backend: dynamo's graph capture, no code generation, to stay within the budget;
the inductor compile of the same steps is test/reference/test_chunk_parallel.py's), and writes
the JSON and markdown. ~40 s on the 2-core machine.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from gpucheck import cubin as K  # noqa: E402
from gpucheck import main as G  # noqa: E402
from gpucheck import report as R  # noqa: E402


def _tools():
    """--prepare's tools and a C compiler; a test without them is skipped (failed under CI=true)."""
    missing = [name for name, found in (
        ("mlir-opt-22", K.find_tool("mlir-opt-22", ["/usr/lib/llvm-22/bin"])),
        ("ptxas (CUDA toolkit)", K.find_tool("ptxas", ["/usr/local/cuda/bin"])),
        ("cc", K.find_tool("cc"))) if not found]
    if missing:
        pytest.skip(f"not found: {', '.join(missing)}")


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, hope_models, hope_compile, hope_run):
    """The dry run, with the column ours made of a CPU artifact of the tiny Titans memory
    (--ours-on-cpu: its plumbing, from hope-models to hope-run's timings, where no CUDA target
    exists yet); the HOPE block's ours stays "not available"."""
    _tools()
    out = tmp_path_factory.mktemp("gpu-check")
    env = {**os.environ, "HOPE_PYTHON": sys.executable}
    t0 = time.monotonic()
    result = subprocess.run([str(REPO / "bench" / "gpu-check"), "--dry-run", "--out", str(out),
                             "--build-dir", str(hope_run.parents[1]), "--ours-on-cpu",
                             "--compile-backend", "eager", "--compile-models", "hope-block", "--repeat", "2"],
                            capture_output=True, text=True, env=env, timeout=300)
    print(f"dry run: {time.monotonic() - t0:.0f} s")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, json.loads((out / "gpu-check.json").read_text())


def test_dry_run_builds_and_checks_the_images(dry_run):
    out, doc = dry_run
    ptxas = doc["ptxas"]
    for chip in K.CHIPS:
        assert ptxas[chip]["reproduces_mlir_cubin"], chip
        assert ptxas[chip]["registers"] > 0 and ptxas[chip]["barriers"] == 1
        assert ptxas[chip]["spill_store_bytes"] == 0 and ptxas[chip]["spill_load_bytes"] == 0
        assert ptxas[chip]["shared_bytes"] == 2 * 16 * 16 * 4  # W and E in workgroup memory
        assert (out / "carried" / f"chunked_memory.{chip}.cubin").read_bytes()[:4] == b"\x7fELF"
        assert f"ptx->{chip}" in ptxas
    assert ".target sm_80" in (out / "carried" / "chunked_memory.ptx").read_text()
    assert doc["prepared"]["loader_abi"] == {"loader_params": 55, "ptx_params": 55, "matches": True}
    cubin = doc["cubin"]
    if cubin.get("driver") is None:  # the usual case here: no driver
        assert "libcuda.so.1" in cubin["error"]
    else:  # a machine with a GPU runs the real check
        assert cubin["passed"], cubin


def test_dry_run_rows(dry_run):
    _, doc = dry_run
    rows = {(r["case"], r["column"]): r for r in doc["rows"]}
    cases = {r["case"] for r in doc["rows"]}
    assert len(cases) == 4 and len(rows) == 12
    for case in cases:
        eager = rows[(case, "eager")]
        assert eager["status"] == "ok" and eager["within_tolerance"] and eager["f32_vs_f64"] < 1e-5, eager
        assert len(eager["seconds"]) == 2
        ours = rows[(case, "ours")]
        if case.startswith("titans-memory"):  # a CPU artifact (--ours-on-cpu)
            assert ours["status"] == "ok" and ours["within_tolerance"] and ours["f32_vs_f64"] < 1e-5, ours
            assert ours["bitwise_equal_runs"] and len(ours["seconds"]) == 2
        else:
            assert ours["status"] == "not available" and ours["reason"] == "not available (no CUDA artifact carried)"
        compiled = rows[(case, "torch.compile")]
        if case.startswith("hope-block"):
            assert compiled["status"] == "ok" and compiled["within_tolerance"] and compiled["backend"] == "eager"
            assert compiled["compile_s"] >= 0
        else:
            assert compiled["status"] == "skipped" and "--compile-models" in compiled["reason"]
    assert doc["passed"] and doc["dry_run"] and not doc["incomplete"]
    assert doc["tf32"] == {"cuda.matmul.allow_tf32": False, "cudnn.allow_tf32": False,
                           "float32_matmul_precision": "highest"}


def test_dry_run_markdown(dry_run):
    out, doc = dry_run
    text = (out / "gpu-check.md").read_text()
    assert "(dry run on the CPU: not a GPU result)" in text and doc["commit"] in text
    if doc["cubin"].get("driver") is None:
        assert "Cubin check: nothing launched (a dry run needs no driver): libcuda.so.1" in text
    assert "| model | batch | T | column | ms |" in text
    assert text.count("| ours |") == 4 and text.count("not available (no CUDA artifact carried)") == 2


# ---------------------------------------------------------------- the loader over a stand-in driver


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """libcuda_standin.c built as libcuda.so.1 (see its header)."""
    _tools()
    lib = tmp_path_factory.mktemp("standin")
    subprocess.run(["cc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-O2", "-Wall", "-Wextra", "-Werror",
                    "-ffp-contract=off", "-shared", "-fPIC", "-o", str(lib / "libcuda.so.1"),
                    str(Path(__file__).with_name("libcuda_standin.c"))], check=True)
    return lib


def _loader_run(dry_run, standin, monkeypatch, tmp_path, **env):
    out, _ = dry_run
    carried = out / "carried"
    manifest = json.loads((carried / "manifest.json").read_text())["cubin"]
    monkeypatch.setenv("LD_LIBRARY_PATH", str(standin))
    for k, v in env.items():
        monkeypatch.setenv(k, str(v))
    return K.run_loader(carried / "cubin_check", carried, manifest, work=tmp_path), manifest


def test_loader_on_sm90(dry_run, standin, monkeypatch, tmp_path):
    """The cubin of the chip is picked, the other chip's refused, the PTX loads; the cubin's
    register count (its .nv.info) is ptxas -v's."""
    ptx_regs = json.loads((dry_run[0] / "carried" / "manifest.json").read_text())["cubin"]["ptxas"]["ptx->sm_90"]
    report, manifest = _loader_run(dry_run, standin, monkeypatch, tmp_path, STANDIN_PTX_REGS=ptx_regs["registers"])
    assert report["passed"] and report["exit_code"] == 0 and report["selected"] == "sm_90", report
    images = {i["label"]: i for i in report["images"]}
    assert not images["sm_80"]["loaded"] and images["sm_80"]["error_code"] == 209
    for label in ("sm_90", "ptx"):
        assert images[label]["passed"] and images[label]["bitwise_equal_runs"]
        assert images[label]["max_rel_err_o"] < 1e-5 and images[label]["max_rel_err_w"] < 1e-5
        assert images[label]["registers_match_ptxas"] is True, images[label]
    assert images["sm_90"]["registers"] == manifest["ptxas"]["sm_90"]["registers"]
    text = "\n".join(R.cubin_summary(report))
    assert "sm_90 cubin (the runtime's pick): passed" in text and "(ptxas -v): match" in text


def test_loader_reports_a_register_mismatch(dry_run, standin, monkeypatch, tmp_path):
    report, manifest = _loader_run(dry_run, standin, monkeypatch, tmp_path,
                                   STANDIN_PTX_REGS=manifest_regs(dry_run) + 1)
    ptx = next(i for i in report["images"] if i["label"] == "ptx")
    assert ptx["registers_match_ptxas"] is False and "DIFFER" in "\n".join(R.cubin_summary(report))


def manifest_regs(dry_run) -> int:
    return json.loads((dry_run[0] / "carried" / "manifest.json").read_text())["cubin"]["ptxas"]["ptx->sm_90"]["registers"]


def test_loader_catches_a_wrong_result(dry_run, standin, monkeypatch, tmp_path):
    report, _ = _loader_run(dry_run, standin, monkeypatch, tmp_path, STANDIN_CORRUPT=1)
    assert not report["passed"] and report["exit_code"] == 1
    sm90 = next(i for i in report["images"] if i["label"] == "sm_90")
    assert not sm90["passed"] and sm90["max_rel_err_o"] > 1e-3


def test_loader_on_a_chip_without_cubin(dry_run, standin, monkeypatch, tmp_path):
    """sm_100: no cubin, so the PTX is the pick; its ptxas figure comes from this machine's ptxas."""
    report, _ = _loader_run(dry_run, standin, monkeypatch, tmp_path, STANDIN_CC=100, STANDIN_PTX_REGS=7)
    assert report["selected"] == "ptx" and report["passed"]
    assert all(not i["loaded"] for i in report["images"] if i["label"] != "ptx")
    ptx = next(i for i in report["images"] if i["label"] == "ptx")
    assert ptx["ptxas_where"] == "this machine's ptxas" and ptx["ptxas_registers"] > 0
    assert ptx["registers_match_ptxas"] is (ptx["ptxas_registers"] == 7)


def test_carried_run_cut_by_the_budget(standin, tmp_path):
    """The GPU-side command itself (--prepare, then --carried at full sizes) over the stand-in
    driver with a budget too short for any PyTorch column: the cubin check runs, every row is
    reported skipped and the run is marked incomplete, never estimated; no artifact travelled,
    so ours is "not available"."""
    env = {**os.environ, "HOPE_PYTHON": sys.executable, "LD_LIBRARY_PATH": str(standin), "STANDIN_PTX_REGS": "1"}
    carried = tmp_path / ".gpucheck"
    subprocess.run([str(REPO / "bench" / "gpu-check"), "--prepare", str(carried)], env=env, check=True)
    assert sorted(p.name for p in carried.iterdir()) == [
        "chunked_memory.ptx", "chunked_memory.sm_80.cubin", "chunked_memory.sm_90.cubin", "cubin_check",
        "manifest.json"]
    result = subprocess.run([str(REPO / "bench" / "gpu-check"), "--carried", str(carried), "--out",
                             str(tmp_path / "out"), "--device", "cpu", "--budget-s", "2"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    doc = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    assert not doc["dry_run"] and doc["cubin"]["passed"] and doc["cubin"]["selected"] == "sm_90"
    assert {r["status"] for r in doc["rows"] if r["column"] != "ours"} == {"skipped"}
    assert len(doc["incomplete"]) == 8  # eager and torch.compile of the 4 cases
    assert [r["reason"] for r in doc["rows"] if r["column"] == "ours"] == ["not available (no CUDA artifact carried)"] * 4
    text = (tmp_path / "out" / "gpu-check.md").read_text()
    assert "INCOMPLETE: 8 rows cut by the time budget" in text and "ms |" in text
    assert "registers 1 (driver) vs" in text and "DIFFER" in text  # the stand-in's PTX count


# ---------------------------------------------------------------- worker deadlines


def _worker(tmp_path, script: str) -> G.Worker:
    return G.Worker([sys.executable, "-c", script], tmp_path / "log")


def test_compile_cap_kills_the_worker(tmp_path):
    w = _worker(tmp_path, "import time; print('READY', flush=True); time.sleep(60)")
    t0 = time.monotonic()
    rows, why, status = w.run(time.monotonic() + 60, compile_cap=1.0)
    assert time.monotonic() - t0 < 10
    assert rows == [] and why == "compile exceeded the 1 s cap" and status == "skipped"
    assert w.proc.returncode is not None


def test_compile_cap_ends_at_compiled(tmp_path):
    w = _worker(tmp_path, "import time, json; print('READY', flush=True); time.sleep(0.2); "
                          "print('COMPILED 0.2', flush=True); time.sleep(1.5); "
                          "print('RESULT ' + json.dumps({'case': 'c'}), flush=True)")
    rows, why, _ = w.run(time.monotonic() + 30, compile_cap=1.0)
    assert rows == [{"case": "c"}] and why is None


def test_budget_keeps_earlier_results(tmp_path):
    w = _worker(tmp_path, "import time, json; print('RESULT ' + json.dumps({'case': 'a'}), flush=True); "
                          "time.sleep(60)")
    rows, why, status = w.run(time.monotonic() + 2)
    assert rows == [{"case": "a"}] and why == "the time budget ran out" and status == "skipped"


def test_failing_worker_is_a_failure(tmp_path):
    w = _worker(tmp_path, "raise SystemExit('boom')")
    rows, why, status = w.run(time.monotonic() + 30)
    assert rows == [] and status == "failed" and "exit 1" in why and "boom" in why


# ---------------------------------------------------------------- parsing and verdicts


def test_mlir_string_unescape():
    assert K.unescape_mlir_string(r"a\0A\\b\22\00") == b"a\n\\b\"\x00"


def test_extract_object_needs_exactly_one():
    one = '#gpu.object<#nvvm.target<chip = "sm_90">, properties = {O = 2 : i32}, bin = "\\7FELF">'
    assert K.extract_object(one) == ('chip = "sm_90"', "bin", b"\x7fELF")
    with pytest.raises(K.PrepareError):
        K.extract_object(one + one)


def test_ptx_entry_params():
    ptx = ".visible .entry chunked_memory(\n .param .u64 p0,\n .param .u64 .ptr .align 1 p1,\n .param .f32 p2\n)"
    assert K.ptx_entry_params(ptx) == ["u64", "ptr", "f32"]
    with pytest.raises(K.PrepareError):
        K.ptx_entry_params(ptx, "other")


def test_loader_timeout_is_reported(tmp_path):
    """A kernel that never returns (here: a loader that sleeps) fails the cubin check, and the run goes on."""
    loader = tmp_path / "cubin_check"
    loader.write_text("#!/bin/sh\nsleep 600\n")
    loader.chmod(0o755)
    t0 = time.monotonic()
    report = K.run_loader(loader, tmp_path, {"images": {}}, timeout=1)
    assert time.monotonic() - t0 < 30
    assert not report["passed"] and "did not finish within 1 s" in report["error"]
    assert "FAILED, nothing launched" in R.cubin_summary(report)[0]


def test_report_flags_what_failed():
    base = {"case": "m-B1-T8", "model": "m", "batch": 1, "tokens": 8}
    rows = [{**base, "column": "eager", "status": "ok", "median_ms": 2.0, "tokens_per_s": 4000.0, "tflops": 0.1,
             "f32_vs_f64": 2e-4, "tolerance": 1e-4, "within_tolerance": False},
            {**base, "column": "ours", "status": "ok", "median_ms": 1.0, "tokens_per_s": 8000.0, "tflops": 0.2,
             "f32_vs_f64": 1e-6, "tolerance": 1e-4, "within_tolerance": True, "bitwise_equal_runs": False}]
    table = "\n".join(R.rows_table(rows))
    assert "2.0e-04 (1e-04) OVER" in table
    assert "2.00x faster" in table and "runs not bitwise equal" in table
    cubin = {"driver": {"version": 13000, "cuda": "13.0"}, "device": {"chip": "sm_90"}, "selected": "sm_90",
             "passed": False, "blocks": 24, "threads": 256,
             "images": [{"label": "sm_80", "loaded": False, "error": "device kernel image is invalid",
                         "error_code": 200},
                        {"label": "sm_90", "loaded": True, "max_rel_err_o": 1e-7, "max_rel_err_w": 2e-7,
                         "tolerance": 1e-5, "bitwise_equal_runs": True, "passed": True, "registers": 40,
                         "ptxas_registers": 32, "registers_match_ptxas": False, "launch_ms": 0.01}]}
    text = "\n".join(R.cubin_summary(cubin))
    assert "registers 40 (driver) vs 32 (ptxas -v): DIFFER" in text
    assert "sm_80 cubin: not loaded" in text and "sm_90 cubin (the runtime's pick): passed" in text
