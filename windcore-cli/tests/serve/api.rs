//! The data routes on PostgreSQL: formats, bad requests, local days, coverage,
//! assets, availability.

use windcore::{Day, Extract, HttpFormat, HttpSource, PostgresSource};

use super::support::*;

#[test]
fn data_in_json_csv_and_arrow_matches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "2");
    let server = Server::start(&["--source", &src]);

    let h = server.get("/health");
    assert_eq!(h.status, 200, "{}", h.text());
    assert_eq!(h.json()["status"], "ok");

    // JSON, variables repeated; a range across midnight.
    let (start, end) = ("2024-01-01T12:00:00Z", "2024-01-02T12:00:00Z");
    let expected = db_rows(&src, start, end, &["wind_speed", "power"]);
    assert_eq!(expected.len(), 1440);
    let r = server.get(&format!(
        "/data?start={start}&end={end}&variables=wind_speed&variables=power"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    let mut nulls = 0;
    for (row, (t, vals)) in rows.iter().zip(&expected) {
        assert_eq!(micros(row["timestamp"].as_str().unwrap()), *t);
        for (name, v) in ["wind_speed", "power"].iter().zip(vals) {
            assert_eq!(row[*name].as_f64(), *v, "{name} at {t}");
            nulls += v.is_none() as usize;
        }
        assert!(row.get("ambient_temperature").is_none());
    }
    assert!(nulls > 0, "the demo data has missing values");

    // CSV through the Accept header, comma-separated variables, date bounds.
    let expected = db_rows(
        &src,
        "2024-01-02",
        "2024-01-03",
        &["power", "ambient_temperature"],
    );
    let r = server.request(
        "GET",
        "/data?start=2024-01-02&end=2024-01-03&variables=power,ambient_temperature",
        &[("Accept", "text/csv")],
        "",
    );
    assert_eq!(r.status, 200);
    let csv = r.text();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("timestamp,power,ambient_temperature"));
    let mut n = 0;
    for (line, (t, vals)) in lines.zip(&expected) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(micros(f[0]), *t);
        for (cell, v) in f[1..].iter().zip(vals) {
            let got = if cell.is_empty() {
                None
            } else {
                Some(cell.parse::<f64>().unwrap())
            };
            assert_eq!(got, *v);
        }
        n += 1;
    }
    assert_eq!(n, 1440);

    // All variables by default; an empty range is an empty array.
    let r = server.get("/data?start=2023-01-01&end=2023-01-02");
    assert_eq!((r.status, r.text().as_str()), (200, "[]"));

    // Arrow and JSON through HttpSource equal the direct PostgreSQL extract.
    rt().block_on(async {
        let pg = PostgresSource::connect(&src).await.unwrap();
        let vars: Vec<String> = ["wind_speed", "power", "ambient_temperature"]
            .map(String::from)
            .to_vec();
        let day: Day = "2024-01-02".parse().unwrap();
        let direct = pg.extract(day.range(), &vars).await.unwrap();
        for format in [HttpFormat::Arrow, HttpFormat::Json] {
            let http = HttpSource::new(&server.url()).unwrap().format(format);
            let got = http.extract(day.range(), &vars).await.unwrap();
            assert!(got.equals_missing(&direct), "{format:?}:\n{got}\n{direct}");
        }
        // An empty day decodes to an empty frame with the right columns.
        let empty: Day = "2023-06-01".parse().unwrap();
        let got = HttpSource::new(&server.url())
            .unwrap()
            .extract(empty.range(), &vars)
            .await
            .unwrap();
        assert_eq!(got.height(), 0);
        assert_eq!(got.width(), 4);
    });

    // Arrow with format=arrow: a valid IPC stream (checked by HttpSource above), right type.
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&format=arrow");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.apache.arrow.stream")
    );
    assert!(r.body.ends_with(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));

    // One access-log line per request, no password.
    let log = server.wait_log("\"GET /health\" 200");
    assert!(log.contains("\"GET /health\" 200"), "{log}");
    let pw = &src[src.find("://").unwrap() + 3..src.rfind('@').unwrap()];
    assert!(
        !log.contains(pw.split_once(':').unwrap().1),
        "password leaked into the log"
    );
}

#[test]
fn bad_requests_are_400_json_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let src = setup_source(dir.path(), "1");
    let server = Server::start(&["--source", &src, "--max-range-days", "31"]);
    let cases: &[(&str, &str)] = &[
        ("/data?end=2024-01-02", "start"),
        ("/data?start=2024-01-01", "end"),
        ("/data?start=yesterday&end=2024-01-02", "start"),
        ("/data?start=2024-01-01&end=2024-13-01", "end"),
        ("/data?start=2024-01-02&end=2024-01-01", "end"),
        ("/data?start=2024-01-01&end=2024-01-01", "end"),
        ("/data?start=2024-01-01&end=2024-03-01", "end"),
        (
            "/data?start=2024-01-01&end=2024-01-02&variables=power;drop%20table%20data",
            "variables",
        ),
        (
            "/data?start=2024-01-01&end=2024-01-02&variables=power,rotor_speed",
            "variables",
        ),
        ("/data?start=2024-01-01&end=2024-01-02&format=xml", "format"),
        (
            "/data?start=2024-01-01&start=2024-01-02&end=2024-01-03",
            "start",
        ),
    ];
    for (path, param) in cases {
        let r = server.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let j = r.json();
        assert!(
            j["error"].is_string() && j["detail"].is_string(),
            "{path}: {j}"
        );
        assert_eq!(j["parameter"], *param, "{path}: {j}");
        assert!(j["detail"].as_str().unwrap().contains(param), "{path}: {j}");
    }
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&colour=red");
    assert_eq!(r.status, 400);
    assert!(r.json()["detail"].as_str().unwrap().contains("colour"));
    // The table survived the injection attempt.
    assert_eq!(
        db_rows(&src, "2024-01-01", "2024-01-02", &["power"]).len(),
        1440
    );

    let r = server.get("/nope");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "not_found");
    let r = server.request("POST", "/data", &[], "");
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error"], "method_not_allowed");
    assert!(
        r.header("allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        r.headers
    );
    let r = server.get("/etl/run");
    assert_eq!(r.status, 405);
    // Without --token the POST routes are off; without --target /signals is 503.
    let r = server.request("POST", "/generate", &[("Authorization", "Bearer x")], "{}");
    assert_eq!(r.status, 403, "{}", r.text());
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "no_target");
    // Docs.
    let r = server.get("/openapi.json");
    assert_eq!(r.status, 200);
    let j = r.json();
    for p in [
        "/data",
        "/signals",
        "/signals/names",
        "/etl/run",
        "/generate",
        "/health",
    ] {
        assert!(j["paths"][p].is_object(), "{p} missing from openapi.json");
    }
    let r = server.get("/docs");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("/data") && r.text().contains("variables"));
}

#[test]
fn dates_of_the_api_are_local_days_of_the_timezone_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(
        dir.path(),
        &["generate", "--days", "3", "--start", "2025-10-25", "-q"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let store = dir.path().join("windcore-data");
    let store = store.to_str().unwrap();
    let token = "tz-token";
    let server = Server::start(&["--source", store, "--target", store, "--token", token]);
    // Berlin's 2025-10-26 has 25 hours of 1-minute samples.
    let q = "/data?start=2025-10-26&end=2025-10-27&variables=power&timezone=Europe/Berlin";
    let rows = server.get(q).json();
    assert_eq!(rows.as_array().unwrap().len(), 25 * 60);
    assert_eq!(rows[0]["timestamp"], "2025-10-25T22:00:00Z");
    // The seed route's inclusive end date, in the zone, too.
    let q =
        "/api/data?start_date=2025-10-26&end_date=2025-10-26&columns=power&timezone=Europe/Berlin";
    assert_eq!(server.get(q).json().as_array().unwrap().len(), 25 * 60);
    let r = server.get("/data?start=2025-10-26&end=2025-10-27&timezone=Mars/Olympus");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["parameter"], "timezone");
    // The ETL of a local day: 150 windows.
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &format!("Bearer {token}"))],
        r#"{"date": "2025-10-26", "timezone": "Europe/Berlin", "stats": "mean"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let q = "/signals?start=2025-10-26&end=2025-10-27&signal=power_mean&timezone=Europe/Berlin";
    assert_eq!(server.get(q).json().as_array().unwrap().len(), 150);
}

#[test]
fn coverage_counts_the_windows_of_local_days() {
    let dir = tempfile::tempdir().unwrap();
    // Three UTC days around each change; the ETL of the local day in between.
    for (start, day) in [("2025-03-29", "2025-03-30"), ("2025-10-25", "2025-10-26")] {
        let o = cli(
            dir.path(),
            &["generate", "--days", "3", "--start", start, "-q"],
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = cli(
            dir.path(),
            &["run", "--date", day, "--timezone", "Europe/Berlin", "-q"],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let store = dir.path().join("windcore-data");
    let store = store.to_str().unwrap();
    let server = Server::start(&["--source", store, "--target", store]);
    for (day, n) in [("2025-03-30", 138), ("2025-10-26", 150)] {
        let c = server
            .get(&format!(
                "/coverage?from={day}&to={day}&timezone=Europe/Berlin"
            ))
            .json();
        assert_eq!(c["timezone"], "Europe/Berlin");
        assert_eq!(c["every"], "10m");
        let d = &c["days"][0];
        assert_eq!(d["day"], day);
        assert_eq!(d["source"], true);
        assert_eq!(d["expected_windows"], n, "{c}");
        assert_eq!(d["windows"][""], n, "{c}");
        // Hourly windows: 23 or 25.
        let c = server
            .get(&format!(
                "/coverage?from={day}&to={day}&timezone=Europe/Berlin&every=1h"
            ))
            .json();
        assert_eq!(c["days"][0]["expected_windows"], n / 6, "{c}");
        // A UTC day has 144 windows.
        let c = server.get(&format!("/coverage?from={day}&to={day}")).json();
        assert_eq!(c["days"][0]["expected_windows"], 144, "{c}");
        assert_eq!(c["expected_windows"], 144);
    }
    // The next Berlin day is a day of 24 hours again.
    let c = server
        .get("/coverage?from=2025-10-27&to=2025-10-27&timezone=Europe/Berlin")
        .json();
    assert_eq!(c["days"][0]["expected_windows"], 144, "{c}");
    let r = server.get("/coverage?every=7m");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("every"))
    );
    let r = server.get("/coverage?timezone=Mars/Olympus");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("timezone"))
    );
}

#[test]
fn assets_lists_every_turbine_of_every_day() {
    let dir = tempfile::tempdir().unwrap();
    // Three turbines, then a newest day with two of them.
    for (turbines, start, days) in [("3", "2024-01-01", "2"), ("2", "2024-01-03", "1")] {
        let o = cli(
            dir.path(),
            &[
                "generate",
                "--turbines",
                turbines,
                "--days",
                days,
                "--start",
                start,
                "-q",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let store = dir.path().join("windcore-data");
    let store = store.to_str().unwrap();
    let server = Server::start(&["--source", store, "--target", store]);
    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["T01", "T02", "T03"])
    );
    let c = server.get("/coverage").json();
    assert_eq!(c["assets"], serde_json::json!(["T01", "T02", "T03"]));
}

/// `GET /availability` against the seconds written into the target, summed
/// here: per (day, turbine) the ratio of the sums, never the mean of the
/// windows' ratios.
#[test]
fn availability_per_turbine_and_day_is_the_ratio_of_the_sums() {
    use windcore::polars::prelude::*;
    use windcore::Load;

    let dir = tempfile::tempdir().unwrap();
    // Wind speed and power only (a bare `run` of this farm would be the demo
    // run, which writes availability signals of its own).
    let store_dir = generated_farm(dir.path());
    // Availability signals for T01 and T02 (not T03): window k of day d has
    // available = (k * 37 + d * 11) % 601 s, unavailable = the rest of 600 s
    // on every third window, else 0, excluded = what is left.
    let names = [
        "available_seconds",
        "unavailable_seconds",
        "excluded_seconds",
        "unknown_seconds",
    ];
    let mut want: std::collections::BTreeMap<(String, String), (f64, f64, f64)> =
        Default::default();
    let target = windcore::LocalStore::new(&store_dir).target();
    let rt = rt();
    for (d, day) in ["2024-01-01", "2024-01-02"].iter().enumerate() {
        let day: Day = day.parse().unwrap();
        let (mut asset, mut ts, mut signal, mut value) = (vec![], vec![], vec![], vec![]);
        for a in ["T01", "T02"] {
            for k in 0..144i64 {
                let avail = ((k * 37 + d as i64 * 11) % 601) as f64;
                let unavail = if k % 3 == 0 { 600.0 - avail } else { 0.0 };
                let excluded = 600.0 - avail - unavail;
                let t = day.start().timestamp_micros() + k * 600_000_000;
                for (n, v) in names.iter().zip([avail, unavail, excluded, 0.0]) {
                    asset.push(a);
                    ts.push(t);
                    signal.push(*n);
                    value.push(v);
                }
                let e = want.entry((day.to_string(), a.to_string())).or_default();
                e.0 += avail;
                e.1 += unavail;
                e.2 += excluded;
            }
        }
        let ts = Int64Chunked::from_vec("timestamp".into(), ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        let df = DataFrame::new_infer_height(vec![
            Column::new("asset".into(), asset),
            ts.into_series().into(),
            Column::new("signal".into(), signal),
            Column::new("value".into(), value),
        ])
        .unwrap();
        let signals: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        rt.block_on(target.load(day.range(), &signals, &df))
            .unwrap();
    }
    let store = store_dir.to_str().unwrap();
    let server = Server::start(&["--source", store, "--target", store]);
    let j = server
        .get("/availability?from=2024-01-01&to=2024-01-02")
        .json();
    assert_eq!(j["assets"], serde_json::json!(["T01", "T02"]), "{j}");
    assert_eq!(j["days"].as_array().unwrap().len(), 2);
    let mut total: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for d in j["days"].as_array().unwrap() {
        let day = d["day"].as_str().unwrap();
        assert!(d["assets"].get("T03").is_none(), "{d}");
        for a in ["T01", "T02"] {
            let got = &d["assets"][a];
            let (av, un, ex) = want[&(day.to_string(), a.to_string())];
            assert_eq!(got["available_seconds"], av, "{day} {a}");
            assert_eq!(got["unavailable_seconds"], un, "{day} {a}");
            assert_eq!(got["excluded_seconds"], ex, "{day} {a}");
            assert_eq!(got["unknown_seconds"], 0.0, "{day} {a}");
            assert_eq!(got["windows"], 144, "{day} {a}");
            let ratio = got["availability"].as_f64().unwrap();
            assert!((ratio - av / (av + un)).abs() < 1e-12, "{day} {a}");
            let t = total.entry(a.to_string()).or_default();
            t.0 += av;
            t.1 += un;
        }
    }
    for (a, (av, un)) in &total {
        let got = j["total"][a]["availability"].as_f64().unwrap();
        assert!((got - av / (av + un)).abs() < 1e-12, "{a}");
    }
    // A bad day names its parameter.
    let r = server.get("/availability?from=2024-13-01");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("from"))
    );
    let r = server.get("/availability?from=2024-01-02&to=2024-01-01");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("to"))
    );
    // A day without availability signals has no entries.
    let j = server
        .get("/availability?from=2023-12-31&to=2023-12-31")
        .json();
    assert_eq!(j["days"][0]["assets"], serde_json::json!({}));
    assert_eq!(j["total"], serde_json::json!({}));
    let docs = server.get("/openapi.json").json();
    assert!(docs["paths"]["/availability"]["get"].is_object());
    drop(server);
    let bare = Server::start(&["--source", store]);
    let r = bare.get("/availability");
    assert_eq!(r.status, 503, "{}", r.text());
}
