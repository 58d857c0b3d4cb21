#!/usr/bin/env python3
"""Sums the time bound of the kernel costs nl-cuda-kernel-costs records in IR
dumped at hope-compile's 'kernels' phase (for models whose artifact cannot be
built yet, so hope-inspect cannot read it): usage
  kernel-costs-bound.py IR.mlir x[0]=8 x[1]=4096 [FLOP/s] [bytes/s]
(default peaks: the H100 SXM5 of docs/gpu-peaks.md)."""
import json, math, re, sys

def main():
    text = open(sys.argv[1]).read()
    start = text.index("kernel_costs = {") + len("kernel_costs = ")
    depth, end = 0, start
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    body = text[start:end + 1]
    body = re.sub(r" : (i64|f64)", "", body)
    body = re.sub(r"([A-Za-z_][A-Za-z0-9_]*) = ", r'"\1": ', body)
    costs = json.loads(body)
    sizes = {}
    args = [a for a in sys.argv[2:] if "=" in a]
    for item in args:
        name, value = item.rsplit("=", 1)
        sizes[name] = float(value)
    peaks = [float(a) for a in sys.argv[2:] if "=" not in a]
    flops_peak, bw_peak = (peaks + [66.9e12, 3.35e12][len(peaks):])[:2]

    def ev(f):
        if isinstance(f, (int, float)):
            return float(f)
        if isinstance(f, str):
            return sizes[f]
        op, *rest = f
        vals = [ev(x) for x in rest]
        if op == "+":
            return sum(vals)
        if op == "*":
            return math.prod(vals)
        a, b = vals
        return {"ceildiv": math.ceil(a / b), "floordiv": math.floor(a / b),
                "max": max(a, b), "min": min(a, b)}[op]

    total_f = total_b = total_t = 0.0
    print(f"{'kernel':16} {'GFLOP':>10} {'MB':>10} {'bound us':>10}")
    for name in sorted(costs, key=lambda n: (n.split("_")[0], int(n.split("_")[-1]))):
        c = costs[name]
        f = ev(c["flops"])
        b = ev(c["bytes_read"]) + ev(c["bytes_written"])
        t = max(f / flops_peak, b / bw_peak)
        total_f, total_b, total_t = total_f + f, total_b + b, total_t + t
        print(f"{name:16} {f / 1e9:10.3f} {b / 1e6:10.3f} {t * 1e6:10.2f}")
    print(f"{'total (' + str(len(costs)) + ')':16} {total_f / 1e9:10.3f} "
          f"{total_b / 1e6:10.3f} {total_t * 1e6:10.2f}")

main()
