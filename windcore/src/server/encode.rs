//! Response encodings of frames: JSON, CSV and the Arrow IPC stream.
//!
//! Each frame (one UTC day) is encoded on its own, so a response is written
//! day by day and never held whole in memory.

use std::io::Write;

use chrono::{DateTime, SecondsFormat};
use polars::prelude::*;
use polars_arrow::io::ipc::write::{default_ipc_fields, StreamWriter, WriteOptions};

use crate::TIMESTAMP;

/// The output formats of the streamed routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
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

/// The type of a response column after `timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text: `asset`, `signal`.
    Str,
    /// A Float64 value.
    F64,
}

impl Kind {
    fn dtype(self) -> DataType {
        match self {
            Kind::Str => DataType::String,
            Kind::F64 => DataType::Float64,
        }
    }
}

/// The columns of a response: `timestamp` (µs, UTC), then these.
#[derive(Clone)]
pub(crate) struct Layout {
    pub columns: Vec<(String, Kind)>,
}

impl Layout {
    fn empty_frame(&self) -> PolarsResult<DataFrame> {
        let mut cols: Vec<Column> = vec![Int64Chunked::from_vec(TIMESTAMP.into(), vec![])
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
            .into()];
        for (c, kind) in &self.columns {
            cols.push(Column::full_null(c.as_str().into(), 0, &kind.dtype()));
        }
        DataFrame::new_infer_height(cols)
    }

    /// `df` with exactly the layout's columns and types, sorted by time
    /// (rows of one time keep their order).
    pub fn conform(&self, df: &DataFrame) -> PolarsResult<DataFrame> {
        let mut cols: Vec<Column> = Vec::with_capacity(1 + self.columns.len());
        cols.push(df.column(TIMESTAMP)?.cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))?);
        for (c, kind) in &self.columns {
            cols.push(df.column(c)?.cast(&kind.dtype())?);
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
                for (c, _) in &self.columns {
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
            Format::Json | Format::Csv => self.text_rows(df, format, first),
        }
    }

    fn text_rows(&self, df: &DataFrame, format: Format, first: &mut bool) -> PolarsResult<Vec<u8>> {
        let ts = df
            .column(TIMESTAMP)?
            .as_materialized_series()
            .datetime()?
            .physical()
            .clone();
        let mut strs: Vec<StringChunked> = Vec::new();
        let mut nums: Vec<Float64Chunked> = Vec::new();
        for (c, kind) in &self.columns {
            let col = df.column(c)?;
            match kind {
                Kind::Str => strs.push(col.str()?.clone()),
                Kind::F64 => nums.push(col.f64()?.clone()),
            }
        }
        let mut cells: Vec<Cells<'_>> = Vec::with_capacity(self.columns.len());
        let (mut si, mut ni) = (strs.iter(), nums.iter());
        for (c, kind) in &self.columns {
            let name = serde_json::to_string(c).unwrap_or_default();
            cells.push(match kind {
                Kind::Str => Cells::Str(name, Box::new(si.next().expect("str column").iter())),
                Kind::F64 => Cells::F64(name, Box::new(ni.next().expect("f64 column").iter())),
            });
        }
        let mut out = Vec::with_capacity(df.height() * (32 + 24 * self.columns.len()));
        let mut ryu = ryu::Buffer::new();
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
                    for cell in cells.iter_mut() {
                        out.push(b',');
                        match cell {
                            Cells::Str(name, it) => {
                                out.extend_from_slice(name.as_bytes());
                                out.push(b':');
                                match it.next().flatten() {
                                    Some(s) => json_str(&mut out, s),
                                    None => out.extend_from_slice(b"null"),
                                }
                            }
                            Cells::F64(name, it) => {
                                out.extend_from_slice(name.as_bytes());
                                out.push(b':');
                                match it.next().flatten() {
                                    Some(v) if v.is_finite() => {
                                        out.extend_from_slice(ryu.format(v).as_bytes())
                                    }
                                    _ => out.extend_from_slice(b"null"),
                                }
                            }
                        }
                    }
                    out.push(b'}');
                }
                Format::Csv => {
                    out.extend_from_slice(ts_text.as_bytes());
                    for cell in cells.iter_mut() {
                        out.push(b',');
                        match cell {
                            Cells::Str(_, it) => {
                                if let Some(s) = it.next().flatten() {
                                    csv_field(&mut out, s);
                                }
                            }
                            Cells::F64(_, it) => match it.next().flatten() {
                                Some(v) if v.is_nan() => {}
                                Some(v) if v.is_finite() => {
                                    out.extend_from_slice(ryu.format(v).as_bytes())
                                }
                                Some(v) => {
                                    let _ = write!(out, "{}", if v > 0.0 { "inf" } else { "-inf" });
                                }
                                None => {}
                            },
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

/// The cells of one column, with its JSON-quoted name.
enum Cells<'a> {
    Str(String, Box<dyn Iterator<Item = Option<&'a str>> + 'a>),
    F64(String, Box<dyn Iterator<Item = Option<f64>> + 'a>),
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(serde_json::to_string(s).unwrap_or_default().as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        let ts = Int64Chunked::from_vec(TIMESTAMP.into(), vec![600_000_000, 0, 0])
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        DataFrame::new_infer_height(vec![
            ts.into_series().into(),
            Column::new("asset".into(), ["T02", "T01", "T\"3"]),
            Column::new("power".into(), [Some(1.5), None, Some(f64::NAN)]),
        ])
        .unwrap()
    }

    #[test]
    fn json_and_csv_with_a_text_column() {
        let layout = Layout {
            columns: vec![("asset".into(), Kind::Str), ("power".into(), Kind::F64)],
        };
        let df = layout.conform(&frame()).unwrap();
        let mut first = true;
        let mut json = layout.prologue(Format::Json).unwrap();
        json.extend(layout.rows(&df, Format::Json, &mut first).unwrap());
        json.extend(Layout::epilogue(Format::Json));
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v[0]["asset"], "T01");
        assert_eq!(v[1]["asset"], "T\"3");
        assert!(v[1]["power"].is_null());
        assert_eq!(v[2]["timestamp"], "1970-01-01T00:10:00Z");
        assert_eq!(v[2]["power"], 1.5);
        let mut first = true;
        let mut csv = layout.prologue(Format::Csv).unwrap();
        csv.extend(layout.rows(&df, Format::Csv, &mut first).unwrap());
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(
            csv,
            "timestamp,asset,power\n1970-01-01T00:00:00Z,T01,\n1970-01-01T00:00:00Z,\"T\"\"3\",\n1970-01-01T00:10:00Z,T02,1.5\n"
        );
    }
}
