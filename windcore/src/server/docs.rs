//! `GET /openapi.json` and the human-readable `GET /docs`, from one description.

use axum::response::Html;
use serde_json::{json, Value};

struct Param {
    name: &'static str,
    required: bool,
    doc: &'static str,
}

struct Route {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    params: &'static [Param],
    body: Option<&'static str>,
    auth: bool,
    /// The windcore route this one is an alias of (the reference system's routes).
    alias_of: Option<&'static str>,
}

const RANGE_DOC: &str = "RFC 3339 timestamp (2024-01-01T00:00:00Z; other offsets are converted to UTC, naive times are UTC) or a date (2024-01-01 = midnight UTC)";
const TZ_DOC: &str = "IANA time zone (e.g. Europe/Berlin) in which dates and naive timestamps of this request are read: a date is its local midnight, so a day has 23 or 25 hours on DST days; UTC when omitted";
const ASSET_DOC: &str = "only these assets (turbines) of a farm; repeat or separate with commas; all when omitted. A source of one asset has no asset column and refuses this parameter";
const SEED_END_DOC: &str = "a date includes that whole day (2024-01-02 = up to 2024-01-03T00:00:00Z, exclusive); a timestamp is an exclusive end as in /data";

const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/",
        summary: "The dashboard: charts of the raw samples with the 10-minute mean, min–max and ± std, the operator's charts (power curve, wind rose, one channel of every turbine, availability per turbine and day), the table of statistics, a coverage calendar, and (with the token) ETL and generate actions. It reads the routes below.",
        params: &[],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/data",
        summary: "Raw 1-minute samples with start <= timestamp < end, ordered by time, streamed one UTC day at a time. Columns: timestamp, asset (for a farm: a source with an asset column), then the variables. JSON (array of objects) by default; CSV or Arrow IPC stream with format= or the Accept header (text/csv, application/vnd.apache.arrow.stream). Missing values are null (JSON) or empty (CSV).",
        params: &[
            Param { name: "start", required: true, doc: RANGE_DOC },
            Param { name: "end", required: true, doc: "exclusive end, same forms as start; the range may not exceed the server's maximum (default 31 days)" },
            Param { name: "variables", required: false, doc: "the source's channels, e.g. wind_speed, power, ambient_temperature; repeat the parameter or separate with commas; all when omitted" },
            Param { name: "asset", required: false, doc: ASSET_DOC },
            Param { name: "format", required: false, doc: "json (default), csv or arrow" },
            Param { name: "timezone", required: false, doc: TZ_DOC },
        ],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/signals",
        summary: "10-minute statistics from the target (long form: timestamp, asset for a farm, signal, value), streamed one UTC day at a time. Needs a target.",
        params: &[
            Param { name: "start", required: true, doc: RANGE_DOC },
            Param { name: "end", required: true, doc: "exclusive end, same forms as start" },
            Param { name: "signal", required: false, doc: "signal names such as power_mean; repeat or separate with commas; all when omitted" },
            Param { name: "asset", required: false, doc: "only these assets; repeat or separate with commas (adds the asset column)" },
            Param { name: "format", required: false, doc: "json (default), csv or arrow" },
            Param { name: "timezone", required: false, doc: TZ_DOC },
        ],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/signals/names",
        summary: "The signal names the target holds (JSON array). Needs a target.",
        params: &[],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "post",
        path: "/etl/run",
        summary: "Runs the ETL for a day or a range of days (each day replaced atomically) and returns its summary. Needs a target and the bearer token.",
        params: &[],
        body: Some("{\"date\": \"2024-01-01\"} or {\"from\": \"2024-01-01\", \"to\": \"2024-01-10\"}; optional \"variables\" (list or comma-separated, default wind_speed,power; on the default store of windcore-cli serve holding the demo channels, no channels named: the demo run's settings), \"angles\" (the variables that are angles in degrees: circular statistics; each must be one of the variables) and \"stats\" (comma-separated, default mean,min,max,std); optional \"timezone\" (IANA name): the days are local days of that zone"),
        auth: true,
        alias_of: None,
    },
    Route {
        method: "post",
        path: "/generate",
        summary: "Fills the source with seeded demo data, replacing those days. Needs the bearer token.",
        params: &[],
        body: Some("{\"days\": 10, \"start\": \"2024-01-01\", \"seed\": 42, \"missing_rate\": 0.0, \"turbines\": 1}, every field optional (an embedded farm store keeps its number of turbines)"),
        auth: true,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/assets",
        summary: "The assets (turbines) of the source, on any day, a JSON array; empty for a source of one asset.",
        params: &[],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/coverage",
        summary: "Per day from `from` to `to` (local days of `timezone`, UTC by default): whether the source has samples, the windows the target holds per asset, and the windows of a complete day (its length over `every`: 144 ten-minute windows, 138 or 150 on the days the clocks change by an hour). JSON {first, last, timezone, every, expected_windows (of a 24-hour day), assets, days: [{day, source, expected_windows, windows: {asset: n}}]}.",
        params: &[
            Param { name: "from", required: false, doc: "first day (YYYY-MM-DD); default the source's first day (at most a year before its last)" },
            Param { name: "to", required: false, doc: "last day, included; default the source's last day; at most 366 days" },
            Param { name: "timezone", required: false, doc: "IANA time zone (e.g. Europe/Berlin) of the days, as the ETL run's `timezone`: a day is [local 00:00, next local 00:00); UTC when omitted" },
            Param { name: "every", required: false, doc: "the window length of the statistics, e.g. 10m, 1h (default 10m); it must divide a day" },
        ],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/availability",
        summary: "Time-based availability (IEC 61400-26-1) per asset and day from `from` to `to` (local days of `timezone`, UTC by default), from the windows' availability signals (written by a run with an availability mapping): the sums of the windows' available_seconds, unavailable_seconds, excluded_seconds and unknown_seconds, and availability = available / (available + unavailable) of those sums, null when both are 0 (never a mean of the windows' ratios). A window belongs to the day of its start. JSON {first, last, timezone, assets, days: [{day, assets: {asset: {availability, available_seconds, unavailable_seconds, excluded_seconds, unknown_seconds, windows}}}], total: {asset: {the same over the range}}}; a (day, asset) without availability signals is left out. Needs a target.",
        params: &[
            Param { name: "from", required: false, doc: "first day (YYYY-MM-DD); default as for /coverage: the source's first day (at most a year before its last)" },
            Param { name: "to", required: false, doc: "last day, included; default the source's last day; at most 366 days" },
            Param { name: "timezone", required: false, doc: "IANA time zone (e.g. Europe/Berlin) of the days: a day is [local 00:00, next local 00:00); UTC when omitted" },
        ],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/info",
        summary: "The server: version, source and target (passwords masked), whether the POST routes are enabled, limits, the source's variables, and the generated demo farm's state codes with their names (`states`: [[1, \"running\"], …]).",
        params: &[],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/health",
        summary: "Checks the source and target: 200 when reachable, 503 otherwise, with details.",
        params: &[],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/api/data",
        summary: "The reference system's route for samples: the same rows as /data for the same range.",
        params: &[
            Param { name: "start_date", required: true, doc: RANGE_DOC },
            Param { name: "end_date", required: true, doc: SEED_END_DOC },
            Param { name: "columns", required: false, doc: "variables, as /data's `variables`" },
            Param { name: "asset", required: false, doc: ASSET_DOC },
            Param { name: "format", required: false, doc: "json (default), csv or arrow" },
            Param { name: "timezone", required: false, doc: TZ_DOC },
        ],
        body: None,
        auth: false,
        alias_of: Some("/data"),
    },
    Route {
        method: "get",
        path: "/api/signals",
        summary: "The reference system's route for statistics: the same rows as /signals for the same range.",
        params: &[
            Param { name: "start_date", required: true, doc: RANGE_DOC },
            Param { name: "end_date", required: true, doc: SEED_END_DOC },
            Param { name: "signal_type", required: false, doc: "signal names such as wind_speed_mean, as /signals' `signal`" },
            Param { name: "asset", required: false, doc: "as /signals" },
            Param { name: "format", required: false, doc: "json (default), csv or arrow" },
            Param { name: "timezone", required: false, doc: TZ_DOC },
        ],
        body: None,
        auth: false,
        alias_of: Some("/signals"),
    },
    Route {
        method: "post",
        path: "/api/run-etl",
        summary: "The reference system's route to run the ETL: as POST /etl/run, for a list of days. Needs the bearer token.",
        params: &[],
        body: Some("{\"days\": [\"2024-01-01\", \"2024-01-03\"]} or {\"date\": \"2024-01-01\"}; optional \"variables\", \"angles\", \"stats\" and \"timezone\" as /etl/run"),
        auth: true,
        alias_of: Some("/etl/run"),
    },
    Route {
        method: "post",
        path: "/api/generate-data",
        summary: "The reference system's route to generate demo data: as POST /generate. Needs the bearer token.",
        params: &[],
        body: Some("{\"days\": 10, \"frequency\": \"1min\"} (only 1min is supported); optional \"start\", \"seed\", \"missing_rate\", \"turbines\" as /generate"),
        auth: true,
        alias_of: Some("/generate"),
    },
    Route {
        method: "get",
        path: "/openapi.json",
        summary: "This API as an OpenAPI 3.1 document.",
        params: &[],
        body: None,
        auth: false,
        alias_of: None,
    },
    Route {
        method: "get",
        path: "/docs",
        summary: "This API as a web page.",
        params: &[],
        body: None,
        auth: false,
        alias_of: None,
    },
];

pub(crate) fn openapi() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let params: Vec<Value> = r
            .params
            .iter()
            .map(|p| {
                json!({"name": p.name, "in": "query", "required": p.required,
                       "description": p.doc, "schema": {"type": "string"}})
            })
            .collect();
        let summary = match r.alias_of {
            Some(a) => format!("{} Alias of {a}.", r.summary),
            None => r.summary.to_string(),
        };
        let mut op = json!({
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad request: {\"error\", \"detail\", \"parameter\"}"},
                "503": {"description": "A store is unavailable: {\"error\", \"detail\"}"}
            }
        });
        if let Some(a) = r.alias_of {
            op["tags"] = json!(["reference system"]);
            op["x-alias-of"] = json!(a);
        }
        if let Some(b) = r.body {
            op["requestBody"] = json!({"description": b, "content": {"application/json": {"schema": {"type": "object"}}}});
        }
        if r.auth {
            op["security"] = json!([{"bearer": []}]);
            op["responses"]["401"] = json!({"description": "Missing or wrong bearer token"});
            op["responses"]["403"] =
                json!({"description": "The server was started without a token: route disabled"});
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "windcore connector API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Wind-turbine SCADA samples and their 10-minute statistics. Time is UTC; ranges are half-open [start, end). The reference system's routes are under /api/… as aliases."},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(crate) fn html() -> Html<String> {
    let mut s = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>windcore API</title>\
         <style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}\
         code{background:#f3f3f3;padding:0 .2em}td,th{border-bottom:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}</style>\
         </head><body><h1>windcore connector API</h1>\
         <p>Time is UTC; ranges are half-open <code>[start, end)</code>. Errors are JSON \
         <code>{\"error\": …, \"detail\": …}</code> (bad requests also name the <code>parameter</code>). \
         Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. The dashboard: <a href=\"/\">/</a>.</p>",
    );
    let mut seed_heading = false;
    for r in ROUTES {
        if r.alias_of.is_some() && !seed_heading {
            seed_heading = true;
            s.push_str(
                "<h2>The reference system's routes</h2><p>Kept for its clients: each answers \
                 as the windcore route it aliases (same rows, same errors, same token rule), \
                 with the reference system's parameter names.</p>",
            );
        }
        s.push_str(&format!(
            "<h3><code>{} {}</code>{}</h3><p>{}{}</p>",
            r.method.to_uppercase(),
            r.path,
            if r.auth { " (bearer token)" } else { "" },
            esc(r.summary),
            r.alias_of
                .map(|a| format!(" Alias of <code>{a}</code>."))
                .unwrap_or_default()
        ));
        if !r.params.is_empty() {
            s.push_str("<table><tr><th>parameter</th><th>required</th><th>meaning</th></tr>");
            for p in r.params {
                s.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    p.name,
                    if p.required { "yes" } else { "no" },
                    esc(p.doc)
                ));
            }
            s.push_str("</table>");
        }
        if let Some(b) = r.body {
            s.push_str(&format!("<p>Body: <code>{}</code></p>", esc(b)));
        }
    }
    s.push_str("<h2>Example</h2><pre>curl 'http://127.0.0.1:8000/data?start=2024-01-01&amp;end=2024-01-02&amp;variables=wind_speed,power&amp;format=csv'\n\
curl 'http://127.0.0.1:8000/api/data?start_date=2024-01-01&amp;end_date=2024-01-01&amp;columns=wind_speed,power'</pre></body></html>");
    Html(s)
}
