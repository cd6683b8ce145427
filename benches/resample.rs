//! The resampler on 52,560,000 sorted 1-minute rows (100 turbine-years, 2
//! variables), against pandas `resample` and polars `group_by_dynamic` on the
//! same data, in the same run.
//!
//!     WINDCORE_PYTHON=~/.cache/windcore-venv/bin/python cargo bench --bench resample
//!
//! `WINDCORE_BENCH_TURBINES` (default 100) scales the data.

use std::path::Path;

use windcore::Resampler;
use windcore_benches::{best_worst_of, run_python, turbine_years, write_parquet};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("resample: bench");
        return;
    }
    let turbines: u32 = std::env::var("WINDCORE_BENCH_TURBINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut df = turbine_years(turbines);
    let rows = df.height();
    println!(
        "resample benchmark: {rows} sorted 1-minute rows, 2 variables, stats mean/min/max/std"
    );

    let resampler = Resampler::default();
    let (t_wc, t_wc_worst, wide) =
        best_worst_of(5, || resampler.resample_wide(&df).expect("resample"));
    assert_eq!(wide.height(), rows / 10);
    drop(wide);
    let (t_long, t_long_worst, _) =
        best_worst_of(3, || resampler.resample_long(&df).expect("resample"));

    if std::env::var_os("WINDCORE_BENCH_ONLY_WINDCORE").is_some() {
        println!(
            "windcore resample_wide {:.3} s, resample_long {:.3} s",
            t_wc.as_secs_f64(),
            t_long.as_secs_f64()
        );
        return;
    }
    let dir = tempfile_dir();
    let path = dir.join("samples.parquet");
    write_parquet(&mut df, &path);
    drop(df);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("alternatives.py");
    let alt = run_python(&script, &[path.to_str().expect("utf-8 path"), "3"]);
    let _ = std::fs::remove_dir_all(&dir);

    let rate = |secs: f64| rows as f64 / secs / 1e6;
    let wc = t_wc.as_secs_f64();
    println!(
        "{:<34} {:>9} {:>9} {:>10} {:>11}",
        "implementation", "best s", "worst s", "M rows/s", "vs windcore"
    );
    let line = |name: &str, best: f64, worst: f64| {
        println!(
            "{name:<34} {best:>9.3} {worst:>9.3} {:>10.1} {:>10.2}x",
            rate(best),
            best / wc
        )
    };
    line("windcore resample_wide", wc, t_wc_worst.as_secs_f64());
    line(
        "windcore resample_long",
        t_long.as_secs_f64(),
        t_long_worst.as_secs_f64(),
    );
    let worst_of = |name: &str| {
        alt.iter()
            .find(|(n, _)| *n == format!("{name}_worst"))
            .map_or(f64::NAN, |(_, s)| *s)
    };
    let best: Vec<&(String, f64)> = alt.iter().filter(|(n, _)| !n.ends_with("_worst")).collect();
    for (name, secs) in &best {
        line(name, *secs, worst_of(name));
    }
    for (name, secs) in &best {
        if name == "windcore_python" {
            println!(
                "ratio: windcore.resample from Python takes {:.2}x the time of the same call from Rust",
                secs / wc
            );
        } else {
            println!(
                "ratio: windcore is {:.1}x faster than {name} (best/best), {:.1}x against windcore's worst run",
                secs / wc,
                secs / t_wc_worst.as_secs_f64()
            );
        }
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("windcore-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
