//! Reading CSV exports and TOA5 logger files as they are: the prelude before
//! the header (skipped lines, `#` comments, TOA5's metadata, units and
//! processing rows), then the data rows, block by block, so memory stays
//! bounded whatever the size of the file.
//!
//! A row whose time or a number does not parse is not a sample: it is
//! counted as a bad row and the first few are kept with file and line.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::files::dialect::CsvDialect;
use crate::files::open::open_decompressed;
use crate::files::rows::{Batch, FileColumns};
use crate::files::time::TimeParser;
use crate::report::BadRows;

/// The bytes read at a time; a block ends at a record boundary.
const BLOCK: usize = 8 << 20;

/// What precedes the data rows of a file, and how its rows are split.
#[derive(Debug, Clone)]
pub(crate) struct CsvHeader {
    /// The column names, unquoted and trimmed.
    pub names: Vec<String>,
    /// The delimiter in use.
    pub delimiter: u8,
    /// Whether a comma is the decimal mark.
    pub decimal_comma: bool,
    /// The line number (1-based) of the first data row.
    pub first_data_line: u64,
    /// Whether this is a Campbell Scientific TOA5 file.
    pub toa5: bool,
}

/// Reads the prelude and header of a CSV file, and up to `sample` data rows
/// split into fields (for sniffing types). `reader` is left after the header.
pub(crate) fn read_header(
    reader: &mut impl BufRead,
    path: &Path,
    dialect: &CsvDialect,
    sample: usize,
) -> Result<(CsvHeader, Vec<Vec<String>>)> {
    let mut line = Vec::new();
    let mut line_no = 0u64;
    let read = |reader: &mut dyn BufRead, line: &mut Vec<u8>, line_no: &mut u64| -> Result<bool> {
        line.clear();
        let n = reader
            .read_until(b'\n', line)
            .map_err(|e| Error::io("reading", path, e))?;
        if n > 0 {
            *line_no += 1;
        }
        trim_eol(line);
        Ok(n > 0)
    };
    for _ in 0..dialect.skip_lines {
        if !read(reader, &mut line, &mut line_no)? {
            break;
        }
    }
    let mut toa5 = false;
    loop {
        if !read(reader, &mut line, &mut line_no)? {
            return Err(no_header(path));
        }
        let t = trim_bytes(&line);
        if t.is_empty() || dialect.comment.is_some_and(|c| t.first() == Some(&c)) {
            continue;
        }
        if line_no == dialect.skip_lines as u64 + 1 && unquote(t).starts_with(b"TOA5") {
            toa5 = true;
            continue;
        }
        break;
    }
    let strip = |s: &[u8]| s.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(s).to_vec();
    let header = strip(&line);
    let delimiter = dialect.delimiter_for(&header);
    let mut ranges = Vec::new();
    split_fields(&header, delimiter, dialect.quote, &mut ranges);
    let names: Vec<String> = ranges
        .iter()
        .map(|f| String::from_utf8_lossy(&field_text(&header, f, dialect.quote)).into_owned())
        .collect();
    if toa5 {
        // The units and processing rows.
        for _ in 0..2 {
            read(reader, &mut line, &mut line_no)?;
        }
    }
    let first_data_line = line_no + 1;
    let mut rows = Vec::new();
    // Peek at the first rows without consuming them: they are data.
    let buf = reader
        .fill_buf()
        .map_err(|e| Error::io("reading", path, e))?;
    for raw in buf.split(|&b| b == b'\n').take(sample + 1) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() || dialect.comment.is_some_and(|c| raw.first() == Some(&c)) {
            continue;
        }
        split_fields(raw, delimiter, dialect.quote, &mut ranges);
        rows.push(
            ranges
                .iter()
                .map(|f| String::from_utf8_lossy(&field_text(raw, f, dialect.quote)).into_owned())
                .collect(),
        );
        if rows.len() >= sample {
            break;
        }
    }
    // The last peeked line may be cut by the buffer's end: drop it.
    if rows.len() > 1 && !buf.ends_with(b"\n") && rows.len() < sample {
        rows.pop();
    }
    Ok((
        CsvHeader {
            names,
            delimiter,
            decimal_comma: dialect.decimal_comma_for(delimiter),
            first_data_line,
            toa5,
        },
        rows,
    ))
}

fn no_header(path: &Path) -> Error {
    Error::Data {
        context: format!("reading {}", path.display()),
        detail: "the file has no header line (it is empty, or holds only comment lines)".into(),
    }
}

/// Reads every data row of the CSV file at `path` (whose header is
/// `header`), calling `emit` with batches of parsed rows in file order.
pub(crate) fn read_rows(
    path: &Path,
    dialect: &CsvDialect,
    cols: &FileColumns,
    time: &mut TimeParser,
    bad: &mut BadRows,
    mut emit: impl FnMut(Batch) -> Result<()>,
) -> Result<u64> {
    let mut reader = BufReader::with_capacity(1 << 20, open_decompressed(path)?);
    let (header, _) = read_header(&mut reader, path, dialect, 0)?;
    let parser = RowParser {
        path,
        dialect,
        header: &header,
        cols,
    };
    let mut line_no = header.first_data_line;
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + (1 << 16));
    let mut rows = 0u64;
    let mut eof = false;
    while !eof {
        // Fill the block.
        let start = buf.len();
        buf.resize(BLOCK.max(start + (1 << 16)), 0);
        let mut filled = start;
        while filled < buf.len() {
            let n = reader
                .read(&mut buf[filled..])
                .map_err(|e| Error::io("reading", path, e))?;
            if n == 0 {
                eof = true;
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        let cut = if eof {
            buf.len()
        } else {
            match record_end(&buf, dialect.quote) {
                Some(c) => c,
                // One record longer than the block: read more.
                None => continue,
            }
        };
        let mut batch = Batch::new(cols.variables.len(), cols.asset.is_some());
        line_no = parser.parse_block(&buf[..cut], line_no, time, &mut batch, bad);
        rows += batch.len() as u64;
        if !batch.is_empty() {
            emit(batch)?;
        }
        buf.drain(..cut);
    }
    Ok(rows)
}

/// The end of the last complete record in `buf` (just after its newline),
/// taking quoted newlines into account.
fn record_end(buf: &[u8], quote: u8) -> Option<usize> {
    if memchr::memchr(quote, buf).is_none() {
        return memchr::memrchr(b'\n', buf).map(|i| i + 1);
    }
    let mut quoted = false;
    let mut end = None;
    for i in memchr::memchr2_iter(quote, b'\n', buf) {
        if buf[i] == quote {
            quoted = !quoted;
        } else if !quoted {
            end = Some(i + 1);
        }
    }
    end
}

struct RowParser<'a> {
    path: &'a Path,
    dialect: &'a CsvDialect,
    header: &'a CsvHeader,
    cols: &'a FileColumns,
}

impl RowParser<'_> {
    /// Parses the complete records of `block`, the first on line `line_no`;
    /// returns the line number after the block.
    fn parse_block(
        &self,
        block: &[u8],
        mut line_no: u64,
        time: &mut TimeParser,
        out: &mut Batch,
        bad: &mut BadRows,
    ) -> u64 {
        let quote = self.dialect.quote;
        let mut fields = Vec::with_capacity(self.header.names.len());
        let mut num = Scratch::default();
        let mut pos = 0;
        while pos < block.len() {
            // One record: up to a newline outside quotes.
            let rest = &block[pos..];
            let (len, lines) = match memchr::memchr(b'\n', rest) {
                Some(i) if !rest[..i].contains(&quote) => (i, 1),
                _ => record_len(rest, quote),
            };
            let mut rec = &rest[..len];
            pos += (len + 1).min(rest.len());
            let this_line = line_no;
            line_no += lines;
            if let Some(r) = rec.strip_suffix(b"\r") {
                rec = r;
            }
            if rec.is_empty()
                || self
                    .dialect
                    .comment
                    .is_some_and(|c| rec.first() == Some(&c))
            {
                continue;
            }
            split_fields(rec, self.header.delimiter, quote, &mut fields);
            if let Err(why) = self.parse_record(rec, &fields, time, out, &mut num) {
                bad.add(self.path, this_line, why);
            }
        }
        line_no
    }

    fn parse_record(
        &self,
        rec: &[u8],
        fields: &[Field],
        time: &mut TimeParser,
        out: &mut Batch,
        num: &mut Scratch,
    ) -> std::result::Result<(), String> {
        let cols = self.cols;
        if fields.len() < cols.needed {
            return Err(format!(
                "{} field(s), the header has {}",
                fields.len(),
                self.header.names.len()
            ));
        }
        let tf = &fields[cols.time];
        let t = time.parse(&rec[tf.start..tf.end]).ok_or_else(|| {
            format!(
                "`{}` in column `{}` is not a time",
                show(&rec[tf.start..tf.end]),
                self.header.names[cols.time]
            )
        })?;
        num_vals(self, rec, fields, num)?;
        if let Some(a) = &cols.asset {
            let name = match a {
                crate::files::rows::AssetFrom::Column(c) => {
                    let f = &fields[*c];
                    field_text(rec, f, self.dialect.quote)
                }
                crate::files::rows::AssetFrom::Constant(_) => std::borrow::Cow::Borrowed(&[][..]),
            };
            out.push_asset(a, &name);
        }
        for (v, x) in num.vals.iter().enumerate() {
            out.values[v].push(*x);
        }
        out.ts.push(t);
        Ok(())
    }
}

/// Scratch space for one record's numbers.
#[derive(Default)]
struct Scratch {
    text: Vec<u8>,
    vals: Vec<f64>,
}

/// The numbers of a record's variable columns into `num.vals`, or why not.
fn num_vals(
    p: &RowParser<'_>,
    rec: &[u8],
    fields: &[Field],
    num: &mut Scratch,
) -> std::result::Result<(), String> {
    num.vals.clear();
    for &c in &p.cols.variables {
        let value = match c {
            None => f64::NAN,
            Some(c) => {
                let f = &fields[c];
                let text = trim_bytes(unquote(&rec[f.start..f.end]));
                if p.dialect.is_na(text) {
                    f64::NAN
                } else {
                    parse_number(text, p.header.decimal_comma, &mut num.text).ok_or_else(|| {
                        format!(
                            "`{}` in column `{}` is not a number",
                            show(text),
                            p.header.names[c]
                        )
                    })?
                }
            }
        };
        num.vals.push(value);
    }
    Ok(())
}

/// The length of the record at the start of `rest` (without its newline)
/// and the lines it spans, with quoted newlines inside fields.
fn record_len(rest: &[u8], quote: u8) -> (usize, u64) {
    let mut quoted = false;
    let mut lines = 1;
    for i in memchr::memchr2_iter(quote, b'\n', rest) {
        if rest[i] == quote {
            quoted = !quoted;
        } else if quoted {
            lines += 1;
        } else {
            return (i, lines);
        }
    }
    (rest.len(), lines)
}

/// A field of a record: its byte range, quotes included.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    start: usize,
    end: usize,
}

/// Splits `rec` at `delim` outside quotes.
pub(crate) fn split_fields(rec: &[u8], delim: u8, quote: u8, out: &mut Vec<Field>) {
    out.clear();
    if !rec.contains(&quote) {
        let mut start = 0;
        for i in memchr::memchr_iter(delim, rec) {
            out.push(Field { start, end: i });
            start = i + 1;
        }
        out.push(Field {
            start,
            end: rec.len(),
        });
        return;
    }
    let mut quoted = false;
    let mut start = 0;
    for (i, &b) in rec.iter().enumerate() {
        if b == quote {
            quoted = !quoted;
        } else if b == delim && !quoted {
            out.push(Field { start, end: i });
            start = i + 1;
        }
    }
    out.push(Field {
        start,
        end: rec.len(),
    });
}

/// A field's text: trimmed, outer quotes removed, doubled quotes undone.
pub(crate) fn field_text<'a>(rec: &'a [u8], f: &Field, quote: u8) -> std::borrow::Cow<'a, [u8]> {
    let t = trim_bytes(&rec[f.start..f.end]);
    if t.len() >= 2 && t[0] == quote && t[t.len() - 1] == quote {
        let inner = &t[1..t.len() - 1];
        if inner.windows(2).any(|w| w[0] == quote && w[1] == quote) {
            let mut v = Vec::with_capacity(inner.len());
            let mut i = 0;
            while i < inner.len() {
                v.push(inner[i]);
                if inner[i] == quote && inner.get(i + 1) == Some(&quote) {
                    i += 1;
                }
                i += 1;
            }
            return std::borrow::Cow::Owned(v);
        }
        return std::borrow::Cow::Borrowed(inner);
    }
    std::borrow::Cow::Borrowed(t)
}

fn unquote(t: &[u8]) -> &[u8] {
    let t = trim_bytes(t);
    if t.len() >= 2 && t[0] == b'"' && t[t.len() - 1] == b'"' {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

pub(crate) fn trim_bytes(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn trim_eol(line: &mut Vec<u8>) {
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
}

/// A number as files write it (decimal comma allowed where the dialect
/// says); `None` when it is not one. Infinite values are not samples.
pub(crate) fn parse_number(text: &[u8], decimal_comma: bool, scratch: &mut Vec<u8>) -> Option<f64> {
    let x: f64 = if decimal_comma && text.contains(&b',') {
        scratch.clear();
        scratch.extend(text.iter().map(|&b| if b == b',' { b'.' } else { b }));
        fast_float2::parse(&scratch[..]).ok()?
    } else {
        fast_float2::parse(text).ok()?
    };
    // NaN spelled as a number is a missing value, like an NA marker.
    (!x.is_infinite()).then_some(x)
}

/// A field for a message: at most 40 characters.
fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(rec: &str, d: u8) -> Vec<String> {
        let mut f = Vec::new();
        split_fields(rec.as_bytes(), d, b'"', &mut f);
        f.iter()
            .map(|x| String::from_utf8(field_text(rec.as_bytes(), x, b'"').into_owned()).unwrap())
            .collect()
    }

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(fields("a,b,,c", b','), ["a", "b", "", "c"]);
        assert_eq!(
            fields("\"a,1\",\"say \"\"hi\"\"\", c ", b','),
            ["a,1", "say \"hi\"", "c"]
        );
        assert_eq!(fields("1,5;2,5", b';'), ["1,5", "2,5"]);
    }

    #[test]
    fn numbers() {
        let mut s = Vec::new();
        assert_eq!(parse_number(b"3,25", true, &mut s), Some(3.25));
        assert_eq!(parse_number(b"3.25", true, &mut s), Some(3.25));
        assert_eq!(parse_number(b"-1e3", false, &mut s), Some(-1000.0));
        assert_eq!(parse_number(b"3,25", false, &mut s), None);
        assert_eq!(parse_number(b"abc", false, &mut s), None);
        assert_eq!(parse_number(b"inf", false, &mut s), None);
    }

    #[test]
    fn record_ends_respect_quotes() {
        assert_eq!(record_end(b"a,b\nc,d\ne", b'"'), Some(8));
        assert_eq!(record_end(b"a,\"b\nc\"\nd", b'"'), Some(8));
        assert_eq!(record_end(b"a,\"b\nc", b'"'), None);
        assert_eq!(record_len(b"a,\"b\nc\",d\ne", b'"'), (9, 2));
    }
}
