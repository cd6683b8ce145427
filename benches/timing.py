"""Timing shared by the Python benchmarks (run as scripts: this folder is on their path)."""

from __future__ import annotations

import gc
import time


def best_worst(runs, f):
    """Best and worst wall time of `runs` calls of `f` and the last result. As in
    the Rust harness, the previous result is freed before the clock starts."""
    best, worst, out = float("inf"), 0.0, None
    for _ in range(runs):
        out = None
        gc.collect()
        t = time.perf_counter()
        out = f()
        e = time.perf_counter() - t
        best, worst = min(best, e), max(worst, e)
    return best, worst, out
