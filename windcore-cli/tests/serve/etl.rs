//! ETL through the server: token, days and angles checked as the CLI does,
//! the seed routes.

use serde_json::Value;

use super::support::*;

#[test]
fn token_routes_etl_through_http_and_signals_match_the_direct_run() {
    let dir = tempfile::tempdir().unwrap();
    let src = fresh_db("src");
    let (tgt_http, tgt_direct) = (fresh_db("tgth"), fresh_db("tgtd"));
    for (a, u) in [
        ("--source", &src),
        ("--target", &tgt_http),
        ("--target", &tgt_direct),
    ] {
        let o = cli(dir.path(), &["init", a, u]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let token = "s3cret-token";
    let server = Server::start(&["--source", &src, "--target", &tgt_http, "--token", token]);
    let auth = format!("Bearer {token}");

    // POST /generate: token checks, then demo data.
    let body = r#"{"days": 3, "start": "2024-01-01", "missing_rate": 0.02}"#;
    assert_eq!(server.request("POST", "/generate", &[], body).status, 401);
    let r = server.request(
        "POST",
        "/generate",
        &[("Authorization", "Bearer wrong")],
        body,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = server.request(
        "POST",
        "/generate",
        &[("Authorization", &auth)],
        r#"{"days": "many"}"#,
    );
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("days"))
    );
    let r = server.request("POST", "/generate", &[("Authorization", &auth)], body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rows"], 3 * 1440);

    // The ETL through the HTTP source, as the reference system runs it...
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            &server.url(),
            "--target",
            &tgt_http,
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-03",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("days loaded   3"), "{}", text(&o));
    // ...gives exactly what the direct PostgreSQL extract gives.
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            &src,
            "--target",
            &tgt_direct,
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-03",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (a, b) = (target_rows(&tgt_http), target_rows(&tgt_direct));
    assert!(!a.is_empty());
    assert_eq!(a, b, "HTTP extract and direct extract differ");
    // Without days, an HTTP source is a clear error.
    let o = cli(
        dir.path(),
        &["run", "--source", &server.url(), "--target", &tgt_http],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("cannot list its days"), "{}", text(&o));
    // An HTTP URL cannot be a target.
    let o = cli(
        dir.path(),
        &[
            "run",
            "--source",
            &src,
            "--target",
            &server.url(),
            "--date",
            "2024-01-01",
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("only be read from as a source"),
        "{}",
        text(&o)
    );

    // POST /etl/run replaces a day (idempotent) and reports.
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &auth)],
        r#"{"date": "2024-01-02"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 1);
    assert_eq!(target_rows(&tgt_http), b);
    let r = server.request(
        "POST",
        "/etl/run",
        &[("Authorization", &auth)],
        r#"{"date": "2024-02-30"}"#,
    );
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("date"))
    );

    // GET /signals equals the target table.
    let r = server.get("/signals?start=2024-01-01&end=2024-01-04");
    assert_eq!(r.status, 200, "{}", r.text());
    let rows = r.json();
    let got: Vec<(i64, String, f64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                micros(r["timestamp"].as_str().unwrap()),
                r["signal"].as_str().unwrap().to_string(),
                r["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, b);
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mean&format=csv");
    assert_eq!(r.status, 200);
    let csv = r.text();
    assert_eq!(csv.lines().count(), 1 + 144);
    assert!(csv.lines().skip(1).all(|l| l.contains(",power_mean,")));
    let r = server.get("/signals?start=2024-01-01&end=2024-01-02&signal=power_mode");
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("signal"))
    );
    let r = server.get("/signals/names");
    assert_eq!(r.status, 200);
    let names: Vec<Value> = psql(&tgt_http, "select name from signal order by name")
        .into_iter()
        .map(|r| Value::from(r[0].clone().unwrap()))
        .collect();
    assert!(names.iter().any(|n| n == "wind_speed_std"));
    assert_eq!(r.json().as_array().unwrap(), &names);
    // The token is never logged.
    assert!(!server.log.lock().unwrap().contains(token));
}

#[test]
fn seed_routes_answer_as_ours_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let token = "seed-token";
    let (src, _, server) = served_postgres(dir.path(), "2", token);
    let auth = format!("Bearer {token}");

    // The reference system's ETL route: a list of days, token required.
    let body = r#"{"days": ["2024-01-02", "2024-01-01"]}"#;
    assert_eq!(
        server.request("POST", "/api/run-etl", &[], body).status,
        401
    );
    let r = server.request("POST", "/api/run-etl", &[("Authorization", &auth)], body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 2);

    // Same bytes as our routes, for the same range, in every format.
    for format in ["json", "csv", "arrow"] {
        for (seed, ours) in [
            (
                format!("/api/data?start_date=2024-01-01&end_date=2024-01-01&columns=wind_speed,power&format={format}"),
                format!("/data?start=2024-01-01&end=2024-01-02&variables=wind_speed,power&format={format}"),
            ),
            (
                format!("/api/data?start_date=2024-01-01T12:00:00Z&end_date=2024-01-02T06:00:00Z&format={format}"),
                format!("/data?start=2024-01-01T12:00:00Z&end=2024-01-02T06:00:00Z&format={format}"),
            ),
            (
                format!("/api/signals?start_date=2024-01-01&end_date=2024-01-02&signal_type=wind_speed_mean&format={format}"),
                format!("/signals?start=2024-01-01&end=2024-01-03&signal=wind_speed_mean&format={format}"),
            ),
            (
                format!("/api/signals?start_date=2024-01-02&end_date=2024-01-02&format={format}"),
                format!("/signals?start=2024-01-02&end=2024-01-03&format={format}"),
            ),
        ] {
            let (a, b) = (server.get(&seed), server.get(&ours));
            assert_eq!((a.status, b.status), (200, 200), "{seed}: {}", a.text());
            assert!(b.body.len() > 100, "{ours}");
            assert!(a.body == b.body, "{seed} differs from {ours}");
        }
    }
    let rows = server
        .get("/api/signals?start_date=2024-01-01&end_date=2024-01-02&signal_type=wind_speed_mean")
        .json();
    assert_eq!(rows.as_array().unwrap().len(), 2 * 144);

    // Bad parameters: the same 400 JSON, naming the reference's parameters.
    for (path, param) in [
        ("/api/data?end_date=2024-01-02", "start_date"),
        ("/api/data?start_date=2024-01-01", "end_date"),
        (
            "/api/data?start_date=2024-01-02&end_date=2024-01-01",
            "end_date",
        ),
        (
            "/api/data?start_date=2024-01-01&end_date=2024-03-01",
            "end_date",
        ),
        (
            "/api/data?start_date=soon&end_date=2024-01-01",
            "start_date",
        ),
        (
            "/api/data?start_date=2024-01-01&end_date=2024-01-01&columns=rotor_speed",
            "columns",
        ),
        (
            "/api/data?start_date=2024-01-01&end_date=2024-01-01&format=xml",
            "format",
        ),
        (
            "/api/signals?start_date=2024-01-01&end_date=2024-01-01&signal_type=power_mode",
            "signal_type",
        ),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let j = r.json();
        assert_eq!(j["parameter"], param, "{path}: {j}");
        assert_eq!(j["error"], "invalid_parameter");
    }
    for (body, param) in [
        (r#"{"days": ["2024-02-30"]}"#, "days"),
        (r#"{"days": "soon"}"#, "days"),
        (r#"{"days": []}"#, "days"),
        (r#"{}"#, "days"),
        (r#"{"days": ["2024-01-01"], "date": "2024-01-01"}"#, "date"),
    ] {
        let r = server.request("POST", "/api/run-etl", &[("Authorization", &auth)], body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.json()["parameter"], param, "{body}");
    }
    let r = server.request(
        "POST",
        "/api/generate-data",
        &[("Authorization", &auth)],
        r#"{"days": 1, "frequency": "10min"}"#,
    );
    assert_eq!(
        (r.status, r.json()["parameter"].as_str()),
        (400, Some("frequency"))
    );
    assert_eq!(
        server
            .request("POST", "/api/generate-data", &[], r#"{"days": 1}"#)
            .status,
        401
    );
    let r = server.request(
        "POST",
        "/api/generate-data",
        &[("Authorization", &auth)],
        r#"{"days": 1, "frequency": "1min", "start": "2024-01-03"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rows"], 1440);
    assert_eq!(
        db_rows(&src, "2024-01-03", "2024-01-04", &["power"]).len(),
        1440
    );
    let r = server.request("GET", "/api/run-etl", &[], "");
    assert_eq!(r.status, 405);

    // Documented as aliases.
    let j = server.get("/openapi.json").json();
    for (p, m, alias) in [
        ("/api/data", "get", "/data"),
        ("/api/signals", "get", "/signals"),
        ("/api/run-etl", "post", "/etl/run"),
        ("/api/generate-data", "post", "/generate"),
    ] {
        assert_eq!(j["paths"][p][m]["x-alias-of"], alias, "{p}");
    }
    let names: Vec<&str> = j["paths"]["/api/data"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.starts_with(&["start_date", "end_date", "columns"]),
        "{names:?}"
    );
    let docs = server.get("/docs").text();
    assert!(docs.contains("/api/run-etl") && docs.contains("signal_type"));
    assert!(!server.log.lock().unwrap().contains(token));
}

#[test]
fn etl_route_on_postgres_checks_days_and_angles_as_the_cli_does() {
    let dir = tempfile::tempdir().unwrap();
    let token = "angle-token";
    let (src, tgt, server) = served_postgres(dir.path(), "1", token);
    let auth = format!("Bearer {token}");
    let post = |body: &str| server.request("POST", "/etl/run", &[("Authorization", &auth)], body);

    // Bad angle settings: the same error text as `windcore-cli run`, and nothing written.
    let cases: &[(&str, &[&str], &str)] = &[
        // An angle that is not among the variables given.
        (
            r#"{"date": "2024-01-01", "variables": "wind_speed,power", "angles": "wind_direction"}"#,
            &[
                "--variables",
                "wind_speed,power",
                "--angles",
                "wind_direction",
            ],
            "is not among the variables (wind_speed, power)",
        ),
        // An angle that is not a channel of the source (nor a default variable).
        (
            r#"{"date": "2024-01-01", "angles": ["wind_direction"]}"#,
            &["--angles", "wind_direction"],
            "is not among the variables of this run (wind_speed, power)",
        ),
        // ... also when it is given as a variable.
        (
            r#"{"date": "2024-01-01", "variables": ["power", "wind_direction"], "angles": "wind_direction"}"#,
            &[
                "--variables",
                "power,wind_direction",
                "--angles",
                "wind_direction",
            ],
            "unknown variable `wind_direction`",
        ),
    ];
    for (body, flags, needle) in cases {
        let r = post(body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let detail = r.json()["detail"].as_str().unwrap().to_string();
        let detail = detail.strip_prefix("variables: ").unwrap_or(&detail);
        assert!(detail.contains(needle), "{body}: {detail}");
        let mut args = vec![
            "run",
            "--source",
            &src,
            "--target",
            &tgt,
            "--date",
            "2024-01-01",
        ];
        args.extend_from_slice(flags);
        let o = cli(dir.path(), &args);
        assert!(!o.status.success());
        assert!(
            text(&o).contains(detail),
            "the CLI says {:?}, the API {detail:?}",
            text(&o)
        );
    }
    assert!(target_rows(&tgt).is_empty());

    // Good angle settings run.
    let r = post(r#"{"date": "2024-01-01", "variables": "wind_speed,power", "angles": "power"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["loaded"], 1);

    // The days are read as every front door reads them.
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"date": "2024-13-01"}"#,
            "date",
            "invalid date: `2024-13-01` is not a date of the form YYYY-MM-DD",
        ),
        (
            r#"{"from": "2024-01-01"}"#,
            "to",
            "a range needs its last day",
        ),
        (
            r#"{"to": "2024-01-01"}"#,
            "from",
            "a range needs its first day",
        ),
        (
            r#"{"date": "2024-01-01", "from": "2024-01-01", "to": "2024-01-02"}"#,
            "date",
            "not both",
        ),
        (
            r#"{"from": "2024-01-05", "to": "2024-01-01"}"#,
            "to",
            "is empty",
        ),
        (
            r#"{"from": "2024-01-01", "to": "2024-02-30"}"#,
            "to",
            "invalid date",
        ),
        (
            r#"{}"#,
            "date",
            "give either `date` or both `from` and `to`",
        ),
        (r#"{"date": 20240101}"#, "date", "must be a string"),
    ];
    for (body, param, needle) in cases {
        let r = post(body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let j = r.json();
        assert_eq!(j["parameter"], *param, "{body}: {j}");
        assert!(
            j["detail"].as_str().unwrap().contains(needle),
            "{body}: {j}"
        );
    }
}
