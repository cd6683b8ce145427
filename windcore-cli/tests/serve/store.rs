//! The embedded store and files as sources.

use std::time::Duration;

use super::support::*;

#[test]
fn serve_without_arguments_fills_and_serves_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    // No argument at all: the address comes from the environment, as a
    // service manager would give it.
    let server = Server::start_in(dir.path(), &[], &[("WINDCORE_BIND", "127.0.0.1:0")]);
    let r = wait_ok(&server, "/signals?start=2024-01-03&end=2024-01-04");
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "statistics served after {:?}",
        t.elapsed()
    );
    let log = server.wait_log("is empty: generating 10 days");
    assert!(log.contains("is empty: generating 10 days"), "{log}");
    assert!(dir
        .path()
        .join("windcore-data/target/2024-01-10.parquet")
        .exists());
    // The day's statistics are the store's: the demo farm's, of the demo run
    // (wind speed, power, the wind direction, energy, states, availability).
    {
        use windcore::polars::prelude::*;
        let file = dir.path().join("windcore-data/target/2024-01-03.parquet");
        let tgt = ParquetReader::new(std::fs::File::open(file).unwrap())
            .finish()
            .unwrap();
        assert_eq!(rows.len(), tgt.height());
        let names: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r["signal"].as_str().unwrap()).collect();
        for n in [
            "wind_speed_mean",
            "power_std",
            "wind_direction_mean",
            "energy_delta",
            "state_seconds_1",
            "availability",
        ] {
            assert!(names.contains(n), "{n} not in {names:?}");
        }
        let mean = rows.iter().filter(|r| r["signal"] == "power_mean").count();
        assert_eq!(mean, windcore::DEMO_TURBINES as usize * 144);
    }

    // The dashboard and its embedded files, named by their content's hash.
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("windcore") && html.contains("id=\"charts\""));
    let scripts: Vec<&str> = html
        .split("src=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(scripts.len(), 2, "{scripts:?}");
    for s in scripts {
        assert!(s.starts_with("/static/") && !s.contains("//"), "{s}");
        let f = server.get(s);
        assert_eq!(f.status, 200, "{s}");
        assert!(f.header("content-type").unwrap().contains("javascript"));
        assert!(f.header("cache-control").unwrap().contains("immutable"));
        assert!(f.body.len() > 1000);
    }
    assert!(html.contains("uPlot.iife.min."));
    assert_eq!(server.get("/static/uPlot.iife.min.js").status, 404);

    // Coverage: ten complete days of each of the demo farm's turbines.
    let c = server.get("/coverage").json();
    let days = c["days"].as_array().unwrap();
    assert_eq!(days.len(), windcore::DEMO_DAYS as usize);
    let assets = serde_json::json!(["T01", "T02", "T03"]);
    assert_eq!(
        assets.as_array().unwrap().len(),
        windcore::DEMO_TURBINES as usize
    );
    assert!(days.iter().all(|d| d["source"] == true
        && assets
            .as_array()
            .unwrap()
            .iter()
            .all(|a| d["windows"][a.as_str().unwrap()] == 144)));
    assert_eq!(server.get("/assets").json(), assets);
    // Availability per turbine and day, out of the box.
    let a = server.get("/availability?from=2024-01-01&to=2024-01-10");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["assets"], assets);
    // Without a token the jobs are off, as on PostgreSQL.
    let r = server.request("POST", "/etl/run", &[], r#"{"date": "2024-01-01"}"#);
    assert_eq!(r.status, 403);
    let info = server.get("/info").json();
    assert_eq!(info["jobs_enabled"], false);
    assert_eq!(info["max_range_days"], 31);

    // A second start on the filled store does not generate again.
    drop(server);
    let server = Server::start_in(dir.path(), &[], &[("WINDCORE_BIND", "127.0.0.1:0")]);
    wait_ok(&server, "/health");
    assert!(!server.log.lock().unwrap().contains("is empty"));
}

#[test]
fn a_day_run_again_on_the_demo_store_is_the_demo_run_s() {
    // `serve` in an empty folder with a token: the demo store. Running a day
    // again over HTTP without naming channels writes what the demo run wrote
    // (the direction as an angle, energy, states, availability), as
    // `windcore-cli run` there does, not the default wind speed and power.
    use windcore::polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let token = "demo-token";
    let server = Server::start_in(
        dir.path(),
        &["--token", token],
        &[("WINDCORE_BIND", "127.0.0.1:0")],
    );
    wait_ok(&server, "/signals?start=2024-01-02&end=2024-01-03");
    let file = dir.path().join("windcore-data/target/2024-01-02.parquet");
    let read = || {
        ParquetReader::new(std::fs::File::open(&file).unwrap())
            .finish()
            .unwrap()
            .sort(["asset", "timestamp", "signal"], Default::default())
            .unwrap()
    };
    let before = read();
    let auth = format!("Bearer {token}");
    let run = |body: &str| {
        let r = server.request("POST", "/etl/run", &[("Authorization", &auth)], body);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    // The day's statistics lost: running it again brings back every one.
    std::fs::remove_file(&file).unwrap();
    let summary = run(r#"{"date": "2024-01-02"}"#);
    assert_eq!(summary["loaded"], 1);
    assert!(
        read().equals_missing(&before),
        "the day differs from the demo run's"
    );
    let signals = summary["signals"].to_string();
    for s in ["energy_delta", "state_seconds_1", "availability"] {
        assert!(signals.contains(s), "{s} not in {signals}");
    }
    // A request that names its channels gets those, as asked (a load
    // replaces the rows of the signals it writes; the others stay).
    let summary = run(r#"{"date": "2024-01-02", "variables": ["wind_speed"]}"#);
    assert_eq!(
        summary["signals"],
        serde_json::json!([
            "wind_speed_mean",
            "wind_speed_min",
            "wind_speed_max",
            "wind_speed_std"
        ])
    );
    assert!(read().equals_missing(&before));
}

#[test]
fn embedded_farm_assets_signals_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    // The variables the server's ETL route runs by default.
    let store = generated_farm(dir.path());
    let store = store.to_str().unwrap();
    let token = "farm-token";
    let server = Server::start(&["--source", store, "--target", store, "--token", token]);
    let auth = format!("Bearer {token}");

    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["T01", "T02", "T03"])
    );
    // /data: the asset column, and a filter on it.
    let all = server.get("/data?start=2024-01-01&end=2024-01-02&variables=power");
    let all = all.json();
    assert_eq!(all.as_array().unwrap().len(), 3 * 1440);
    assert!(all[0]["asset"].is_string());
    let r =
        server.get("/data?start=2024-01-01&end=2024-01-02&variables=power&asset=T02&format=csv");
    assert_eq!(r.status, 200);
    let csv = r.text();
    assert_eq!(csv.lines().next(), Some("timestamp,asset,power"));
    assert_eq!(csv.lines().count(), 1 + 1440);
    assert!(csv
        .lines()
        .skip(1)
        .all(|l| l.split(',').nth(1) == Some("T02")));
    // Farm channels are variables; unknown ones are refused.
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&variables=wind_direction&asset=T01");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = server.get("/data?start=2024-01-01&end=2024-01-02&variables=rotor_speed");
    assert_eq!(r.json()["parameter"], "variables");

    // /signals on the embedded target, per asset.
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mean&asset=T03");
    assert_eq!(r.status, 200, "{}", r.text());
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 144);
    assert!(rows
        .iter()
        .all(|r| r["asset"] == "T03" && r["signal"] == "power_mean"));
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mode");
    assert_eq!(r.json()["parameter"], "signal");
    let names = server.get("/signals/names").json();
    assert!(names
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "wind_speed_std"));
    let c = server.get("/coverage").json();
    assert_eq!(c["assets"], serde_json::json!(["T01", "T02", "T03"]));
    assert_eq!(c["days"][1]["windows"]["T02"], 144);

    // POST /etl/run on the embedded target rewrites the day, exactly.
    let day_file = dir.path().join("windcore-data/target/2024-01-02.parquet");
    let before = server
        .get("/signals?start=2024-01-02&end=2024-01-03&format=csv")
        .text();
    std::fs::remove_file(&day_file).unwrap();
    let c = server.get("/coverage").json();
    assert_eq!(c["days"][1]["windows"], serde_json::json!({}));
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &auth)],
        r#"{"date": "2024-01-02"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 1);
    assert!(day_file.exists());
    let after = server
        .get("/signals?start=2024-01-02&end=2024-01-03&format=csv")
        .text();
    assert_eq!(before, after);

    // POST /generate keeps the farm a farm.
    let r = server.request(
        "POST",
        "/generate",
        &[("Authorization", &auth)],
        r#"{"days": 1, "start": "2024-01-03"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["turbines"], 3);
    assert_eq!(r.json()["rows"], 3 * 1440);

    // The ETL reading a farm through this API (Arrow) keeps the turbines
    // apart, farm channels included, and equals the direct run's target.
    let out = tempfile::tempdir().unwrap();
    let run_from = |source: &str, target: &str| {
        let o = cli(
            out.path(),
            &[
                "run",
                "--source",
                source,
                "--target",
                target,
                "--date",
                "2024-01-01",
                "--variables",
                "power,wind_direction",
                "--angles",
                "wind_direction",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        o
    };
    let o = run_from(&server.url(), "via-api");
    assert!(text(&o).contains("432 windows"), "{}", text(&o));
    run_from(store, "direct");
    let via_api = std::fs::read(out.path().join("via-api/target/2024-01-01.parquet")).unwrap();
    let direct = std::fs::read(out.path().join("direct/target/2024-01-01.parquet")).unwrap();
    assert!(
        via_api == direct,
        "the target via the API differs from the direct run's"
    );
}

#[test]
fn serves_the_raw_samples_of_files_read_once() {
    let dir = tempfile::tempdir().unwrap();
    // A farm export: `;`, decimal commas, local offsets, a comment line.
    let farm = dir.path().join("farm.csv");
    std::fs::write(
        &farm,
        "# export of the farm\n\
         Date and time;turbine;Power (kW);Wind speed (m/s)\n\
         2024-03-01T01:00:00+01:00;T01;100,5;5,5\n\
         2024-03-01T01:00:00+01:00;T02;200,25;6\n\
         2024-03-01T01:01:00+01:00;T01;101;5,25\n\
         2024-03-01T01:01:00+01:00;T02;;6,5\n\
         2024-03-02T12:00:00+01:00;T01;50;4\n",
    )
    .unwrap();
    let server = Server::start(&[
        "--source",
        farm.to_str().unwrap(),
        "--time-column",
        "Date and time",
        "--asset-column",
        "turbine",
    ]);
    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["T01", "T02"])
    );
    let info = server.get("/info").json();
    assert_eq!(
        info["variables"],
        serde_json::json!(["Power (kW)", "Wind speed (m/s)"])
    );
    // Read once, when the server started: the file is not read again.
    std::fs::remove_file(&farm).unwrap();
    let r = server.get("/data?start=2024-03-01&end=2024-03-02&variables=Power%20(kW)");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!([
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "T01", "Power (kW)": 100.5},
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "T02", "Power (kW)": 200.25},
            {"timestamp": "2024-03-01T00:01:00Z", "asset": "T01", "Power (kW)": 101.0},
            {"timestamp": "2024-03-01T00:01:00Z", "asset": "T02", "Power (kW)": null},
        ])
    );
    let r = server.get("/data?start=2024-03-02&end=2024-03-03&asset=T01&format=csv");
    assert_eq!(r.status, 200, "{}", r.text());
    let lines: Vec<String> = r.text().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].starts_with("2024-03-02T11:00:00Z,T01,"),
        "{lines:?}"
    );
    let c = server.get("/coverage?from=2024-03-01&to=2024-03-03").json();
    let has: Vec<bool> = c["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["source"].as_bool().unwrap())
        .collect();
    assert_eq!(has, [true, true, false], "{c}");
    assert_eq!(server.get("/health").status, 200);

    // Per-turbine files, the turbine named only in the file name.
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    for (t, p) in [("WT1", "1.5"), ("WT2", "2.5")] {
        std::fs::write(
            exports.join(format!("Turbine_{t}_2024.csv")),
            format!("timestamp,power\n2024-03-01 00:00:00,{p}\n"),
        )
        .unwrap();
    }
    let glob = exports.join("*.csv");
    let server = Server::start(&[
        "--source",
        glob.to_str().unwrap(),
        "--asset-pattern",
        r"Turbine_(\w+?)_",
    ]);
    assert_eq!(
        server.get("/assets").json(),
        serde_json::json!(["WT1", "WT2"])
    );
    let rows = server.get("/data?start=2024-03-01&end=2024-03-02").json();
    assert_eq!(
        rows,
        serde_json::json!([
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "WT1", "power": 1.5},
            {"timestamp": "2024-03-01T00:00:00Z", "asset": "WT2", "power": 2.5},
        ])
    );
}
