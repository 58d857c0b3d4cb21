"""bench/gpu-check's results: one JSON document and a markdown section ready to paste into
docs/gpu-results.md (date, card, commit, the cubin check, one table)."""

from __future__ import annotations

COLUMNS = ("eager", "torch.compile", "ours")


def _fmt(value, spec: str, empty: str = "") -> str:
    return empty if value is None else format(value, spec)


def cubin_summary(cubin: dict, dry_run: bool = False) -> list[str]:
    """Sentences on the cubin check."""
    if not cubin:
        return ["Cubin check: not run."]
    if cubin.get("driver") is None:  # no driver, or the loader did not report
        verdict = "nothing launched (a dry run needs no driver)" if dry_run else "FAILED, nothing launched"
        return [f"Cubin check: {verdict}: {cubin.get('error', 'unknown error')}."]
    lines = []
    selected = cubin.get("selected")
    for image in cubin.get("images", []):
        label = image["label"]
        name = "PTX (JIT)" if label == "ptx" else f"{label} cubin"
        pick = " (the runtime's pick)" if label == selected else ""
        if not image.get("loaded"):
            lines.append(f"- {name}{pick}: not loaded: {image.get('error', '?')} ({image.get('error_code', '?')}).")
            continue
        if "max_rel_err_o" not in image:
            lines.append(f"- {name}{pick}: loaded; {image.get('failed_call', '?')} failed: {image.get('error', '?')}.")
            continue
        regs = image.get("registers")
        ptxas = image.get("ptxas_registers")
        match = image.get("registers_match_ptxas")
        if regs is None:
            reg_text = "registers: not reported by the driver"
        elif match is None:
            reg_text = f"registers {regs} (driver; no ptxas figure for this chip)"
        else:
            reg_text = f"registers {regs} (driver) vs {ptxas} (ptxas -v): {'match' if match else 'DIFFER'}"
        lines.append(f"- {name}{pick}: {'passed' if image.get('passed') else 'FAILED'}: max error "
                     f"{image['max_rel_err_o']:.1e} (o) / {image['max_rel_err_w']:.1e} (W), tolerance "
                     f"{image['tolerance']:.0e}; two launches bitwise equal: {image['bitwise_equal_runs']}; "
                     f"{reg_text}; shared {image.get('shared_bytes')} B, local {image.get('local_bytes')} B; "
                     f"{image.get('launch_ms', 0):.3f} ms.")
    head = (f"Cubin check (`bench/gpucheck/chunked_memory.mlir` lowered by our MLIR pipeline, "
            f"{cubin.get('blocks')} blocks of {cubin.get('threads')} threads): "
            f"{'passed' if cubin.get('passed') else 'FAILED'}; the runtime's pick on "
            f"{cubin['device']['chip']}: {selected or 'none'}.")
    return [head, ""] + lines


def rows_table(rows: list[dict]) -> list[str]:
    out = ["| model | batch | T | column | ms | tokens/s | TFLOP/s | vs eager | f32 vs f64 (tol.) | compile s | status |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    by_case: dict[str, list[dict]] = {}
    for row in rows:
        by_case.setdefault(row["case"], []).append(row)
    for case_rows in by_case.values():
        eager = next((r for r in case_rows if r["column"] == "eager" and r.get("status") == "ok"), None)
        for row in sorted(case_rows, key=lambda r: COLUMNS.index(r["column"]) if r["column"] in COLUMNS else 9):
            ok = row.get("status") == "ok"
            vs = ""
            if ok and eager and row is not eager:
                ratio = eager["median_ms"] / row["median_ms"]
                vs = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
            err = ""
            if ok:
                err = f"{row['f32_vs_f64']:.1e} ({row['tolerance']:.0e}){'' if row['within_tolerance'] else ' OVER'}"
            status = "ok" if ok else row.get("reason", "") if row.get("status") == "not available" else \
                f"{row.get('status')}: {row.get('reason', '')}"
            status = status.replace("|", "/").replace("\n", " ")
            if ok and row.get("bitwise_equal_runs") is False:
                status = "ok, runs not bitwise equal"
            out.append(f"| {row['model']} | {row['batch']} | {row['tokens']} | {row['column']} | "
                       f"{_fmt(row.get('median_ms') if ok else None, '.2f')} | "
                       f"{_fmt(row.get('tokens_per_s') if ok else None, '.0f')} | "
                       f"{_fmt(row.get('tflops') if ok else None, '.2f')} | {vs} | {err} | "
                       f"{_fmt(row.get('compile_s'), '.1f')} | {status[:200]} |")
    return out


def _flags(tf32: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in tf32.items()) or "flags not read"


def markdown(doc: dict) -> str:
    m = doc["machine"]
    dev = doc.get("cubin", {}).get("device") or {}
    drv = doc.get("cubin", {}).get("driver") or {}
    card = dev.get("name") or (m.get("torch_device_name") if m.get("torch_device_name") != "cpu" else None) \
        or f"no GPU (CPU: {m.get('platform', '?')})"
    title = (f"### {doc['date'][:10]}: {card}"
             + (f" (compute capability {dev['compute_capability']}, {dev['sms']} SMs)" if dev else "")
             + f", commit {doc['commit']}" + (" (dry run on the CPU: not a GPU result)" if doc["dry_run"] else ""))
    lines = [title, ""]
    lines.append(f"Driver: {('CUDA ' + drv['cuda'] + ' (' + str(drv['version']) + ')') if drv else 'none'}"
                 f"{'; ' + m['nvidia_smi'] if m.get('nvidia_smi') else ''}. torch {m.get('torch', '?')}, "
                 f"Python {m.get('python', '?')}; TF32 off ({_flags(doc.get('tf32', {}))}). "
                 f"Times: {'CUDA events' if doc.get('device') == 'cuda' else 'wall clock'}, median of {doc['repeat']} "
                 f"calls after warm-up; torch.compile capped at {doc['compile_cap_s']:.0f} s of compiling. "
                 f"Total {doc['wall_s']:.0f} s"
                 + (f"; INCOMPLETE: {len(doc['incomplete'])} rows cut by the time budget" if doc.get("incomplete") else "")
                 + ".")
    lines.append("")
    lines += cubin_summary(doc.get("cubin", {}), doc["dry_run"])
    lines.append("")
    lines += rows_table(doc.get("rows", []))
    for note in doc.get("notes", []):
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"
