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
}

const RANGE_DOC: &str = "RFC 3339 timestamp (2024-01-01T00:00:00Z; other offsets are converted to UTC, naive times are UTC) or a date (2024-01-01 = midnight UTC)";

const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/data",
        summary: "Raw 1-minute samples with start <= timestamp < end, ordered by time, streamed one UTC day at a time. JSON (array of objects) by default; CSV or Arrow IPC stream with format= or the Accept header (text/csv, application/vnd.apache.arrow.stream). Missing values are null (JSON) or empty (CSV).",
        params: &[
            Param { name: "start", required: true, doc: RANGE_DOC },
            Param { name: "end", required: true, doc: "exclusive end, same forms as start; the range may not exceed the server's maximum (default 31 days)" },
            Param { name: "variables", required: false, doc: "wind_speed, power, ambient_temperature; repeat the parameter or separate with commas; all when omitted" },
            Param { name: "format", required: false, doc: "json (default), csv or arrow" },
        ],
        body: None,
        auth: false,
    },
    Route {
        method: "get",
        path: "/signals",
        summary: "10-minute statistics from the target (long form: timestamp, signal, value), streamed one UTC day at a time. Needs --target.",
        params: &[
            Param { name: "start", required: true, doc: RANGE_DOC },
            Param { name: "end", required: true, doc: "exclusive end, same forms as start" },
            Param { name: "signal", required: false, doc: "signal names such as power_mean; repeat or separate with commas; all when omitted" },
            Param { name: "format", required: false, doc: "json (default) or csv" },
        ],
        body: None,
        auth: false,
    },
    Route {
        method: "get",
        path: "/signals/names",
        summary: "The names in the target's signal table (JSON array). Needs --target.",
        params: &[],
        body: None,
        auth: false,
    },
    Route {
        method: "post",
        path: "/etl/run",
        summary: "Runs the ETL for a day or a range of days (each day replaced atomically) and returns its summary. Needs --target and the bearer token.",
        params: &[],
        body: Some("{\"date\": \"2024-01-01\"} or {\"from\": \"2024-01-01\", \"to\": \"2024-01-10\"}; optional \"variables\" (list or comma-separated, default wind_speed,power) and \"stats\" (comma-separated, default mean,min,max,std)"),
        auth: true,
    },
    Route {
        method: "post",
        path: "/generate",
        summary: "Fills the source with seeded demo data, replacing those days. Needs the bearer token.",
        params: &[],
        body: Some("{\"days\": 10, \"start\": \"2024-01-01\", \"seed\": 42, \"missing_rate\": 0.0}, every field optional"),
        auth: true,
    },
    Route {
        method: "get",
        path: "/health",
        summary: "Checks the source and target databases: 200 when reachable, 503 otherwise, with details.",
        params: &[],
        body: None,
        auth: false,
    },
    Route {
        method: "get",
        path: "/openapi.json",
        summary: "This API as an OpenAPI 3.1 document.",
        params: &[],
        body: None,
        auth: false,
    },
    Route {
        method: "get",
        path: "/docs",
        summary: "This API as a web page.",
        params: &[],
        body: None,
        auth: false,
    },
];

pub fn openapi() -> Value {
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
        let mut op = json!({
            "summary": r.summary,
            "parameters": params,
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad request: {\"error\", \"detail\", \"parameter\"}"},
                "503": {"description": "A database is unavailable: {\"error\", \"detail\"}"}
            }
        });
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
                 "description": "Wind-turbine SCADA samples and their 10-minute statistics. Time is UTC; ranges are half-open [start, end)."},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn html() -> Html<String> {
    let mut s = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>windcore API</title>\
         <style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}\
         code{background:#f3f3f3;padding:0 .2em}td,th{border-bottom:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}</style>\
         </head><body><h1>windcore connector API</h1>\
         <p>Time is UTC; ranges are half-open <code>[start, end)</code>. Errors are JSON \
         <code>{\"error\": …, \"detail\": …}</code> (bad requests also name the <code>parameter</code>). \
         Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>.</p>",
    );
    for r in ROUTES {
        s.push_str(&format!(
            "<h2><code>{} {}</code>{}</h2><p>{}</p>",
            r.method.to_uppercase(),
            r.path,
            if r.auth { " (bearer token)" } else { "" },
            esc(r.summary)
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
    s.push_str("<h2>Example</h2><pre>curl 'http://127.0.0.1:8000/data?start=2024-01-01&amp;end=2024-01-02&amp;variables=wind_speed,power&amp;format=csv'</pre></body></html>");
    Html(s)
}
