#!/usr/bin/env python3
"""Assembles every PTX image of a CUDA compilation (the `binaries` phase of
hope-compile --target=cuda, MLIR text on stdin) with `ptxas -v` for its chip
and prints one line per kernel and chip:

  KERNEL <chip> <name> registers=R spill_stores=S spill_loads=L stack=B
         static_smem=X dynamic_smem=Y limit=Z

(dynamic_smem from the manifest's kernels[].shared_bytes, limit the chip's
shared memory per block), then `FAIL <why>` for each kernel that spills,
uses a stack frame for spills, or needs more shared memory than its chip
allows, and `CHECKED <n> kernels on <chips>` at the end. Exits 1 on any
failure.

With `--launches FILE` (the `outlined` phase) it checks the host code
instead: no loop, so each launch runs once per call; prints
`LAUNCHES memory_stages=S loop_nests=N total=T kernels=K`: the launches of
memory stages, of loop nests and all of them per call, and the kernels
they launch (the layers of a model share kernels, so a kernel may be
launched several times)."""
import os
import re
import subprocess
import sys
import tempfile

# Shared memory per block (opt-in maximum), bytes.
LIMITS = {"sm_80": 163 * 1024, "sm_86": 99 * 1024, "sm_87": 163 * 1024,
          "sm_89": 99 * 1024, "sm_90": 227 * 1024}


def decode(escaped):
    data = re.sub(rb'\\([0-9A-Fa-f]{2})',
                  lambda m: bytes([int(m.group(1), 16)]),
                  escaped.encode('latin-1'))
    return data.replace(b'\\\\', b'\\').replace(b'\\"', b'"').rstrip(b'\0')


def check_launches(path):
    """The host code of an `outlined` phase: no loop around any launch (the
    host code has no loops at all), so every launch site is one launch per
    call."""
    with open(path) as f:
        text = f.read()
    # Every function but the kernels' module (which may come between the
    # entry point and its precondition check).
    host, inside = [], False
    for line in text.splitlines():
        if line.startswith("  gpu.module @hope_kernels"):
            inside = True
        elif inside and line == "  }":
            inside = False
        elif not inside:
            host.append(line)
    host = "\n".join(host)
    failures = 0
    for loop in ("scf.for", "scf.parallel", "scf.while"):
        if loop in host:
            print(f"FAIL host code has a loop ({loop})")
            failures += 1
    launches = re.findall(r"gpu\.launch_func\s+@hope_kernels::@(\w+)", host)
    stages = [k for k in launches if k.startswith("memory_stage_")]
    print(f"LAUNCHES memory_stages={len(stages)} "
          f"loop_nests={len(launches) - len(stages)} total={len(launches)} "
          f"kernels={len(set(launches))}")
    return failures


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--launches":
        return 1 if check_launches(sys.argv[2]) else 0
    text = sys.stdin.read()
    images = {m.group(1): m.group(2) for m in re.finditer(
        r'llvm\.mlir\.global external constant @(hope_image_\d+)'
        r'\("((?:[^"\\]|\\.)*)"\)', text)}
    # nl.manifest_fields prints dictionaries with sorted keys.
    ptx = [(m.group(1), m.group(2)) for m in re.finditer(
        r'\{bytes = \d+ : i64, chip = "(sm_\d+a?)", format = "ptx", '
        r'symbol = "(hope_image_\d+)"\}', text)]
    dynamic = {m.group(1): int(m.group(2)) for m in re.finditer(
        r'name = "([A-Za-z0-9_]+)", shared_bytes = (\d+) : i64', text)}
    if not ptx:
        print("FAIL no PTX image in the input")
        return 1
    failures = 0
    kernels = 0
    ptxas = os.environ.get("PTXAS", "ptxas")
    with tempfile.TemporaryDirectory() as tmp:
        for chip, symbol in ptx:
            path = os.path.join(tmp, f"{symbol}.ptx")
            with open(path, "wb") as out:
                out.write(decode(images[symbol]))
            run = subprocess.run(
                [ptxas, "-v", f"-arch={chip}", path, "-o",
                 os.path.join(tmp, f"{symbol}.cubin")],
                capture_output=True, text=True)
            log = run.stdout + run.stderr
            if run.returncode != 0:
                print(f"FAIL ptxas {chip} {symbol}:\n{log}")
                failures += 1
                continue
            # Per entry: its properties, then its resources.
            for block in re.split(r"(?=ptxas info\s*: Compiling entry)", log):
                name = re.search(r"Compiling entry function '([^']+)'", block)
                if not name:
                    continue
                name = name.group(1)
                frame = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill "
                                  r"stores, (\d+) bytes spill loads", block)
                used = re.search(r"Used (\d+) registers", block)
                smem = re.search(r"(\d+) bytes smem", block)
                stack, stores, loads = (int(x) for x in frame.groups())
                registers = int(used.group(1)) if used else -1
                static = int(smem.group(1)) if smem else 0
                dyn = dynamic.get(name, 0)
                limit = LIMITS.get(chip, 48 * 1024)
                kernels += 1
                print(f"KERNEL {chip} {name} registers={registers} "
                      f"spill_stores={stores} spill_loads={loads} "
                      f"stack={stack} static_smem={static} "
                      f"dynamic_smem={dyn} limit={limit}")
                if stores or loads:
                    print(f"FAIL {chip} {name} spills ({stores} bytes stored, "
                          f"{loads} loaded)")
                    failures += 1
                if static + dyn > limit:
                    print(f"FAIL {chip} {name} needs {static + dyn} bytes of "
                          f"shared memory; {chip} allows {limit}")
                    failures += 1
    chips = ",".join(sorted({chip for chip, _ in ptx}))
    print(f"CHECKED {kernels} kernels on {chips}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
