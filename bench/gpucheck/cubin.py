"""The cubin check of bench/gpu-check: images of chunked_memory.mlir lowered here by our MLIR
pipeline, and the driver-API loader (cubin_check.c) that runs them on the GPU.

prepare_images (here, with mlir-opt-22 and ptxas): gpu-lower-to-nvvm-pipeline with
cubin-format=bin for sm_80 and sm_90 (cubins made by gpu-module-to-binary, which calls ptxas)
and cubin-format=isa (PTX: the sm_80 PTX is the fallback a newer chip JITs). For each chip,
`ptxas -v --opt-level 2` of MLIR's PTX for that chip must reproduce MLIR's cubin byte for
byte; its register count, spills, shared memory and barriers go into the manifest, so the
GPU side compares the driver's cuFuncGetAttribute figures with ptxas's for the very cubin it
loaded. It also records ptxas -v of the sm_80 PTX assembled for sm_90 (what a JIT of the
fallback makes on an H100, up to the JIT's own optimisation level).

build_loader compiles cubin_check.c (C11, only libc and libdl: the driver is dlopen'ed), and
check_loader_abi compares the loader's parameter layout (--describe) with the .entry of the PTX.
run_loader runs it over the carried images and adds the ptxas comparison.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNEL_SOURCE = HERE / "chunked_memory.mlir"
LOADER_SOURCE = HERE / "cubin_check.c"
KERNEL = "chunked_memory"
CHIPS = ("sm_80", "sm_90")
PTX_CHIP = "sm_80"  # the PTX image: the oldest chip, so every newer one can JIT it
PTX_FEATURES = "+ptx80"  # PTX ISA 8.0: sm_90 needs >= 7.8; the CUDA 13 driver reads up to 9.0
OPT_LEVEL = 2  # gpu-lower-to-nvvm-pipeline's default; MLIR passes it to ptxas as --opt-level


class PrepareError(RuntimeError):
    """A step of the preparation failed (the message says which, with the tool's output)."""


def find_tool(name: str, extra_dirs=()) -> str | None:
    for d in extra_dirs:
        p = Path(d) / name
        if p.is_file():
            return str(p)
    return shutil.which(name)


def _run(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=kw.pop("text", True), **kw)
    if result.returncode != 0:
        err = result.stderr if isinstance(result.stderr, str) else result.stderr.decode(errors="replace")
        raise PrepareError(f"{what} failed (exit {result.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return result


def unescape_mlir_string(body: str) -> bytes:
    """The bytes of an MLIR string literal's body: \\\\ is a backslash, \\XY a hex byte."""
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode()
            i += 1
        elif body[i + 1] == "\\":
            out.append(0x5C)
            i += 2
        else:
            out.append(int(body[i + 1 : i + 3], 16))
            i += 3
    return bytes(out)


_OBJECT = re.compile(r'#gpu\.object<#nvvm\.target<(?P<target>[^>]*)>.*?(?P<kind>bin|assembly) = "(?P<body>(?:[^"\\]|\\.)*)"', re.S)


def extract_object(mlir_text: str) -> tuple[str, str, bytes]:
    """(target attribute text, "bin" | "assembly", bytes) of the one gpu.object in a module."""
    found = list(_OBJECT.finditer(mlir_text))
    if len(found) != 1:
        raise PrepareError(f"expected one #gpu.object in the lowered module, found {len(found)}")
    m = found[0]
    return m["target"], m["kind"], unescape_mlir_string(m["body"])


def lower(mlir_opt: str, chip: str, fmt: str, ptxas: str) -> bytes:
    """chunked_memory.mlir through gpu-lower-to-nvvm-pipeline for one chip and format (the
    cubin: gpu-module-to-binary runs the ptxas found first on PATH: `ptxas`'s folder)."""
    options = f"cubin-chip={chip} cubin-features={PTX_FEATURES} cubin-format={fmt} opt-level={OPT_LEVEL}"
    env = {**os.environ, "PATH": f"{Path(ptxas).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = _run([mlir_opt, str(KERNEL_SOURCE), f"--gpu-lower-to-nvvm-pipeline={options}"],
               f"mlir-opt {chip} {fmt}", env=env).stdout
    target, kind, data = extract_object(out)
    if f'chip = "{chip}"' not in target or kind != ("bin" if fmt == "bin" else "assembly"):
        raise PrepareError(f"unexpected object for {chip} {fmt}: target <{target}>, {kind}")
    return data


_PTXAS_REGS = re.compile(r"Used (\d+) registers")
_PTXAS_SPILL = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
_PTXAS_SMEM = re.compile(r"(\d+) bytes smem")
_PTXAS_BARRIERS = re.compile(r"used (\d+) barriers")


def ptxas_figures(ptxas: str, ptx: Path, chip: str, out: Path, opt_level: int | None) -> dict:
    """ptxas -v of `ptx` for `chip`: registers, spill bytes, shared memory, barriers."""
    cmd = [ptxas, "-v", f"-arch={chip}", str(ptx), "-o", str(out)]
    if opt_level is not None:
        cmd += ["--opt-level", str(opt_level)]
    text = _run(cmd, f"ptxas {chip}").stderr
    regs, spill, smem = _PTXAS_REGS.search(text), _PTXAS_SPILL.search(text), _PTXAS_SMEM.search(text)
    barriers = _PTXAS_BARRIERS.search(text)
    if not regs or not spill:
        raise PrepareError(f"no register / spill figures in ptxas -v output:\n{text}")
    return {"registers": int(regs[1]), "spill_store_bytes": int(spill[1]), "spill_load_bytes": int(spill[2]),
            "shared_bytes": int(smem[1]) if smem else 0, "barriers": int(barriers[1]) if barriers else 0,
            "command": " ".join(cmd[:1] + cmd[1:3] + [ptx.name] + cmd[5:])}


def ptx_entry_params(ptx_text: str, kernel: str = KERNEL) -> list[str]:
    """The .param types of `.entry kernel(...)` in PTX text, "ptr" for a pointer (`.u64 .ptr`):
    e.g. ["ptr", "ptr", "u64", ..., "f32"]."""
    m = re.search(r"\.entry\s+" + re.escape(kernel) + r"\s*\((.*?)\)", ptx_text, re.S)
    if not m:
        raise PrepareError(f"no .entry {kernel} in the PTX")
    return ["ptr" if ptr else kind for kind, ptr in re.findall(r"\.param\s+\.(\w+)(\s+\.ptr)?", m[1])]


def prepare_images(dest: Path, mlir_opt: str, ptxas: str) -> dict:
    """Writes the images and returns their manifest entry (see the module docstring)."""
    dest.mkdir(parents=True, exist_ok=True)
    manifest = {"kernel": KERNEL, "source": "bench/gpucheck/chunked_memory.mlir",
                "pipeline": f"gpu-lower-to-nvvm-pipeline{{cubin-chip=CHIP cubin-features={PTX_FEATURES} "
                            f"cubin-format=bin|isa opt-level={OPT_LEVEL}}}",
                "images": {}, "ptxas": {}}
    scratch = dest / "scratch"
    scratch.mkdir(exist_ok=True)
    for chip in CHIPS:
        cubin = lower(mlir_opt, chip, "bin", ptxas)
        ptx = lower(mlir_opt, chip, "isa", ptxas)
        cubin_path = dest / f"{KERNEL}.{chip}.cubin"
        cubin_path.write_bytes(cubin)
        ptx_path = scratch / f"{KERNEL}.{chip}.ptx"
        ptx_path.write_bytes(ptx)
        # ptxas records its options in the cubin (.note.nv.tkinfo): assemble once without -v
        # to compare bytes, once with -v for the figures (the same code: -v only reports).
        again = scratch / f"{KERNEL}.{chip}.ptxas.cubin"
        _run([ptxas, f"-arch={chip}", "--opt-level", str(OPT_LEVEL), str(ptx_path), "-o", str(again)], f"ptxas {chip}")
        figures = ptxas_figures(ptxas, ptx_path, chip, scratch / "verbose.cubin", OPT_LEVEL)
        figures["reproduces_mlir_cubin"] = again.read_bytes() == cubin
        if not figures["reproduces_mlir_cubin"]:
            raise PrepareError(f"ptxas --opt-level {OPT_LEVEL} of MLIR's {chip} PTX does not reproduce MLIR's "
                               f"cubin: its register count would not be the cubin's")
        manifest["images"][chip] = {"file": cubin_path.name, "bytes": len(cubin)}
        manifest["ptxas"][chip] = figures
        if chip == PTX_CHIP:
            (dest / f"{KERNEL}.ptx").write_bytes(ptx)
            manifest["images"]["ptx"] = {"file": f"{KERNEL}.ptx", "bytes": len(ptx), "chip": chip}
            manifest["params"] = ptx_entry_params(ptx.decode())
    # What a JIT of the fallback PTX gives on each chip (ptxas's default optimisation, -O3,
    # which the driver's JIT also defaults to).
    for chip in CHIPS:
        manifest["ptxas"][f"ptx->{chip}"] = ptxas_figures(
            ptxas, dest / f"{KERNEL}.ptx", chip, scratch / f"jit.{chip}.cubin", None)
    shutil.rmtree(scratch)
    for chip, fig in manifest["ptxas"].items():
        if fig["spill_store_bytes"] or fig["spill_load_bytes"]:
            raise PrepareError(f"{chip}: ptxas reports spills: {fig}")
    return manifest


def build_loader(dest: Path, cc: str | None = None) -> Path:
    """cubin_check.c -> dest/cubin_check (x86-64 here, run as is on the GPU machine)."""
    cc = cc or find_tool("cc") or find_tool("gcc") or find_tool("clang")
    if not cc:
        raise PrepareError("no C compiler (cc, gcc or clang) to build the loader")
    out = dest / "cubin_check"
    _run([cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out), str(LOADER_SOURCE), "-ldl", "-lm"],
         "building cubin_check")
    return out


def loader_params(loader: Path) -> list[str]:
    return json.loads(_run([str(loader), "--describe"], "cubin_check --describe").stdout)["params"]


def check_loader_abi(loader: Path, manifest: dict) -> dict:
    """The loader's parameter list against the PTX .entry of the carried images."""
    passed = loader_params(loader)
    return {"loader_params": len(passed), "ptx_params": len(manifest["params"]),
            "matches": passed == manifest["params"]}


def usable_loader(carried: Path, work: Path) -> tuple[Path | None, str]:
    """The carried loader if it runs here, else one built here from the carried source."""
    loader = carried / "cubin_check"
    try:
        subprocess.run([str(loader), "--describe"], capture_output=True, check=True)
        return loader, "carried"
    except (OSError, subprocess.CalledProcessError) as e:
        try:
            return build_loader(work), f"rebuilt here (carried one failed: {e})"
        except PrepareError as e2:
            return None, f"carried loader failed ({e}) and none could be built: {e2}"


def run_loader(loader: Path, images_dir: Path, manifest: dict, blocks: int = 24, work: Path | None = None,
               timeout: float = 60) -> dict:
    """Runs the loader over every carried image; adds ptxas's figures next to the driver's (for
    a chip the manifest lacks, from the ptxas of the machine it runs on, if it has one)."""
    args = [f"{label}={images_dir / entry['file']}" for label, entry in manifest["images"].items()]
    # its own process group, killed whole at the timeout (e.g. a kernel that never returns): the
    # rest of the run goes on
    proc = subprocess.Popen([str(loader), "--blocks", str(blocks), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"passed": False, "driver": None, "error": f"the loader did not finish within {timeout:.0f} s"}
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"passed": False, "exit_code": result.returncode,
                "error": f"loader printed no JSON: {result.stdout[-1000:]} {result.stderr[-1000:]}"}
    report["exit_code"] = result.returncode
    if report.get("driver") is None:
        report["passed"] = False
        return report
    chip = report["device"]["chip"]
    for image in report.get("images", []):
        label = image["label"]
        key = label if label != "ptx" else f"ptx->{chip}"
        figures = manifest["ptxas"].get(key)
        ptxas = find_tool("ptxas", ["/usr/local/cuda/bin"])
        if figures is None and label == "ptx" and ptxas and work is not None:
            try:
                figures = ptxas_figures(ptxas, images_dir / manifest["images"]["ptx"]["file"], chip,
                                        work / f"jit.{chip}.cubin", None)
                image["ptxas_where"] = "this machine's ptxas"
            except PrepareError as e:
                image["ptxas_error"] = str(e)[:500]
        image["ptxas_registers"] = figures["registers"] if figures else None
        if "registers" in image and figures:
            image["registers_match_ptxas"] = image["registers"] == figures["registers"]
        else:
            image["registers_match_ptxas"] = None  # no ptxas figure for this image on this chip
    return report
