"""bench/gpu-check: the checks and timings for a lent GPU machine (main.py; docs/gpu-results.md)."""
