"""This machine's single-precision matmul peak, measured with torch (the roofline of the benchmark).

    python bench/matmul_peak.py [--threads 1,2] [--sizes 1024,1536,2048] [--repeats 5]

measured_sgemm_peak(threads) runs square float32 matmuls C = A @ B (2 n^3 FLOPs each) at every
size with torch.set_num_threads(threads), takes the median time of `repeats` runs per size
(after one warm-up run) and returns the best of the per-size median rates in GFLOP/s. The
previous thread count is restored afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def sgemm_rates(threads: int, sizes=(1024, 1536, 2048), repeats: int = 5) -> dict[int, float]:
    """{n: median GFLOP/s of an n x n x n float32 matmul} with `threads` intra-op threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator().manual_seed(0)
        rates = {}
        for n in sizes:
            a = torch.randn(n, n, generator=gen, dtype=torch.float32)
            b = torch.randn(n, n, generator=gen, dtype=torch.float32)
            out = torch.empty(n, n, dtype=torch.float32)
            torch.matmul(a, b, out=out)  # warm-up (allocations, thread pool)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                torch.matmul(a, b, out=out)
                times.append(time.perf_counter() - t0)
            rates[n] = 2.0 * n**3 / statistics.median(times) / 1e9
        return rates
    finally:
        torch.set_num_threads(previous)


def measured_sgemm_peak(threads: int, sizes=(1024, 1536, 2048), repeats: int = 5) -> float:
    """Single-precision matmul peak in GFLOP/s: the best per-size median of sgemm_rates."""
    return max(sgemm_rates(threads, sizes, repeats).values())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--sizes", default="1024,1536,2048")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    for threads in (int(t) for t in args.threads.split(",")):
        rates = sgemm_rates(threads, sizes, args.repeats)
        detail = ", ".join(f"n={n}: {r:.1f}" for n, r in rates.items())
        print(f"threads={threads}: sgemm peak {max(rates.values()):.1f} GFLOP/s ({detail})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
