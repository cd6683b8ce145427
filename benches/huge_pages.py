"""Huge pages for windcore's output, after a pause and back to back.

    benches/run huge_pages

windcore asks Linux for transparent huge pages for large output columns unless the
machine reports its free pages to a hypervisor (see windcore/src/resample/fresh.rs);
WINDCORE_MADVISE_HUGEPAGE=1 / 0 forces the advice on / off. This script times the same
call both ways, in separate processes that alternate (the setting is read once per
process): a year of 1-minute rows for 100 turbines end to end (52,560,000 rows,
timestamp + wind speed + power, one chunk), mean/min/max/std per 10 minutes. Each
process makes RUNS calls after a PAUSE (seconds; 4 by default, long enough for a VM that
reports free pages to hand them back) and RUNS calls back to back, and prints the wall
and system CPU seconds of each call.

Usage: python huge_pages.py [ROUNDS] [RUNS] [PAUSE]
"""

import os
import resource
import subprocess
import sys
import tempfile
import time

ROWS = 52_560_000
STATS = ["mean", "min", "max", "std"]


def frame():
    import numpy as np
    import polars as pl

    t0 = np.datetime64("2023-01-01T00:00:00", "us").astype(np.int64)
    ts = (t0 + np.arange(ROWS, dtype=np.int64) * 60_000_000).view("datetime64[us]")
    rng = np.random.default_rng(1)
    ws = rng.gamma(2.0, 4.0, ROWS)
    return pl.DataFrame({"timestamp": ts, "wind_speed": ws, "power": np.clip(ws**3 * 2.0, 0, 2000)})


def child(path, runs, pause):
    import gc

    import polars as pl
    import windcore

    df = pl.read_parquet(path).rechunk()

    def call():
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        out = windcore.resample(df, every="10m", stats=STATS, variables=["wind_speed", "power"])
        wall = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        assert out.height == ROWS // 10
        return f"{wall:.3f}/{r1.ru_stime - r0.ru_stime:.2f}"

    after_pause = []
    for _ in range(runs):
        gc.collect()
        time.sleep(pause)
        after_pause.append(call())
    back_to_back = []
    for _ in range(runs):
        gc.collect()
        back_to_back.append(call())
    print(f"after a {pause:g} s pause: {' '.join(after_pause)}; back to back: {' '.join(back_to_back)}")


def main():
    rounds, runs, pause = (int(sys.argv[1]) if len(sys.argv) > 1 else 2,
                           int(sys.argv[2]) if len(sys.argv) > 2 else 4,
                           float(sys.argv[3]) if len(sys.argv) > 3 else 4.0)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "rows.parquet")
        frame().write_parquet(path)
        print(f"{ROWS:,} rows; each call's wall/system CPU seconds", flush=True)
        for _ in range(rounds):
            for advice in ("1", "0"):
                env = dict(os.environ, WINDCORE_MADVISE_HUGEPAGE=advice)
                out = subprocess.run([sys.executable, __file__, "--child", path, str(runs), str(pause)],
                                     env=env, check=True, capture_output=True, text=True)
                print(f"huge pages {'on ' if advice == '1' else 'off'}: {out.stdout.strip()}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
