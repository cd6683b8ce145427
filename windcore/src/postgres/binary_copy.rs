//! PostgreSQL's binary COPY format, both ways: [`CopyEncoder`] writes the
//! rows of `COPY … FROM STDIN (FORMAT binary)` into one buffer and
//! [`copy_in`] sends it; [`CopyDecoder`] turns the output of
//! `COPY … TO STDOUT (FORMAT binary)` straight into polars columns and
//! [`copy_out`] reads a whole stream with it.
//!
//! A file is the signature, flags and a header extension, then per row a
//! field count (`i16`) and per field its byte length (`i32`, -1 for NULL)
//! and its bytes, then `-1` (`i16`). All numbers are big-endian; a
//! timestamptz is microseconds since 2000-01-01 UTC (`i64`).

use std::collections::HashMap;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{pin_mut, SinkExt, StreamExt};
use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use crate::error::{Error, Result};
use crate::schema::{ASSET, TIMESTAMP};

/// Microseconds from the Unix epoch to PostgreSQL's epoch (2000-01-01 UTC).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;
/// The signature that opens a binary COPY file.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Rows in the binary COPY format, encoded into one buffer before a
/// transaction is opened. Each row is [`row`](Self::row) followed by
/// exactly that many fields.
pub(super) struct CopyEncoder {
    buf: BytesMut,
    rows: u64,
}

/// The bytes of a COPY and the rows they hold.
pub(super) struct EncodedCopy {
    bytes: Bytes,
    rows: u64,
}

impl CopyEncoder {
    /// A new COPY with its header, in a buffer of `capacity` bytes to start with.
    pub(super) fn with_capacity(capacity: usize) -> Self {
        let mut buf = BytesMut::with_capacity(capacity);
        buf.put_slice(COPY_HEADER);
        buf.put_i32(0); // flags
        buf.put_i32(0); // header extension
        CopyEncoder { buf, rows: 0 }
    }

    /// Starts a row of `fields` fields.
    pub(super) fn row(&mut self, fields: i16) {
        self.buf.put_i16(fields);
        self.rows += 1;
    }

    /// A timestamptz field, from microseconds since the Unix epoch.
    pub(super) fn timestamptz(&mut self, unix_us: i64) {
        self.buf.put_i32(8);
        self.buf.put_i64(unix_us - PG_EPOCH_OFFSET_US);
    }

    /// A text field.
    pub(super) fn text(&mut self, s: &str) {
        self.buf.put_i32(s.len() as i32);
        self.buf.put_slice(s.as_bytes());
    }

    /// An int4 field.
    pub(super) fn int4(&mut self, v: i32) {
        self.buf.put_i32(4);
        self.buf.put_i32(v);
    }

    /// A float8 field, NULL for `None`.
    pub(super) fn float8(&mut self, v: Option<f64>) {
        match v {
            Some(x) => {
                self.buf.put_i32(8);
                self.buf.put_f64(x);
            }
            None => self.buf.put_i32(-1),
        }
    }

    /// The whole COPY, with its trailer.
    pub(super) fn finish(mut self) -> EncodedCopy {
        self.buf.put_i16(-1);
        EncodedCopy {
            bytes: self.buf.freeze(),
            rows: self.rows,
        }
    }
}

/// Sends `copy` through `sql` (a `COPY … FROM STDIN (FORMAT binary)`) in
/// `tx`; returns the rows written.
pub(super) async fn copy_in(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    copy: EncodedCopy,
    err: impl Fn(tokio_postgres::Error) -> Error,
) -> Result<u64> {
    let sink = tx.copy_in::<_, Bytes>(sql).await.map_err(&err)?;
    pin_mut!(sink);
    sink.send(copy.bytes).await.map_err(&err)?;
    let n = sink.finish().await.map_err(&err)?;
    debug_assert_eq!(n, copy.rows);
    Ok(n)
}

/// Reads a whole `COPY … TO STDOUT (FORMAT binary)` of a timestamptz
/// column, an asset column (text) if `with_asset`, and float8 columns
/// named `names`, into a DataFrame.
pub(super) async fn copy_out(
    stream: tokio_postgres::CopyOutStream,
    with_asset: bool,
    names: &[&str],
    err: impl Fn(tokio_postgres::Error) -> Error,
) -> Result<DataFrame> {
    pin_mut!(stream);
    let mut decoder = CopyDecoder::new(with_asset, names.len());
    while let Some(chunk) = stream.next().await {
        decoder.feed(chunk.map_err(&err)?)?;
    }
    decoder.finish(names)
}

/// Incremental decoder of `COPY … TO STDOUT (FORMAT binary)` output with a
/// timestamptz column, optionally a text column (the asset), then float8
/// columns, straight into column vectors. Asset names are interned: each
/// distinct name is stored once.
struct CopyDecoder {
    buf: BytesMut,
    header_done: bool,
    trailer_seen: bool,
    ts: Vec<i64>,
    with_asset: bool,
    asset_ids: Vec<u32>,
    asset_names: Vec<String>,
    asset_index: HashMap<Vec<u8>, u32>,
    vals: Vec<Vec<f64>>,
    valid: Vec<Vec<bool>>,
    has_null: Vec<bool>,
    lens: Vec<i32>,
}

impl CopyDecoder {
    fn new(with_asset: bool, n_vars: usize) -> Self {
        CopyDecoder {
            buf: BytesMut::new(),
            header_done: false,
            trailer_seen: false,
            ts: Vec::new(),
            with_asset,
            asset_ids: Vec::new(),
            asset_names: Vec::new(),
            asset_index: HashMap::new(),
            vals: vec![Vec::new(); n_vars],
            valid: vec![Vec::new(); n_vars],
            has_null: vec![false; n_vars],
            lens: vec![0; n_vars + 2],
        }
    }

    fn bad(detail: &str) -> Error {
        Error::protocol("decoding binary COPY data", detail)
    }

    fn feed(&mut self, chunk: Bytes) -> Result<()> {
        self.buf.extend_from_slice(&chunk);
        if !self.header_done {
            if self.buf.len() < COPY_HEADER.len() + 8 {
                return Ok(());
            }
            if &self.buf[..COPY_HEADER.len()] != COPY_HEADER {
                return Err(Self::bad("bad signature"));
            }
            let ext = i32::from_be_bytes(self.buf[15..19].try_into().expect("4 bytes")) as usize;
            if self.buf.len() < 19 + ext {
                return Ok(());
            }
            self.buf.advance(19 + ext);
            self.header_done = true;
        }
        let n_vars = self.vals.len();
        let first_var = 1 + self.with_asset as usize;
        let n_fields = first_var + n_vars;
        let mut consumed = 0usize;
        let result = loop {
            if self.trailer_seen {
                break Ok(());
            }
            // Check that a whole tuple is buffered before consuming it.
            let b = &self.buf[consumed..];
            if b.len() < 2 {
                break Ok(());
            }
            let fields = i16::from_be_bytes([b[0], b[1]]);
            if fields == -1 {
                self.trailer_seen = true;
                consumed += 2;
                break Ok(());
            }
            if fields as usize != n_fields {
                break Err(Self::bad("unexpected number of fields"));
            }
            let mut pos = 2;
            let mut whole = true;
            for l in self.lens.iter_mut().take(n_fields) {
                if b.len() < pos + 4 {
                    whole = false;
                    break;
                }
                let len = i32::from_be_bytes(b[pos..pos + 4].try_into().expect("4 bytes"));
                *l = len;
                pos += 4 + len.max(0) as usize;
                if b.len() < pos {
                    whole = false;
                    break;
                }
            }
            if !whole {
                break Ok(());
            }
            // Whole tuple present: decode it.
            let mut pos = 2;
            for f in 0..n_fields {
                let len = self.lens[f];
                pos += 4;
                if f == 0 {
                    if len != 8 {
                        return Err(Self::bad("a timestamp is NULL or not 8 bytes"));
                    }
                    let v = i64::from_be_bytes(b[pos..pos + 8].try_into().expect("8 bytes"));
                    self.ts.push(v + PG_EPOCH_OFFSET_US);
                    pos += 8;
                } else if f < first_var {
                    if len < 0 {
                        return Err(Error::data(
                            "source samples",
                            "a row has no asset (NULL in the asset column); every sample needs its asset",
                        ));
                    }
                    let bytes = &b[pos..pos + len as usize];
                    let id = match self.asset_index.get(bytes) {
                        Some(id) => *id,
                        None => {
                            let name = std::str::from_utf8(bytes)
                                .map_err(|_| Self::bad("an asset name is not UTF-8"))?;
                            let id = self.asset_names.len() as u32;
                            self.asset_names.push(name.to_string());
                            self.asset_index.insert(bytes.to_vec(), id);
                            id
                        }
                    };
                    self.asset_ids.push(id);
                    pos += len as usize;
                } else {
                    let k = f - first_var;
                    if len == 8 {
                        let v = f64::from_be_bytes(b[pos..pos + 8].try_into().expect("8 bytes"));
                        self.vals[k].push(v);
                        self.valid[k].push(true);
                        pos += 8;
                    } else if len < 0 {
                        self.vals[k].push(0.0);
                        self.valid[k].push(false);
                        self.has_null[k] = true;
                    } else {
                        return Err(Self::bad("a float8 value is not 8 bytes"));
                    }
                }
            }
            consumed += pos;
        };
        self.buf.advance(consumed);
        result
    }

    fn finish(self, names: &[&str]) -> Result<DataFrame> {
        if !self.header_done {
            return Err(Self::bad("no COPY header received"));
        }
        let mut columns: Vec<Column> = Vec::with_capacity(2 + names.len());
        let ts = Int64Chunked::from_vec(TIMESTAMP.into(), self.ts)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
        columns.push(ts.into_series().into());
        if self.with_asset {
            let names_ref = &self.asset_names;
            let assets: Vec<&str> = self
                .asset_ids
                .iter()
                .map(|id| names_ref[*id as usize].as_str())
                .collect();
            columns.push(Column::new(ASSET.into(), assets));
        }
        for (((name, vals), valid), has_null) in names
            .iter()
            .zip(self.vals)
            .zip(self.valid)
            .zip(self.has_null)
        {
            let validity = has_null.then(|| Bitmap::from_iter(valid));
            columns.push(
                Float64Chunked::from_vec_validity((*name).into(), vals, validity)
                    .into_series()
                    .into(),
            );
        }
        Ok(DataFrame::new_infer_height(columns)?)
    }
}

/// Timestamps of `df` as UTC microseconds since the Unix epoch.
pub(super) fn utc_micros(df: &DataFrame) -> Result<Vec<i64>> {
    let ts = crate::frame::utc_micros(crate::frame::column(df, TIMESTAMP)?)?;
    if ts.null_count() > 0 {
        return Err(Error::NullTimestamps {
            column: TIMESTAMP.into(),
            nulls: ts.null_count(),
        });
    }
    Ok(ts.into_no_null_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_binary_copy_in_pieces() {
        let mut b = BytesMut::new();
        b.put_slice(COPY_HEADER);
        b.put_i32(0);
        b.put_i32(0);
        for (t, v) in [(0i64, Some(1.5)), (60_000_000, None)] {
            b.put_i16(2);
            b.put_i32(8);
            b.put_i64(t - PG_EPOCH_OFFSET_US);
            match v {
                Some(v) => {
                    b.put_i32(8);
                    b.put_f64(v);
                }
                None => b.put_i32(-1),
            }
        }
        b.put_i16(-1);
        let bytes = b.freeze();
        // The encoder writes exactly these bytes.
        let mut e = CopyEncoder::with_capacity(0);
        for (t, v) in [(0i64, Some(1.5)), (60_000_000, None)] {
            e.row(2);
            e.timestamptz(t);
            e.float8(v);
        }
        let encoded = e.finish();
        assert_eq!(encoded.rows, 2);
        assert_eq!(encoded.bytes, bytes);
        // Feed one byte at a time: tuples split across chunks must decode.
        let mut d = CopyDecoder::new(false, 1);
        for i in 0..bytes.len() {
            d.feed(bytes.slice(i..i + 1)).unwrap();
        }
        let df = d.finish(&["power"]).unwrap();
        assert_eq!(df.height(), 2);
        let p = df.column("power").unwrap().f64().unwrap();
        assert_eq!(p.get(0), Some(1.5));
        assert_eq!(p.get(1), None);
        let ts = df
            .column("timestamp")
            .unwrap()
            .as_materialized_series()
            .datetime()
            .unwrap()
            .physical()
            .clone();
        assert_eq!(ts.get(1), Some(60_000_000));
    }

    #[test]
    fn assets_round_trip_and_a_null_asset_is_refused() {
        let mut e = CopyEncoder::with_capacity(64);
        for (t, a, v) in [
            (-1_000_000i64, "T01", 2.0),
            (0, "T02", -0.5),
            (1, "T01", 7.25),
        ] {
            e.row(3);
            e.timestamptz(t);
            e.text(a);
            e.float8(Some(v));
        }
        let mut d = CopyDecoder::new(true, 1);
        d.feed(e.finish().bytes).unwrap();
        let df = d.finish(&["power"]).unwrap();
        let assets: Vec<_> = df.column(ASSET).unwrap().str().unwrap().iter().collect();
        assert_eq!(assets, [Some("T01"), Some("T02"), Some("T01")]);
        let p: Vec<_> = df.column("power").unwrap().f64().unwrap().iter().collect();
        assert_eq!(p, [Some(2.0), Some(-0.5), Some(7.25)]);
        assert_eq!(utc_micros(&df).unwrap(), [-1_000_000, 0, 1]);

        let mut b = BytesMut::new();
        b.put_slice(COPY_HEADER);
        b.put_i32(0);
        b.put_i32(0);
        b.put_i16(2);
        b.put_i32(8);
        b.put_i64(0);
        b.put_i32(-1);
        let mut d = CopyDecoder::new(true, 0);
        assert!(d.feed(b.freeze()).is_err());
    }
}
