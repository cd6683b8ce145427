//! The built `windcore-cli` binary: help, errors and exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_windcore-cli"))
        .args(args)
        .current_dir(dir)
        .env_remove("WINDCORE_DATA_DIR")
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn help_explains_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let top = cli(dir.path(), &["--help"]);
    assert!(top.status.success());
    for word in ["run", "generate", "windcore-data", "UTC"] {
        assert!(stdout(&top).contains(word), "{word} missing from --help");
    }
    let run = cli(dir.path(), &["run", "--help"]);
    for flag in [
        "--date",
        "--from",
        "--to",
        "--variables",
        "--stats",
        "--data-dir",
        "--quiet",
        "--every",
        "--jobs",
    ] {
        assert!(
            stdout(&run).contains(flag),
            "{flag} missing from run --help"
        );
    }
    let gen = cli(dir.path(), &["generate", "--help"]);
    for flag in ["--days", "--start", "--seed", "--missing-rate"] {
        assert!(
            stdout(&gen).contains(flag),
            "{flag} missing from generate --help"
        );
    }
}

#[test]
fn bad_input_is_a_clear_error_with_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--date", "2024-02-30"],
            "--date: invalid date: `2024-02-30` is not a date",
        ),
        (
            &["run", "--from", "2024-01-05", "--to", "2024-01-01"],
            "empty",
        ),
        (&["run", "--from", "2024-01-05"], "--to"),
        (
            &["run", "--date", "2024-01-01", "--variables", "rotor_speed"],
            "unknown variable `rotor_speed`",
        ),
        (
            &["run", "--date", "2024-01-01", "--stats", "mean,mode"],
            "unknown statistic `mode`",
        ),
        (
            &["run", "--date", "2024-01-01", "--every", "7m"],
            "does not divide a day",
        ),
        (
            &["run", "--date", "2024-01-01", "--every", "10"],
            "missing unit",
        ),
        (&["generate", "--days", "0"], "at least 1"),
        (&["generate", "--missing-rate", "2"], "not a probability"),
        (&["generate", "--start", "01/02/2024"], "YYYY-MM-DD"),
    ];
    for (args, needle) in cases {
        let o = cli(dir.path(), args);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(
            stderr(&o).contains(needle),
            "{args:?}: {} does not mention {needle}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{args:?} panicked");
    }
    // Nothing was written by the failing commands.
    assert!(!dir.path().join("windcore-data").join("target").exists());
}

#[test]
fn run_generates_demo_data_once_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let first = cli(dir.path(), &["run"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains("generating 10 days of demo data"));
    let out = stdout(&first);
    let target = dir.path().join("windcore-data/target");
    // The demo farm's samples, and the rows of the target's files: the demo
    // run's statistics (wind speed, power, wind direction, energy, states,
    // availability) of every turbine.
    let samples = windcore::DEMO_DAYS * windcore::DEMO_TURBINES * 1440;
    let mut rows_out = 0;
    let mut signals = std::collections::BTreeSet::new();
    {
        use polars::prelude::{ParquetReader, SerReader};
        for day in std::fs::read_dir(&target).unwrap() {
            let path = day.unwrap().path();
            if path.extension().is_some_and(|e| e == "parquet") {
                let df = ParquetReader::new(std::fs::File::open(path).unwrap())
                    .finish()
                    .unwrap();
                rows_out += df.height();
                let names = df.column("signal").unwrap().str().unwrap().clone();
                signals.extend(names.iter().flatten().map(str::to_string));
            }
        }
    }
    for s in [
        "wind_speed_mean",
        "power_max",
        "wind_direction_std",
        "energy_delta",
        "energy_last",
        "state_seconds_3",
        "state_seconds_nodata",
        "availability",
        "excluded_seconds",
    ] {
        assert!(signals.contains(s), "{s} not in {signals:?}");
    }
    assert!(!signals.iter().any(|s| s.starts_with("ambient_temperature")));
    // The summary names every signal written, the states' too.
    let listed: std::collections::BTreeSet<String> = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("signals"))
        .expect("a signals line")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    assert_eq!(listed, signals, "summary:\n{out}");
    for needle in [
        format!("days loaded   {}", windcore::DEMO_DAYS),
        format!("rows in       {samples}"),
        format!("rows out      {rows_out}"),
        "results in".to_string(),
    ] {
        assert!(out.contains(&needle), "{needle} not in summary:\n{out}");
    }
    // Every file of the target, the load record's directory included.
    let read = |p: &Path| {
        let mut files: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .flat_map(|f| match f.is_dir() {
                true => std::fs::read_dir(&f)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect::<Vec<_>>(),
                false => vec![f],
            })
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read(f).unwrap())
            .collect::<Vec<_>>()
    };
    let before = read(&target);
    let second = cli(dir.path(), &["run", "--quiet"]);
    assert!(second.status.success());
    assert!(stdout(&second).is_empty(), "--quiet prints no summary");
    assert!(!stderr(&second).contains("generating"));
    assert_eq!(
        read(&target),
        before,
        "a second run leaves the target byte-identical"
    );
}

#[test]
fn a_store_of_an_earlier_demo_or_chosen_channels_keep_the_default_run() {
    // One turbine (what an earlier windcore's demo wrote): wind speed and
    // power, as before.
    let dir = tempfile::tempdir().unwrap();
    let g = cli(dir.path(), &["generate", "--days", "2", "--quiet"]);
    assert!(g.status.success(), "{}", stderr(&g));
    let o = cli(dir.path(), &["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 2 days x 144 windows x 4 statistics of 2 variables.
    assert!(
        stdout(&o).contains(&format!("rows out      {}", 2 * 144 * 4 * 2)),
        "{}",
        stdout(&o)
    );
    // The demo farm with a channel flag: only what the flags say.
    let dir = tempfile::tempdir().unwrap();
    let o = cli(dir.path(), &["run", "--variables", "power"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("generating 10 days of demo data"));
    use polars::prelude::{ParquetReader, SerReader};
    let day = dir.path().join("windcore-data/target/2024-01-01.parquet");
    let df = ParquetReader::new(std::fs::File::open(day).unwrap())
        .finish()
        .unwrap();
    assert_eq!(df.height() as u32, windcore::DEMO_TURBINES * 144 * 4);
}

#[test]
fn a_day_without_source_rows_is_reported_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let g = cli(
        dir.path(),
        &[
            "generate",
            "--days",
            "1",
            "--start",
            "2024-01-01",
            "--quiet",
        ],
    );
    assert!(g.status.success());
    let o = cli(dir.path(), &["run", "--date", "2030-01-01"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no source rows"), "{}", stderr(&o));
    assert!(!dir
        .path()
        .join("windcore-data/target/2030-01-01.parquet")
        .exists());
}

#[test]
fn a_farm_in_the_embedded_store_with_angles_and_quality_counts() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(
        dir.path(),
        &[
            "generate",
            "--turbines",
            "4",
            "--days",
            "2",
            "--start",
            "2024-06-01",
            "--missing-rate",
            "0.02",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("4 turbines"), "{}", stdout(&o));
    let o = cli(
        dir.path(),
        &[
            "run",
            "--variables",
            "wind_speed,wind_direction,nacelle_position",
            "--angles",
            "wind_direction,nacelle_position",
            "--stats",
            "mean,std,count",
            "--min-count",
            "8",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // 4 turbines x 144 windows x 2 days.
    assert!(out.contains("2 day(s)"), "{out}");
    assert!(out.contains("1152 windows"), "{out}");
    assert!(out.contains("missing values"), "{out}");
    // Both days had NULL samples: the summary names them.
    assert!(out.contains("    2024-06-01  "), "{out}");
    assert!(out.contains("    2024-06-02  "), "{out}");
    // The target's long form carries the asset.
    let day = dir.path().join("windcore-data/target/2024-06-01.parquet");
    use polars::prelude::{ParquetReader, SerReader};
    let df = ParquetReader::new(std::fs::File::open(day).unwrap())
        .finish()
        .unwrap();
    assert_eq!(
        df.get_column_names(),
        ["asset", "timestamp", "signal", "value"]
    );
    let assets = df.column("asset").unwrap().n_unique().unwrap();
    assert_eq!(assets, 4);

    // An angle that is not among the variables is refused before anything runs.
    let o = cli(
        dir.path(),
        &[
            "run",
            "--variables",
            "wind_speed",
            "--angles",
            "wind_direction",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("wind_direction"), "{}", stderr(&o));
    // A channel the source does not have is named, with the known ones.
    let o = cli(dir.path(), &["run", "--variables", "rotor_rpm"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("rotor_rpm"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nacelle_position"), "{}", stderr(&o));
}

#[test]
fn changed_rewrites_only_days_whose_source_changed() {
    let dir = tempfile::tempdir().unwrap();
    let gen = |start: &str, days: &str, seed: &str| {
        let o = cli(
            dir.path(),
            &[
                "generate",
                "--turbines",
                "3",
                "--start",
                start,
                "--days",
                days,
                "--seed",
                seed,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    };
    gen("2024-05-01", "3", "1");
    // Wind speed and power: a bare `run` of this farm would be the demo run,
    // whose counter and states also read the day before (a changed day
    // changes the next one too).
    let run_changed = &["run", "--changed", "--variables", "wind_speed,power"];
    let o = cli(dir.path(), run_changed);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("0 unchanged, 0 changed, 9 new"),
        "{}",
        stdout(&o)
    );
    let target = dir.path().join("windcore-data/target");
    let mtime = |d: &str| {
        std::fs::metadata(target.join(format!("{d}.parquet")))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before: Vec<_> = ["2024-05-01", "2024-05-02", "2024-05-03"]
        .iter()
        .map(|d| mtime(d))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    // Nothing changed: nothing is written.
    let o = cli(dir.path(), run_changed);
    assert!(stdout(&o).contains("3 day(s) unchanged"), "{}", stdout(&o));
    assert!(stdout(&o).contains("rows out      0"), "{}", stdout(&o));
    // The middle day's samples change (another seed): only it is rewritten.
    gen("2024-05-02", "1", "2");
    let o = cli(dir.path(), run_changed);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("6 unchanged, 3 changed, 0 new, 0 removed"),
        "{}",
        stdout(&o)
    );
    assert_eq!(mtime("2024-05-01"), before[0]);
    assert_ne!(mtime("2024-05-02"), before[1]);
    assert_eq!(mtime("2024-05-03"), before[2]);
}
