//! [`HttpSource`]: raw samples read from windcore's connector API
//! (`windcore-cli serve`), the way the reference system's ETL reads them.
//!
//! The client speaks plain HTTP/1.1 over a tokio `TcpStream` itself (one
//! request per day, `Connection: close`). That keeps hyper out of the library:
//! hyper changes the feature set of a crate polars depends on, which would
//! force a second polars build for the Python module.

use std::io::Cursor;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use polars::prelude::*;
use polars_arrow::io::ipc::read::{read_stream_metadata, StreamReader, StreamState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::day::TimeRange;
use crate::error::{Error, Result};
use crate::generate::SOURCE_VARIABLES;
use crate::postgres::mask_password;
use crate::schema::{ASSET, TIMESTAMP};
use crate::setting::Setting;
use crate::traits::Extract;

/// Default time allowed for one request (connect, send, read the whole body).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest response body accepted (a day of 1-minute samples is well under 1 MB).
const MAX_BODY: usize = 1 << 30;

/// The wire format [`HttpSource`] asks the API for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpFormat {
    /// Arrow IPC stream (`application/vnd.apache.arrow.stream`): binary, exact, fastest.
    #[default]
    Arrow,
    /// A JSON array of objects (`{"timestamp": "…Z", "power": 1.5, …}`), the
    /// reference system's format. Exact as well: floats are written shortest
    /// round-trip and parsed back exactly.
    Json,
}

impl HttpFormat {
    fn query_value(self) -> &'static str {
        match self {
            HttpFormat::Arrow => "arrow",
            HttpFormat::Json => "json",
        }
    }

    fn accept(self) -> &'static str {
        match self {
            HttpFormat::Arrow => "application/vnd.apache.arrow.stream",
            HttpFormat::Json => "application/json",
        }
    }
}

/// Raw samples read from windcore's connector API (`GET /data`).
///
/// ```no_run
/// use windcore::{Day, Extract, HttpSource};
///
/// # async fn demo() -> windcore::Result<()> {
/// let source = HttpSource::new("http://127.0.0.1:8000")?;
/// let day: Day = "2024-01-01".parse()?;
/// let samples = source.extract(day.range(), &["power".to_string()]).await?;
/// # Ok(())
/// # }
/// ```
///
/// Only `http://` is supported: this build has no TLS stack. Put the API
/// behind a TLS-terminating proxy on the same host, or reach it over a tunnel.
#[derive(Debug, Clone)]
pub struct HttpSource {
    url: String,
    host: String,
    port: u16,
    prefix: String,
    format: HttpFormat,
    timeout: Duration,
    variables: Vec<String>,
}

impl HttpSource {
    /// Asks the server (`GET /info`) which channels its source has, so that a
    /// farm's channels (wind_direction, ...) can be requested. Best effort:
    /// if the server cannot be asked, the reference channels are assumed and
    /// the first extract reports the server's error.
    pub async fn discover(mut self) -> Self {
        if let Ok(resp) = self.get("/info").await {
            if resp.status == 200 {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&resp.body) {
                    if let Some(list) = v.get("variables").and_then(|v| v.as_array()) {
                        let vars: Vec<String> = list
                            .iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect();
                        if !vars.is_empty() {
                            self.variables = vars;
                        }
                    }
                }
            }
        }
        self
    }

    /// A source reading from the API at `url` (`http://host[:port][/prefix]`).
    /// Nothing is contacted until the first extract.
    pub fn new(url: &str) -> Result<Self> {
        let url = url.trim().trim_end_matches('/').to_string();
        let rest = if let Some(r) = url.strip_prefix("http://") {
            r
        } else if url.starts_with("https://") {
            return Err(Error::config(
                Setting::HttpSource,
                format!(
                    "{}: https:// is not supported (this build has no TLS); use http:// to a local endpoint or a TLS-terminating proxy",
                    mask_password(&url)
                ),
            ));
        } else {
            return Err(Error::config(
                Setting::HttpSource,
                format!("{}: the URL must start with http://", mask_password(&url)),
            ));
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, String::new()),
        };
        if authority.contains('@') || prefix.contains(['?', '#']) {
            return Err(Error::config(
                Setting::HttpSource,
                format!(
                    "{}: user info, query or fragment are not supported in the URL",
                    mask_password(&url)
                ),
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p.parse::<u16>().map_err(|_| {
                    Error::config(Setting::HttpSource, format!("{url}: bad port `{p}`"))
                })?;
                (h.to_string(), port)
            }
            _ => (authority.to_string(), 80),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() {
            return Err(Error::config(
                Setting::HttpSource,
                format!("{url}: no host"),
            ));
        }
        Ok(HttpSource {
            url,
            host,
            port,
            prefix,
            format: HttpFormat::default(),
            timeout: DEFAULT_TIMEOUT,
            variables: SOURCE_VARIABLES.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The wire format (default [`HttpFormat::Arrow`]).
    pub fn format(mut self, format: HttpFormat) -> Self {
        self.format = format;
        self
    }

    /// Time allowed for one request, connect to last byte (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn data_path(&self, range: TimeRange, variables: &[&str]) -> String {
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        format!(
            "{}/data?start={}&end={}&variables={}&format={}",
            self.prefix,
            ts(range.start),
            ts(range.end),
            variables.join(","),
            self.format.query_value()
        )
    }

    async fn get(&self, path: &str) -> Result<Response> {
        let fut = async {
            let mut stream = TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| self.conn_err(format!("cannot connect: {e}")))?;
            let _ = stream.set_nodelay(true);
            let host = if self.host.contains(':') {
                format!("[{}]:{}", self.host, self.port)
            } else {
                format!("{}:{}", self.host, self.port)
            };
            let req = format!(
                "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {}\r\nUser-Agent: windcore/{}\r\nConnection: close\r\n\r\n",
                self.format.accept(),
                env!("CARGO_PKG_VERSION")
            );
            stream
                .write_all(req.as_bytes())
                .await
                .map_err(|e| self.conn_err(format!("sending the request: {e}")))?;
            let mut raw = Vec::with_capacity(1 << 16);
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = stream
                    .read(&mut buf)
                    .await
                    .map_err(|e| self.conn_err(format!("reading the response: {e}")))?;
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_BODY {
                    return Err(self.conn_err(format!("response larger than {MAX_BODY} bytes")));
                }
            }
            parse_response(&raw).map_err(|d| self.protocol_err(format!("malformed response: {d}")))
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(self.conn_err(format!(
                "no complete response within {} s",
                self.timeout.as_secs()
            ))),
        }
    }

    /// The server answered, but not with a complete, well-formed response
    /// (e.g. it cut the stream): [`Error::Protocol`], worth a retry.
    fn protocol_err(&self, detail: String) -> Error {
        Error::protocol(format!("HTTP source {}", mask_password(&self.url)), detail)
    }

    fn conn_err(&self, detail: String) -> Error {
        Error::Connection {
            context: format!("HTTP source {}", mask_password(&self.url)),
            detail,
        }
    }
}

#[async_trait]
impl Extract for HttpSource {
    fn describe(&self) -> String {
        mask_password(&self.url)
    }

    fn variables(&self) -> Vec<String> {
        self.variables.clone()
    }

    async fn extract(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let mut vars: Vec<&str> = Vec::with_capacity(variables.len());
        for v in variables {
            match self.variables.iter().find(|k| *k == v) {
                Some(k) => vars.push(k),
                None => {
                    return Err(Error::UnknownVariable {
                        name: v.clone(),
                        known: self.variables.join(", "),
                    })
                }
            }
        }
        if vars.is_empty() {
            return Err(Error::config(Setting::Variables, "no variable requested"));
        }
        let path = self.data_path(range, &vars);
        let resp = self.get(&path).await?;
        if resp.status != 200 {
            let detail = api_error_text(&resp.body);
            let ctx = format!("GET {path} from {}", mask_password(&self.url));
            return Err(
                if resp.status == 503 || resp.status == 502 || resp.status == 504 {
                    Error::Connection {
                        context: ctx,
                        detail: format!("HTTP {}: {detail}", resp.status),
                    }
                } else {
                    Error::Database {
                        context: ctx,
                        detail: format!("HTTP {}: {detail}", resp.status),
                    }
                },
            );
        }
        let df = match self.format {
            HttpFormat::Arrow => decode_arrow(&resp.body, &vars),
            HttpFormat::Json => decode_json(&resp.body, &vars),
        }
        .map_err(|e| self.protocol_err(format!("decoding the {:?} response: {e}", self.format)))?;
        Ok(df)
    }
}

/// A parsed HTTP response.
struct Response {
    status: u16,
    body: Vec<u8>,
}

/// Parses a whole HTTP/1.1 response (read until the server closed).
fn parse_response(raw: &[u8]) -> std::result::Result<Response, String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|_| "headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("empty response")?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line `{status_line}`"))?;
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        } else if k == "content-length" {
            length = Some(v.parse().map_err(|_| format!("bad content-length `{v}`"))?);
        }
    }
    let rest = &raw[head_end + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        if rest.len() < n {
            return Err(format!("body truncated: {} of {n} bytes", rest.len()));
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

/// Decodes a chunked transfer-encoded body; fails if the final chunk is missing
/// (the server aborted the stream).
fn dechunk(mut b: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("body ended without the last chunk: the server aborted the response")?;
        let size_txt = std::str::from_utf8(&b[..eol]).map_err(|_| "bad chunk size")?;
        let size_txt = size_txt.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_txt, 16)
            .map_err(|_| format!("bad chunk size `{size_txt}`"))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err("body ended inside a chunk: the server aborted the response".into());
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// `error: detail` from the API's JSON error body, or the body itself.
fn api_error_text(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body) {
        let e = m.get("error").and_then(|v| v.as_str()).unwrap_or("error");
        let d = m.get("detail").and_then(|v| v.as_str()).unwrap_or("");
        return format!("{e}: {d}");
    }
    let text = String::from_utf8_lossy(body);
    text.chars().take(500).collect()
}

/// An empty frame with the columns an extract returns.
fn empty_frame(vars: &[&str]) -> Result<DataFrame> {
    let mut cols: Vec<Column> = Vec::with_capacity(1 + vars.len());
    cols.push(
        Int64Chunked::from_vec(TIMESTAMP.into(), Vec::new())
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
            .into(),
    );
    for v in vars {
        cols.push(Column::new((*v).into(), Vec::<f64>::new()));
    }
    Ok(DataFrame::new_infer_height(cols)?)
}

/// Casts to the extract contract (`timestamp` Datetime(µs, UTC), Float64
/// variables) and keeps only `timestamp` and `vars`, in that order.
fn conform(df: DataFrame, vars: &[&str]) -> Result<DataFrame> {
    let mut cols: Vec<Column> = Vec::with_capacity(2 + vars.len());
    // A farm's rows carry their asset.
    if let Ok(a) = df.column(ASSET) {
        cols.push(a.cast(&DataType::String)?);
    }
    for (i, name) in std::iter::once(TIMESTAMP)
        .chain(vars.iter().copied())
        .enumerate()
    {
        let c = crate::frame::column(&df, name)?;
        let want = if i == 0 {
            DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        } else {
            DataType::Float64
        };
        cols.push(if c.dtype() == &want {
            c.clone()
        } else {
            c.cast(&want)?
        });
    }
    Ok(DataFrame::new_infer_height(cols)?)
}

/// Decodes an Arrow IPC stream.
fn decode_arrow(body: &[u8], vars: &[&str]) -> Result<DataFrame> {
    let mut cursor = Cursor::new(body);
    let metadata = read_stream_metadata(&mut cursor)?;
    let fields: Vec<_> = metadata.schema.iter_values().cloned().collect();
    let mut chunks: Vec<Vec<Box<dyn polars_arrow::array::Array>>> = vec![Vec::new(); fields.len()];
    let reader = StreamReader::new(cursor, metadata, None);
    for state in reader {
        match state? {
            StreamState::Some(batch) => {
                for (i, a) in batch.into_arrays().into_iter().enumerate() {
                    if let Some(c) = chunks.get_mut(i) {
                        c.push(a);
                    }
                }
            }
            StreamState::Waiting => {
                return Err(Error::protocol(
                    "Arrow stream",
                    "the stream ended before its end-of-stream marker",
                ))
            }
        }
    }
    if chunks.first().is_none_or(|c| c.is_empty()) {
        return empty_frame(vars);
    }
    let mut cols: Vec<Column> = Vec::with_capacity(fields.len());
    for (field, arrays) in fields.iter().zip(chunks) {
        cols.push(Series::try_from((field.name.clone(), arrays))?.into());
    }
    conform(DataFrame::new_infer_height(cols)?, vars)
}

/// Decodes the API's JSON: an array of objects with an RFC 3339 `timestamp`
/// and a number or null per variable.
fn decode_json(body: &[u8], vars: &[&str]) -> Result<DataFrame> {
    let bad = |d: String| Error::protocol("JSON response", d);
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let rows = value
        .as_array()
        .ok_or_else(|| bad("expected an array of objects".into()))?;
    let mut ts = Vec::with_capacity(rows.len());
    let mut assets: Vec<Option<String>> = Vec::new();
    let with_asset = rows
        .first()
        .and_then(|r| r.as_object())
        .is_some_and(|o| o.contains_key(ASSET));
    let mut vals: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(rows.len()); vars.len()];
    for (i, row) in rows.iter().enumerate() {
        let obj = row
            .as_object()
            .ok_or_else(|| bad(format!("row {i} is not an object")))?;
        let t = obj
            .get(TIMESTAMP)
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad(format!("row {i} has no `timestamp` string")))?;
        let t = DateTime::parse_from_rfc3339(t)
            .map_err(|e| bad(format!("row {i}: timestamp `{t}`: {e}")))?;
        ts.push(t.timestamp_micros());
        if with_asset {
            assets.push(obj.get(ASSET).and_then(|a| a.as_str()).map(str::to_string));
        }
        for (v, out) in vars.iter().zip(vals.iter_mut()) {
            out.push(match obj.get(*v) {
                None | Some(serde_json::Value::Null) => None,
                Some(x) => Some(
                    x.as_f64()
                        .ok_or_else(|| bad(format!("row {i}: `{v}` is not a number")))?,
                ),
            });
        }
    }
    let mut cols: Vec<Column> = Vec::with_capacity(2 + vars.len());
    if with_asset {
        cols.push(Column::new(ASSET.into(), assets));
    }
    cols.push(
        Int64Chunked::from_vec(TIMESTAMP.into(), ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
            .into(),
    );
    for (v, data) in vars.iter().zip(vals) {
        cols.push(Column::new((*v).into(), data));
    }
    Ok(DataFrame::new_infer_height(cols)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let s = HttpSource::new("http://127.0.0.1:8000/").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.prefix.as_str()),
            ("127.0.0.1", 8000, "")
        );
        let s = HttpSource::new("http://example.org/api").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.prefix.as_str()),
            ("example.org", 80, "/api")
        );
        let s = HttpSource::new("http://[::1]:9000").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 9000));
        assert!(HttpSource::new("https://x")
            .unwrap_err()
            .to_string()
            .contains("https"));
        assert!(HttpSource::new("http://x:notaport").is_err());
        assert!(HttpSource::new("http://u:pw@x").is_err());
    }

    #[test]
    fn parses_chunked_and_plain_responses() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abcde"[..]));
        let r = parse_response(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (400, &b"{}"[..]));
        // A stream the server aborted has no last chunk: an error, not a short day.
        assert!(parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
        )
        .is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc").is_err());
    }

    #[test]
    fn decodes_json_exactly() {
        let body = br#"[{"timestamp":"2024-01-01T00:00:00Z","power":0.1,"wind_speed":null},
                        {"timestamp":"2024-01-01T00:01:00.000001+00:00","power":1e-300,"wind_speed":3.0000000000000004}]"#;
        let df = decode_json(body, &["wind_speed", "power"]).unwrap();
        assert_eq!(df.get_column_names(), ["timestamp", "wind_speed", "power"]);
        let p = df.column("power").unwrap().f64().unwrap();
        assert_eq!(p.get(0), Some(0.1));
        assert_eq!(p.get(1), Some(1e-300));
        let w = df.column("wind_speed").unwrap().f64().unwrap();
        assert_eq!(w.get(0), None);
        assert_eq!(w.get(1), Some(3.0000000000000004));
        assert!(decode_json(b"{}", &["power"]).is_err());
    }
}
