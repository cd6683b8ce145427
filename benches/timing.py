"""Timing shared by the Python benchmarks (run as scripts: this folder is on their path)."""

from __future__ import annotations

import gc
import sys
import time


def best_worst(runs, f, label=None):
    """Best and worst wall time of `runs` calls of `f` and the last result. As in
    the Rust harness, the previous result is freed before the clock starts.
    With a `label`, every run's time is printed to stderr in order (which run
    was the worst)."""
    times, out = [], None
    for _ in range(runs):
        out = None
        gc.collect()
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    if label:
        print(f"runs {label}: " + " ".join(f"{t:.3f}" for t in times), file=sys.stderr, flush=True)
    return min(times), max(times), out
