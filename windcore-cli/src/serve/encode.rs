//! Response encodings of sample frames: JSON, CSV and the Arrow IPC stream.
//!
//! Each frame (one UTC day) is encoded on its own, so a response is written
//! day by day and never held whole in memory.

use std::io::Write;

use chrono::{DateTime, SecondsFormat};
use polars::prelude::*;
use polars_arrow::io::ipc::write::{default_ipc_fields, StreamWriter, WriteOptions};
use windcore::TIMESTAMP;

/// The output formats of `GET /data` and `GET /signals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Arrow,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "arrow" | "ipc" | "arrow-stream" => Some(Format::Arrow),
            _ => None,
        }
    }

    /// The format an `Accept` header asks for, if it names one we serve.
    pub fn from_accept(accept: &str) -> Option<Format> {
        let a = accept.to_ascii_lowercase();
        if a.contains("application/vnd.apache.arrow.stream") {
            Some(Format::Arrow)
        } else if a.contains("text/csv") {
            Some(Format::Csv)
        } else if a.contains("application/json") {
            Some(Format::Json)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Arrow => "application/vnd.apache.arrow.stream",
        }
    }
}

/// The columns of a response: `timestamp` then Float64 value columns, or
/// (for signals) `timestamp`, `signal`, `value`.
#[derive(Clone)]
pub struct Layout {
    pub columns: Vec<String>,
    /// Whether the second column is the string `signal` (long form).
    pub long: bool,
}

impl Layout {
    fn empty_frame(&self) -> PolarsResult<DataFrame> {
        let mut cols: Vec<Column> = vec![Int64Chunked::from_vec(TIMESTAMP.into(), vec![])
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
            .into()];
        for (i, c) in self.columns.iter().enumerate() {
            if self.long && i == 0 {
                cols.push(Column::new(c.as_str().into(), Vec::<String>::new()));
            } else {
                cols.push(Column::new(c.as_str().into(), Vec::<f64>::new()));
            }
        }
        DataFrame::new_infer_height(cols)
    }

    /// `df` with exactly the layout's columns and types, sorted by time.
    pub fn conform(&self, df: &DataFrame) -> PolarsResult<DataFrame> {
        let mut cols: Vec<Column> = Vec::with_capacity(1 + self.columns.len());
        cols.push(df.column(TIMESTAMP)?.cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))?);
        for (i, c) in self.columns.iter().enumerate() {
            let want = if self.long && i == 0 {
                DataType::String
            } else {
                DataType::Float64
            };
            cols.push(df.column(c)?.cast(&want)?);
        }
        let out = DataFrame::new_infer_height(cols)?;
        let ts = out
            .column(TIMESTAMP)?
            .as_materialized_series()
            .datetime()?
            .physical()
            .clone();
        let mut prev = i64::MIN;
        let sorted = ts.iter().all(|t| {
            let t = t.unwrap_or(i64::MIN);
            let ok = t >= prev;
            prev = t;
            ok
        });
        if sorted {
            Ok(out)
        } else {
            out.sort(
                [TIMESTAMP],
                SortMultipleOptions::default().with_maintain_order(true),
            )
        }
    }

    /// The bytes before the first row.
    pub fn prologue(&self, format: Format) -> PolarsResult<Vec<u8>> {
        Ok(match format {
            Format::Json => b"[".to_vec(),
            Format::Csv => {
                let mut s = String::from(TIMESTAMP);
                for c in &self.columns {
                    s.push(',');
                    s.push_str(c);
                }
                s.push('\n');
                s.into_bytes()
            }
            Format::Arrow => {
                let schema = self.empty_frame()?.schema().to_arrow(CompatLevel::oldest());
                let mut w = StreamWriter::new(Vec::new(), WriteOptions { compression: None });
                w.start(&schema, None)?;
                w.into_inner()
            }
        })
    }

    /// The bytes after the last row.
    pub fn epilogue(format: Format) -> Vec<u8> {
        match format {
            Format::Json => b"]".to_vec(),
            Format::Csv => Vec::new(),
            // End-of-stream marker: continuation token and a zero length.
            Format::Arrow => vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        }
    }

    /// Encodes the rows of a conformed frame. `first` tells whether no row has
    /// been written yet (JSON separators); it is updated.
    pub fn rows(&self, df: &DataFrame, format: Format, first: &mut bool) -> PolarsResult<Vec<u8>> {
        if df.height() == 0 {
            return Ok(Vec::new());
        }
        match format {
            Format::Arrow => {
                // The writer only encodes batches after a schema message:
                // write both, then drop the schema (sent once, in the prologue).
                let schema = df.schema().to_arrow(CompatLevel::oldest());
                let fields = default_ipc_fields(schema.iter_values());
                let mut w = StreamWriter::new(Vec::new(), WriteOptions { compression: None });
                w.start(&schema, Some(fields.clone()))?;
                let skip = w.into_inner().len();
                let mut w = StreamWriter::new(Vec::new(), WriteOptions { compression: None });
                w.start(&schema, Some(fields.clone()))?;
                for batch in df.iter_chunks(CompatLevel::oldest(), false) {
                    w.write(&batch, Some(&fields))?;
                }
                let mut out = w.into_inner();
                out.drain(..skip);
                Ok(out)
            }
            Format::Json | Format::Csv => Ok(self.text_rows(df, format, first)?),
        }
    }

    fn text_rows(&self, df: &DataFrame, format: Format, first: &mut bool) -> PolarsResult<Vec<u8>> {
        let ts = df
            .column(TIMESTAMP)?
            .as_materialized_series()
            .datetime()?
            .physical()
            .clone();
        let mut strs: Option<StringChunked> = None;
        let mut nums: Vec<Float64Chunked> = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            let col = df.column(c)?;
            if self.long && i == 0 {
                strs = Some(col.str()?.clone());
            } else {
                nums.push(col.f64()?.clone());
            }
        }
        let names: Vec<String> = self
            .columns
            .iter()
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .collect();
        let mut out = Vec::with_capacity(df.height() * (32 + 24 * self.columns.len()));
        let mut ryu = ryu::Buffer::new();
        let mut num_iters: Vec<_> = nums.iter().map(|c| c.iter()).collect();
        let mut str_iter = strs.as_ref().map(|s| s.iter());
        for t in ts.iter() {
            let ts_text = t
                .and_then(DateTime::from_timestamp_micros)
                .map(|d| d.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                .unwrap_or_default();
            match format {
                Format::Json => {
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                    out.extend_from_slice(b"{\"timestamp\":\"");
                    out.extend_from_slice(ts_text.as_bytes());
                    out.push(b'"');
                    let mut k = 0;
                    if let Some(it) = str_iter.as_mut() {
                        out.push(b',');
                        out.extend_from_slice(names[0].as_bytes());
                        out.push(b':');
                        match it.next().flatten() {
                            Some(s) => out.extend_from_slice(
                                serde_json::to_string(s).unwrap_or_default().as_bytes(),
                            ),
                            None => out.extend_from_slice(b"null"),
                        }
                        k = 1;
                    }
                    for (j, it) in num_iters.iter_mut().enumerate() {
                        out.push(b',');
                        out.extend_from_slice(names[k + j].as_bytes());
                        out.push(b':');
                        match it.next().flatten() {
                            Some(v) if v.is_finite() => {
                                out.extend_from_slice(ryu.format(v).as_bytes())
                            }
                            _ => out.extend_from_slice(b"null"),
                        }
                    }
                    out.push(b'}');
                }
                Format::Csv => {
                    out.extend_from_slice(ts_text.as_bytes());
                    if let Some(it) = str_iter.as_mut() {
                        out.push(b',');
                        if let Some(s) = it.next().flatten() {
                            csv_field(&mut out, s);
                        }
                    }
                    for it in num_iters.iter_mut() {
                        out.push(b',');
                        match it.next().flatten() {
                            Some(v) if v.is_nan() => {}
                            Some(v) if v.is_finite() => {
                                out.extend_from_slice(ryu.format(v).as_bytes())
                            }
                            Some(v) => {
                                let _ = write!(out, "{}", if v > 0.0 { "inf" } else { "-inf" });
                            }
                            None => {}
                        }
                    }
                    out.push(b'\n');
                }
                Format::Arrow => {}
            }
        }
        Ok(out)
    }
}

fn csv_field(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}
