//! The resampler on a wind farm: 100 turbines × one year of 1-minute samples
//! (52,560,000 rows), per turbine (a string key), `wind_speed` and `power`
//! linear and `wind_direction` an angle, statistics mean, min, max, std and
//! count per 10-minute window; against pandas (groupby + resample) and polars
//! (`group_by_dynamic` with `group_by`) computing the same statistics (circular
//! ones for the direction) on the same data, in the same run.
//!
//!     benches/run farm_resample
//!
//! `WINDCORE_BENCH_TURBINES` (default 100) and `WINDCORE_BENCH_DAYS` (default
//! 365) scale the data; `WINDCORE_BENCH_ONLY_WINDCORE` skips the alternatives;
//! `WINDCORE_BENCH_ALT_RUNS` (default 3) sets the runs of each alternative;
//! `WINDCORE_BENCH_KEEP_PARQUET=PATH` keeps the data file.

use std::path::Path;

use polars::prelude::*;
use windcore::{Resampler, Stat};
use windcore_benches::{best_worst_of, farm_year, run_python, write_parquet};

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("farm_resample: bench");
        return;
    }
    let turbines = env_u32("WINDCORE_BENCH_TURBINES", 100);
    let days = env_u32("WINDCORE_BENCH_DAYS", 365);
    let mut df = farm_year(turbines, days);
    let rows = df.height();
    println!(
        "farm_resample benchmark: {rows} rows ({turbines} turbines x {days} days of 1-minute samples, \
         day after day, turbine after turbine within a day), by turbine (string), \
         wind_speed + power linear, wind_direction circular, stats mean/min/max/std/count"
    );
    let resampler = Resampler::builder()
        .by(["turbine"])
        .variables(["wind_speed", "power", "wind_direction"])
        .angles(["wind_direction"])
        .stats(Stat::ALL)
        .build()
        .expect("valid");
    let windows = rows / 10;
    let (wc, wc_worst, wide) = best_worst_of(5, || resampler.resample_wide(&df).expect("resample"));
    assert_eq!(wide.height(), windows);
    drop(wide);
    // The same rows grouped by turbine (as read from a table ordered by
    // turbine and time): the resampler reads them in place.
    let grouped = {
        let t = turbines as usize;
        let d = days as usize;
        let idx: Vec<IdxSize> = (0..t)
            .flat_map(|ti| {
                (0..d).flat_map(move |di| {
                    let base = (di * t + ti) * 1440;
                    (base..base + 1440).map(|r| r as IdxSize)
                })
            })
            .collect();
        df.take(&IdxCa::from_vec(PlSmallStr::EMPTY, idx))
            .expect("take")
    };
    let (wc_g, wc_g_worst, wide) =
        best_worst_of(5, || resampler.resample_wide(&grouped).expect("resample"));
    assert_eq!(wide.height(), windows);
    drop(wide);
    drop(grouped);
    println!(
        "windcore (Rust), day-major input:   best {:.3} s, worst {:.3} s (of 5)",
        wc.as_secs_f64(),
        wc_worst.as_secs_f64()
    );
    println!(
        "windcore (Rust), grouped by turbine: best {:.3} s, worst {:.3} s (of 5)",
        wc_g.as_secs_f64(),
        wc_g_worst.as_secs_f64()
    );
    if std::env::var_os("WINDCORE_BENCH_ONLY_WINDCORE").is_some() {
        return;
    }

    let dir = std::env::temp_dir().join(format!("windcore-farm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("farm.parquet");
    write_parquet(&mut df, &path);
    drop(df);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("farm_alternatives.py");
    let runs = std::env::var("WINDCORE_BENCH_ALT_RUNS").unwrap_or_else(|_| "3".into());
    let alt = run_python(&script, &[path.to_str().expect("utf-8 path"), &runs]);
    if let Ok(keep) = std::env::var("WINDCORE_BENCH_KEEP_PARQUET") {
        std::fs::rename(&path, &keep).expect("keep the Parquet file");
    }
    let _ = std::fs::remove_dir_all(&dir);

    let wc = wc.as_secs_f64();
    let rate = |secs: f64| rows as f64 / secs / 1e6;
    println!(
        "{:<44} {:>9} {:>9} {:>10} {:>12}",
        "implementation", "best s", "worst s", "M rows/s", "vs windcore"
    );
    let line = |name: &str, best: f64, worst: f64| {
        println!(
            "{:<44} {:>9.3} {:>9.3} {:>10.1} {:>11.2}x",
            name,
            best,
            worst,
            rate(best),
            best / wc
        )
    };
    line(
        "windcore Rust (day-major input)",
        wc,
        wc_worst.as_secs_f64(),
    );
    line(
        "windcore Rust (grouped by turbine)",
        wc_g.as_secs_f64(),
        wc_g_worst.as_secs_f64(),
    );
    let mut best_pandas = f64::INFINITY;
    let mut best_polars = f64::INFINITY;
    let worst_of = |name: &str| {
        alt.iter()
            .find(|(n, _)| *n == format!("{name}_worst"))
            .map_or(f64::NAN, |(_, s)| *s)
    };
    for (name, secs) in &alt {
        if name.ends_with("_worst") {
            continue;
        }
        line(name, *secs, worst_of(name));
        if name.starts_with("pandas") {
            best_pandas = best_pandas.min(*secs);
        } else if name.starts_with("polars") {
            best_polars = best_polars.min(*secs);
        }
    }
    println!(
        "ratio: windcore (Rust) is {:.1}x the faster pandas variant and {:.1}x polars, best to best",
        best_pandas / wc,
        best_polars / wc
    );
    // Issue #19's measure: the worst windcore run against the best
    // alternative (pandas' best on its own frame; polars' best on any key
    // type, and on the same key type).
    for (name, _) in &alt {
        let Some(kind) = name.strip_prefix("windcore_python") else {
            continue;
        };
        if name.ends_with("_worst") || kind.starts_with("_ws") {
            continue;
        }
        let worst = worst_of(name);
        let same_key = alt
            .iter()
            .find(|(n, _)| *n == format!("polars_group_by_dynamic{kind}"))
            .map(|(_, s)| format!(", {:.1}x polars on the same key type", s / worst))
            .unwrap_or_default();
        println!(
            "ratio, worst run: {name} {worst:.3} s = {:.1}x pandas' best, {:.1}x polars' best{same_key}",
            best_pandas / worst,
            best_polars / worst
        );
    }
    // What the angle costs beside a linear channel (issue #19: at most 2x).
    let best = |n: &str| alt.iter().find(|(a, _)| a == n).map(|(_, s)| *s);
    if let (Some(ws), Some(lin), Some(ang)) = (
        best("windcore_python_ws"),
        best("windcore_python_ws_power"),
        best("windcore_python_ws_angle"),
    ) {
        println!(
            "angle vs linear channel, best runs: + power {:.3} s, + direction (angle) {:.3} s: \
             the angle costs {:.2}x a linear channel",
            lin - ws,
            ang - ws,
            (ang - ws) / (lin - ws)
        );
    }
}
