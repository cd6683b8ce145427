//! The resampler on 52,560,000 sorted 1-minute rows (100 turbine-years, 2
//! variables), against pandas `resample` and polars `group_by_dynamic` on the
//! same data, in the same run.
//!
//!     WINDCORE_PYTHON=~/.cache/windcore-venv/bin/python cargo bench --bench resample
//!
//! `WINDCORE_BENCH_TURBINES` (default 100) scales the data.

use std::path::Path;

use windcore::Resampler;
use windcore_benches::{best_of, run_python, turbine_years, write_parquet};

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
    let (t_wc, wide) = best_of(5, || resampler.resample_wide(&df).expect("resample"));
    assert_eq!(wide.height(), rows / 10);
    let (t_long, _) = best_of(3, || resampler.resample_long(&df).expect("resample"));

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
        "{:<34} {:>9} {:>14} {:>10}",
        "implementation", "best s", "M rows/s", "vs windcore"
    );
    println!(
        "{:<34} {:>9.3} {:>14.1} {:>10}",
        "windcore resample_wide",
        wc,
        rate(wc),
        "1.00x"
    );
    println!(
        "{:<34} {:>9.3} {:>14.1} {:>9.2}x",
        "windcore resample_long",
        t_long.as_secs_f64(),
        rate(t_long.as_secs_f64()),
        t_long.as_secs_f64() / wc
    );
    for (name, secs) in &alt {
        println!(
            "{:<34} {:>9.3} {:>14.1} {:>9.2}x",
            name,
            secs,
            rate(*secs),
            secs / wc
        );
    }
    for (name, secs) in &alt {
        if name == "windcore_python" {
            println!("ratio: windcore.resample from Python takes {:.2}x the time of the same call from Rust", secs / wc);
        } else {
            println!("ratio: windcore is {:.1}x faster than {name}", secs / wc);
        }
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("windcore-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
