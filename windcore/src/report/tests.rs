use super::*;
use crate::setting::Setting;

fn d(s: &str) -> Day {
    s.parse().unwrap()
}

#[test]
fn consecutive_days_become_ranges() {
    let days = [
        d("2024-01-03"),
        d("2023-12-31"),
        d("2024-01-01"),
        d("2024-01-02"),
        d("2024-01-05"),
    ];
    assert_eq!(day_ranges(&days), "2023-12-31..2024-01-03 2024-01-05");
    assert_eq!(day_ranges(&[]), "");
}

#[test]
fn failure_message_names_the_day_and_the_days_to_rerun() {
    let failed = Error::config(Setting::Jobs, "boom");
    let summary = RunSummary {
        days: vec![
            DayReport::new(d("2024-01-01"), DayOutcome::Loaded),
            DayReport::new(d("2024-01-02"), DayOutcome::Failed(failed)),
            DayReport::new(d("2024-01-03"), DayOutcome::Skipped),
            DayReport::new(d("2024-01-04"), DayOutcome::Skipped),
        ],
        elapsed: Duration::ZERO,
        ..RunSummary::default()
    };
    assert_eq!(
        summary.failure_message().unwrap(),
        "day 2024-01-02 failed: invalid jobs: boom\n  days already loaded are kept; the failed day kept its previous contents.\n  re-run these 3 day(s): 2024-01-02..2024-01-04"
    );
    assert_eq!(summary.rerun_days_text(), "2024-01-02..2024-01-04");
    assert!(RunSummary::default().failure_message().is_none());
}

#[test]
fn reports_serialise_flat_with_outcome_names() {
    let mut ok = DayReport::new(d("2024-01-01"), DayOutcome::Loaded);
    ok.load = Duration::from_millis(1500);
    let summary = RunSummary {
        days: vec![
            ok,
            DayReport::new(d("2024-01-02"), DayOutcome::Failed(Error::Cancelled)),
        ],
        elapsed: Duration::from_secs(2),
        notes: vec!["a note".into()],
        ..RunSummary::default()
    };
    let v = serde_json::to_value(&summary).unwrap();
    assert_eq!(v["notes"][0], "a note");
    assert_eq!(v["bad_rows"]["count"], 0);
    assert_eq!(v["elapsed_seconds"], 2.0);
    assert_eq!(v["days"][0]["day"], "2024-01-01");
    assert_eq!(v["days"][0]["outcome"], "loaded");
    assert_eq!(v["days"][0]["load_seconds"], 1.5);
    assert!(v["days"][0].get("error").is_none());
    assert_eq!(v["days"][0]["quality"]["samples"], 0);
    assert_eq!(v["days"][1]["outcome"], "failed");
    assert_eq!(v["days"][1]["error"], "cancelled");
    for (o, name) in [
        (DayOutcome::Loaded, "loaded"),
        (DayOutcome::NoSourceRows, "no_source_rows"),
        (DayOutcome::Unchanged, "unchanged"),
        (DayOutcome::Failed(Error::Cancelled), "failed"),
        (DayOutcome::Skipped, "skipped"),
    ] {
        assert_eq!(o.name(), name);
        assert_eq!(serde_json::to_value(&o).unwrap()["outcome"], name);
    }
}

#[test]
fn reports_deserialise_from_what_they_serialise() {
    let mut ok = DayReport::new(d("2024-01-01"), DayOutcome::Loaded);
    ok.rows_in = 1440;
    ok.quality.missing = 3;
    ok.transform = Duration::from_millis(250);
    let failed = Error::Day {
        day: d("2024-01-02"),
        source: Box::new(Error::config(Setting::Jobs, "boom")),
    };
    let summary = RunSummary {
        days: vec![
            ok,
            DayReport::new(d("2024-01-02"), DayOutcome::Failed(failed)),
            DayReport::new(d("2024-01-03"), DayOutcome::Skipped),
        ],
        elapsed: Duration::from_secs(2),
        notes: vec!["a note".into()],
        bad_rows: BadRows::default(),
    };
    let mut summary = summary;
    summary
        .bad_rows
        .add(std::path::Path::new("a.csv"), 3, "no time".into());
    let json = serde_json::to_string(&summary).unwrap();
    let back: RunSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert_eq!(back.failure_message(), summary.failure_message());
    assert!(matches!(
        back.days[1].outcome.error(),
        Some(Error::Reported(_))
    ));
    // Only the day and its outcome are needed.
    let short: RunSummary = serde_json::from_str(
        r#"{"days": [{"day": "2024-01-05", "outcome": "failed", "error": "lost"}]}"#,
    )
    .unwrap();
    assert_eq!(short.days[0].rows_in, 0);
    assert_eq!(short.first_error().unwrap().1.to_string(), "lost");
    let bad = r#"{"days": [{"day": "2024-02-30", "outcome": "loaded"}]}"#;
    assert!(serde_json::from_str::<RunSummary>(bad).is_err());
    let bad = r#"{"days": [{"day": "2024-01-01", "outcome": "eaten"}]}"#;
    assert!(serde_json::from_str::<RunSummary>(bad).is_err());
    let bad = r#"{"days": [], "elapsed_seconds": -1.0}"#;
    assert!(serde_json::from_str::<RunSummary>(bad).is_err());
}

#[test]
fn merge_adds_up_the_parts_of_each_day() {
    let part = |day: &str, outcome: DayOutcome, rows_in: u64| {
        let mut r = DayReport::new(d(day), outcome);
        r.rows_in = rows_in;
        r.rows_out = 2 * rows_in;
        r.assets = 1;
        r.quality.samples = rows_in;
        r.load = Duration::from_secs(1);
        let mut bad_rows = BadRows::default();
        for line in 0..rows_in % 4 {
            bad_rows.add(std::path::Path::new(day), line, "bad".into());
        }
        RunSummary {
            days: vec![r],
            elapsed: Duration::from_secs(1),
            notes: vec![format!("note {}", rows_in % 2)],
            bad_rows,
        }
    };
    let merged = RunSummary::merge([
        part("2024-01-02", DayOutcome::Loaded, 10),
        part("2024-01-01", DayOutcome::Loaded, 10),
        part("2024-01-01", DayOutcome::Loaded, 5),
        part(
            "2024-01-02",
            DayOutcome::Failed(Error::Reported("a".into())),
            0,
        ),
        part(
            "2024-01-02",
            DayOutcome::Failed(Error::Reported("b".into())),
            0,
        ),
        part("2024-01-03", DayOutcome::Loaded, 0),
        part("2024-01-03", DayOutcome::NoSourceRows, 0),
        part("2024-01-04", DayOutcome::Unchanged, 7),
        part("2024-01-04", DayOutcome::Unchanged, 7),
        part("2024-01-05", DayOutcome::Unchanged, 7),
        part("2024-01-05", DayOutcome::Loaded, 7),
    ]);
    let days: Vec<String> = merged.days.iter().map(|r| r.day.to_string()).collect();
    assert_eq!(
        days,
        [
            "2024-01-01",
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
            "2024-01-05"
        ]
    );
    let outcomes: Vec<&str> = merged.days.iter().map(|r| r.outcome.name()).collect();
    assert_eq!(
        outcomes,
        ["loaded", "failed", "no_source_rows", "unchanged", "loaded"]
    );
    let first = &merged.days[0];
    assert_eq!((first.rows_in, first.rows_out, first.assets), (15, 30, 2));
    assert_eq!(first.quality.samples, 15);
    assert_eq!(first.load, Duration::from_secs(2));
    assert_eq!(merged.days[1].outcome.error().unwrap().to_string(), "a");
    assert_eq!(merged.days[1].rows_in, 10);
    assert_eq!(merged.elapsed, Duration::from_secs(11));
    assert_eq!(merged.rows_in(), 15 + 10 + 14 + 14);
    assert_eq!(merged.rerun_days_text(), "2024-01-02");
    assert_eq!(merged.notes, ["note 0", "note 1"]);
    // 2 + 2 + 1 + 3 + 3 + 3 + 3 bad rows, the first 5 kept.
    assert_eq!(merged.bad_rows.count, 17);
    assert_eq!(merged.bad_rows.first.len(), BAD_ROW_EXAMPLES);
    assert!(RunSummary::merge([]).days.is_empty());
}

#[test]
fn signals_written_add_the_days_data_signals_once_in_order() {
    let day = |s: &str, signals: &[&str]| {
        let mut r = DayReport::new(d(s), DayOutcome::Loaded);
        r.data_signals = signals.iter().map(|s| s.to_string()).collect();
        RunSummary {
            days: vec![r],
            ..RunSummary::default()
        }
    };
    let merged = RunSummary::merge([
        day("2024-01-01", &["s_seconds_3", "s_seconds_1"]),
        day("2024-01-01", &["s_seconds_1", "s_seconds_5"]),
        day("2024-01-02", &["s_seconds_2", "s_seconds_3"]),
    ]);
    assert_eq!(
        merged.days[0].data_signals,
        ["s_seconds_3", "s_seconds_1", "s_seconds_5"]
    );
    let fixed = ["p_mean".to_string(), "s_seconds_nodata".to_string()];
    assert_eq!(
        merged.signals_written(&fixed),
        [
            "p_mean",
            "s_seconds_nodata",
            "s_seconds_3",
            "s_seconds_1",
            "s_seconds_5",
            "s_seconds_2"
        ]
    );
    // Serialised with the day, and read back.
    let json = serde_json::to_string(&merged).unwrap();
    let back: RunSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(back.days[1].data_signals, ["s_seconds_2", "s_seconds_3"]);
}
