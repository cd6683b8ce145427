//! The ungrouped resampler on single-chunk input, the way Python users build
//! their frames (`pl.DataFrame({...})` from numpy arrays, `pl.from_pandas(df)`),
//! dense and with 1 % missing values (NaN, or null through a validity bitmap as
//! `pl.from_pandas` turns NaN into null), against pandas `resample` on the same
//! data and against one memory pass over the same buffers, in the same run.
//!
//!     benches/run resample_single_chunk
//!
//! Data: the `resample` bench's 52,560,000 sorted 1-minute rows (100
//! turbine-years end to end): `timestamp` + `wind_speed` + `power`; statistics
//! mean, min, max, std per 10-minute window. `WINDCORE_BENCH_TURBINES`
//! (default 100) scales the data.
//!
//! The one-pass references read every byte of the three columns once and
//! nothing else: in Rust, a wrapping integer sum of the bit patterns on all
//! threads (the same rayon pool windcore uses); in Python, numpy's integer sum
//! of the same buffers (one thread). A third reference reads the columns once
//! and writes an output of the result's size (starts + 8 statistics per
//! window) into new memory, as any resampler must return its result.
//!
//! The first call of a process writes its output into memory the process has
//! never used (later calls may get pages an allocator kept): windcore's first
//! call and the floor's are each timed in 3 new processes of this bench,
//! taking turns, against the read pass measured in those processes.

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;
use windcore::Resampler;
use windcore_benches::{best_worst_of, run_python, timestamps, turbine_years, write_parquet};

/// Reads the three columns once: a wrapping sum of their bit patterns.
fn one_pass(ts: &[i64], a: &[f64], b: &[f64]) -> u64 {
    const CHUNK: usize = 1 << 16;
    ts.par_chunks(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .zip(b.par_chunks(CHUNK))
        .map(|((t, x), y)| {
            let mut s = 0u64;
            for v in t {
                s = s.wrapping_add(*v as u64);
            }
            for v in x {
                s = s.wrapping_add(v.to_bits());
            }
            for v in y {
                s = s.wrapping_add(v.to_bits());
            }
            s
        })
        .reduce(|| 0, u64::wrapping_add)
}

/// The buffer of a single-chunk column (nulls included).
fn values<T: PolarsNumericType>(ca: &ChunkedArray<T>) -> &[T::Native] {
    assert_eq!(ca.chunks().len(), 1);
    ca.downcast_iter().next().unwrap().values().as_slice()
}

/// `n` zeros in new memory; with `huge`, its whole 2 MiB pages advised to be
/// huge pages before they are written, as windcore does for its output
/// columns where that is faster (see windcore's `resample/fresh.rs`). The
/// floor is taken both ways, and the faster counts.
fn fresh_column(n: usize, huge: bool) -> Vec<f64> {
    const HUGE: usize = 2 << 20;
    let v = vec![0.0; n];
    let start = v.as_ptr() as usize;
    let (lo, hi) = (start.next_multiple_of(HUGE), (start + n * 8) / HUGE * HUGE);
    if huge && hi > lo {
        // SAFETY: `lo..hi` lies inside `v`; the advice changes no contents.
        unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE) };
    }
    v
}

/// One pass that reads the three columns and writes an output of the
/// result's size into new memory, as the resampler must: window starts plus
/// 8 statistics, one f64 each per 10 rows (here each is a sum of the window's
/// bit patterns). What this costs beyond [`one_pass`] is the price of the
/// output's fresh pages (page faults, the kernel zeroing them).
fn one_pass_with_output(ts: &[i64], a: &[f64], b: &[f64], huge: bool) -> Vec<Vec<f64>> {
    const W: usize = 10;
    const CHUNK: usize = 1 << 13; // windows per task
    let windows = ts.len() / W;
    let mut outs: Vec<Vec<f64>> = (0..9).map(|_| fresh_column(windows, huge)).collect();
    let mut per_chunk: Vec<Vec<&mut [f64]>> = Vec::new();
    for col in outs.iter_mut() {
        for (i, c) in col.chunks_mut(CHUNK).enumerate() {
            if per_chunk.len() <= i {
                per_chunk.push(Vec::new());
            }
            per_chunk[i].push(c);
        }
    }
    per_chunk
        .into_par_iter()
        .enumerate()
        .for_each(|(i, mut cols)| {
            let first = i * CHUNK;
            for k in 0..cols[0].len() {
                let r = (first + k) * W;
                let mut s = 0u64;
                for j in r..r + W {
                    s = s
                        .wrapping_add(ts[j] as u64)
                        .wrapping_add(a[j].to_bits())
                        .wrapping_add(b[j].to_bits());
                }
                for (c, col) in cols.iter_mut().enumerate() {
                    col[k] = (s >> c) as f64;
                }
            }
        });
    outs
}

/// Every 100th value (a fixed pseudo-random pattern, 1 %) missing: as NaN, or
/// as null (a validity bitmap, values 0).
fn with_missing(df: &DataFrame, as_null: bool) -> DataFrame {
    let mut cols: Vec<Column> = vec![df.column("timestamp").unwrap().clone()];
    for (k, name) in ["wind_speed", "power"].into_iter().enumerate() {
        let ca = df.column(name).unwrap().f64().unwrap().rechunk();
        let vals = values(&ca);
        let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ k as u64;
        let missing: Vec<bool> = (0..vals.len())
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.is_multiple_of(100)
            })
            .collect();
        let out = if as_null {
            let v: Vec<f64> = vals
                .iter()
                .zip(&missing)
                .map(|(x, m)| if *m { 0.0 } else { *x })
                .collect();
            let validity = Bitmap::from_iter(missing.iter().map(|m| !m));
            Float64Chunked::from_vec_validity(name.into(), v, Some(validity))
        } else {
            let v: Vec<f64> = vals
                .iter()
                .zip(&missing)
                .map(|(x, m)| if *m { f64::NAN } else { *x })
                .collect();
            Float64Chunked::from_vec(name.into(), v)
        };
        cols.push(out.into_series().into());
    }
    DataFrame::new_infer_height(cols).unwrap()
}

/// The three columns of a single-chunk frame.
fn buffers(frame: &DataFrame) -> (Int64Chunked, Float64Chunked, Float64Chunked) {
    let ts = timestamps(frame);
    let a = frame.column("wind_speed").unwrap().f64().unwrap().clone();
    let c = frame.column("power").unwrap().f64().unwrap().clone();
    (ts, a, c)
}

/// `WINDCORE_BENCH_FIRST_CALL=windcore|floor`: this process makes the data,
/// reads it once three times (the best of which is printed as
/// `first_call_pass`), then times one call of windcore (dense) or of the
/// floor (one pass writing a fresh output, 4 KiB pages): the first call of a
/// process, into memory it has not used before.
fn first_call(what: &str, df: &DataFrame) {
    let (ts, a, c) = buffers(df);
    let (ts, a, c) = (values(&ts), values(&a), values(&c));
    let mut pass = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        std::hint::black_box(one_pass(ts, a, c));
        pass = pass.min(t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    match what {
        "windcore" => drop(std::hint::black_box(
            Resampler::default().resample_wide(df).expect("resample"),
        )),
        _ => drop(std::hint::black_box(one_pass_with_output(ts, a, c, false))),
    }
    println!("first_call_pass {pass:.6}");
    println!("first_call {:.6}", t.elapsed().as_secs_f64());
}

/// Times [`first_call`] in new processes, windcore and the floor taking
/// turns: best and worst of each, and the best read pass of the processes.
fn first_calls(runs: usize) -> [(f64, f64); 3] {
    let mut out = [(f64::INFINITY, 0.0f64); 3];
    for _ in 0..runs {
        for (i, what) in ["windcore", "floor"].into_iter().enumerate() {
            let child = std::process::Command::new(std::env::current_exe().expect("this bench"))
                .env("WINDCORE_BENCH_FIRST_CALL", what)
                .output()
                .expect("run the bench again");
            assert!(
                child.status.success(),
                "{}",
                String::from_utf8_lossy(&child.stderr)
            );
            let text = String::from_utf8_lossy(&child.stdout);
            let value = |name: &str| -> f64 {
                text.lines()
                    .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                    .expect("the child's timing")
            };
            let (call, pass) = (value("first_call "), value("first_call_pass "));
            out[i] = (out[i].0.min(call), out[i].1.max(call));
            out[2] = (out[2].0.min(pass), out[2].1.max(pass));
        }
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("resample_single_chunk: bench");
        return;
    }
    let turbines: u32 = std::env::var("WINDCORE_BENCH_TURBINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut df = turbine_years(turbines);
    let rows = df.height();
    assert!(df.columns().iter().all(|c| c.n_chunks() == 1));
    if let Ok(what) = std::env::var("WINDCORE_BENCH_FIRST_CALL") {
        return first_call(&what, &df);
    }
    println!(
        "resample_single_chunk benchmark: {rows} sorted 1-minute rows in one chunk, 2 variables, \
         stats mean/min/max/std, {} threads",
        rayon::current_num_threads()
    );
    let resampler = Resampler::default();
    let mut results: Vec<(String, f64, f64)> = Vec::new();
    let mut pass = (f64::INFINITY, 0.0f64);
    // Writing the output into fresh 4 KiB pages, and into huge pages.
    let mut pass_out = [(f64::INFINITY, 0.0f64); 2];
    for (layout, frame) in [
        ("dense", None),
        ("1% NaN", Some(false)),
        ("1% null (validity bitmap)", Some(true)),
    ] {
        let owned;
        let frame = match frame {
            None => &df,
            Some(as_null) => {
                owned = with_missing(&df, as_null);
                &owned
            }
        };
        let (b, w, out) = best_worst_of(5, || resampler.resample_wide(frame).expect("resample"));
        assert_eq!(out.height(), rows / 10);
        results.push((
            format!("windcore Rust, {layout}"),
            b.as_secs_f64(),
            w.as_secs_f64(),
        ));
        // One memory pass over the same buffers, interleaved with the windcore runs.
        let (ts, a, c) = buffers(frame);
        let (ts, a, c) = (values(&ts), values(&a), values(&c));
        for _ in 0..5 {
            let t = Instant::now();
            std::hint::black_box(one_pass(ts, a, c));
            let e = t.elapsed().as_secs_f64();
            pass = (pass.0.min(e), pass.1.max(e));
            for (huge, po) in [false, true].into_iter().zip(pass_out.iter_mut()) {
                let t = Instant::now();
                let out = std::hint::black_box(one_pass_with_output(ts, a, c, huge));
                let e = t.elapsed().as_secs_f64();
                drop(out);
                *po = (po.0.min(e), po.1.max(e));
            }
        }
    }
    results.push(("one memory pass, Rust (all threads)".into(), pass.0, pass.1));
    for (pages, po) in ["4 KiB pages", "huge pages"].iter().zip(pass_out) {
        results.push((
            format!("one pass + writing the output ({pages}), Rust"),
            po.0,
            po.1,
        ));
    }
    // The first call of a process: windcore and the floor, 3 processes each.
    let firsts = first_calls(3);
    for (name, (b, w)) in [
        "windcore Rust, dense, first call of a process",
        "one pass + writing the output (4 KiB pages), first call of a process",
        "one memory pass, Rust, in those processes",
    ]
    .iter()
    .zip(firsts)
    {
        results.push((name.to_string(), b, w));
    }
    // The floor: the faster way of writing the output.
    let pass_out = if pass_out[1].0 < pass_out[0].0 {
        pass_out[1]
    } else {
        pass_out[0]
    };

    if std::env::var_os("WINDCORE_BENCH_ONLY_WINDCORE").is_none() {
        let dir = std::env::temp_dir().join(format!("windcore-bench-sc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("samples.parquet");
        write_parquet(&mut df, &path);
        drop(df);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("single_chunk_alternatives.py");
        let alt = run_python(&script, &[path.to_str().expect("utf-8 path"), "3"]);
        let _ = std::fs::remove_dir_all(&dir);
        for (name, secs) in &alt {
            if name.ends_with("_worst") {
                continue;
            }
            let worst = alt
                .iter()
                .find(|(n, _)| *n == format!("{name}_worst"))
                .map_or(f64::NAN, |(_, s)| *s);
            results.push((name.clone(), *secs, worst));
        }
    }

    let find = |n: &str| results.iter().find(|r| r.0 == n).map(|r| r.1);
    println!(
        "{:<50} {:>9} {:>9} {:>10}",
        "what", "best s", "worst s", "M rows/s"
    );
    for (name, b, w) in &results {
        println!(
            "{name:<50} {b:>9.3} {w:>9.3} {:>10.1}",
            rows as f64 / b / 1e6
        );
    }
    let rust_pass = pass.0;
    let np_pass = find("numpy_one_pass");
    for (layout, wc_py, pandas) in [
        (
            "pl.DataFrame(numpy), dense",
            "windcore_py_numpy_dense",
            "pandas_dense",
        ),
        (
            "pl.from_pandas, dense",
            "windcore_py_from_pandas_dense",
            "pandas_dense",
        ),
        (
            "pl.DataFrame(numpy), 1% NaN",
            "windcore_py_numpy_nan",
            "pandas_nan",
        ),
        (
            "pl.from_pandas, 1% NaN -> null",
            "windcore_py_from_pandas_null",
            "pandas_nan",
        ),
    ] {
        let (Some(w), Some(p)) = (find(wc_py), find(pandas)) else {
            continue;
        };
        print!(
            "ratio: {layout:<32} windcore {w:.3} s: {:>5.1}x faster than pandas ({pandas}); {:.2}x one Rust pass",
            p / w,
            w / rust_pass
        );
        match np_pass {
            Some(np) => println!(", {:.2}x one numpy pass", w / np),
            None => println!(),
        }
    }
    for layout in ["dense", "1% NaN", "1% null (validity bitmap)"] {
        if let Some(w) = find(&format!("windcore Rust, {layout}")) {
            println!(
                "ratio: windcore Rust, {layout:<26} {w:.3} s = {:.2}x one Rust pass, {:.2}x one pass + writing the output",
                w / rust_pass,
                w / pass_out.0
            );
        }
    }
    let [(wc_first, wc_first_worst), (floor_first, floor_first_worst), (first_pass, _)] = firsts;
    println!(
        "ratio: first call of a process: windcore {wc_first:.3} / {wc_first_worst:.3} s = {:.2}x / {:.2}x \
         that processes' read pass ({first_pass:.3} s); the floor {floor_first:.3} / {floor_first_worst:.3} s = \
         {:.2}x / {:.2}x",
        wc_first / first_pass,
        wc_first_worst / first_pass,
        floor_first / first_pass,
        floor_first_worst / first_pass
    );
    println!(
        "ratio: writing the output into new memory makes one pass {:.2}x slower ({:.3} s vs {:.3} s)",
        pass_out.0 / rust_pass,
        pass_out.0,
        rust_pass
    );
}
