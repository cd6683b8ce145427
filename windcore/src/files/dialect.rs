//! How a CSV file is written: delimiter, decimal mark, comment lines,
//! lines before the header, quoting and the markers of a missing value;
//! sniffed from the file where the user does not say.

use crate::error::{Error, Result};
use crate::setting::Setting;

/// The markers of a missing value that every CSV read understands (besides
/// an empty field): what pandas, R, loggers and SCADA exports write.
pub const DEFAULT_NA: [&str; 10] = [
    "NA", "N/A", "#N/A", "NaN", "NAN", "nan", "null", "NULL", "None", "-",
];

/// The CSV dialect of a file source. Every field has a default that reads
/// common exports as they are; set what a file does differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvDialect {
    /// The field delimiter; `None` (default) sniffs `,`, `;` or tab from the
    /// header line.
    pub delimiter: Option<u8>,
    /// Whether a comma is the decimal mark (`3,14`). `None` (default): yes
    /// when the delimiter is not a comma, so a `;` file with decimal commas
    /// and a `;` file with decimal points both read as written.
    pub decimal_comma: Option<bool>,
    /// Lines starting with this byte before the header (and anywhere after
    /// it) are comments. Default `#`.
    pub comment: Option<u8>,
    /// Lines to skip before the header (before comment lines are looked
    /// for). Default 0.
    pub skip_lines: usize,
    /// The quote character. Default `"`.
    pub quote: u8,
    /// Markers of a missing value besides [`DEFAULT_NA`] and the empty field.
    pub na_values: Vec<String>,
}

impl Default for CsvDialect {
    fn default() -> Self {
        CsvDialect {
            delimiter: None,
            decimal_comma: None,
            comment: Some(b'#'),
            skip_lines: 0,
            quote: b'"',
            na_values: Vec::new(),
        }
    }
}

impl CsvDialect {
    /// A delimiter given by name or character: `,`, `;`, `tab` or `\t`, `|`.
    pub fn parse_delimiter(s: &str) -> Result<u8> {
        match s {
            "tab" | "\\t" | "\t" => Ok(b'\t'),
            s if s.len() == 1 && s.is_ascii() && !s.as_bytes()[0].is_ascii_alphanumeric() => {
                Ok(s.as_bytes()[0])
            }
            other => Err(Error::config(
                Setting::Delimiter,
                format!(
                    "`{other}` is not a delimiter: give `,`, `;`, `tab` or another single symbol"
                ),
            )),
        }
    }

    /// The decimal mark by name: `auto` (`None`: a comma when the delimiter
    /// is not a comma), `comma` (or `,`) or `point` (or `.`).
    pub fn parse_decimal(s: &str) -> Result<Option<bool>> {
        match s.trim() {
            "auto" | "" => Ok(None),
            "comma" | "," => Ok(Some(true)),
            "point" | "dot" | "." => Ok(Some(false)),
            other => Err(Error::config(
                Setting::Decimal,
                format!("`{other}` is not a decimal mark: give auto, comma or point"),
            )),
        }
    }

    /// The comment character: one ASCII symbol, or `none` (or empty) for no
    /// comment lines.
    pub fn parse_comment(s: &str) -> Result<Option<u8>> {
        match s {
            "none" | "" => Ok(None),
            c => one_symbol(Setting::Comment, c).map(Some),
        }
    }

    /// The quote character: one ASCII symbol.
    pub fn parse_quote(s: &str) -> Result<u8> {
        one_symbol(Setting::Quote, s)
    }

    /// The delimiter of a file whose header line is `header`.
    pub(crate) fn delimiter_for(&self, header: &[u8]) -> u8 {
        if let Some(d) = self.delimiter {
            return d;
        }
        let mut counts = [0usize; 3];
        let mut quoted = false;
        for &b in header {
            if b == self.quote {
                quoted = !quoted;
            } else if !quoted {
                match b {
                    b',' => counts[0] += 1,
                    b';' => counts[1] += 1,
                    b'\t' => counts[2] += 1,
                    _ => {}
                }
            }
        }
        // Ties go to `;` over `,` (a `;` header rarely holds commas outside
        // quotes) and to tab last.
        let (mut best, mut n) = (b',', counts[0]);
        if counts[1] >= n && counts[1] > 0 {
            (best, n) = (b';', counts[1]);
        }
        if counts[2] > n {
            best = b'\t';
        }
        best
    }

    /// Whether a comma is a decimal mark in a file with `delimiter`.
    pub(crate) fn decimal_comma_for(&self, delimiter: u8) -> bool {
        self.decimal_comma.unwrap_or(delimiter != b',')
    }

    /// Whether `field` (trimmed) is a missing-value marker.
    pub(crate) fn is_na(&self, field: &[u8]) -> bool {
        field.is_empty()
            || DEFAULT_NA.iter().any(|m| m.as_bytes() == field)
            || self.na_values.iter().any(|m| m.as_bytes() == field)
    }
}

/// One ASCII character that is not a letter or a digit.
fn one_symbol(setting: Setting, s: &str) -> Result<u8> {
    match s.as_bytes() {
        [c] if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(*c),
        _ => Err(Error::config(
            setting,
            format!("`{s}` is not a single symbol (one ASCII character, not a letter or digit)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_delimiter() {
        let d = CsvDialect::default();
        assert_eq!(d.delimiter_for(b"time,turbine,power"), b',');
        assert_eq!(d.delimiter_for(b"time;turbine;\"power, kW\""), b';');
        assert_eq!(d.delimiter_for(b"time\tturbine\tpower"), b'\t');
        assert_eq!(d.delimiter_for(b"time"), b',');
        let forced = CsvDialect {
            delimiter: Some(b'|'),
            ..CsvDialect::default()
        };
        assert_eq!(forced.delimiter_for(b"a,b"), b'|');
        assert!(d.decimal_comma_for(b';'));
        assert!(!d.decimal_comma_for(b','));
    }

    #[test]
    fn delimiters_by_name() {
        assert_eq!(CsvDialect::parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(CsvDialect::parse_delimiter(";").unwrap(), b';');
        assert!(CsvDialect::parse_delimiter("ab").is_err());
        assert!(CsvDialect::parse_delimiter("a").is_err());
    }

    #[test]
    fn dialect_settings_by_name() {
        assert_eq!(CsvDialect::parse_decimal("auto").unwrap(), None);
        assert_eq!(CsvDialect::parse_decimal("comma").unwrap(), Some(true));
        assert_eq!(CsvDialect::parse_decimal("point").unwrap(), Some(false));
        assert!(CsvDialect::parse_decimal("x").is_err());
        assert_eq!(CsvDialect::parse_comment("none").unwrap(), None);
        assert_eq!(CsvDialect::parse_comment("#").unwrap(), Some(b'#'));
        assert!(CsvDialect::parse_comment("##").is_err());
        assert_eq!(CsvDialect::parse_quote("'").unwrap(), b'\'');
        assert!(CsvDialect::parse_quote("").is_err());
    }

    #[test]
    fn na_markers() {
        let d = CsvDialect {
            na_values: vec!["-999".into()],
            ..CsvDialect::default()
        };
        for na in ["", "NA", "NAN", "nan", "-999", "#N/A"] {
            assert!(d.is_na(na.as_bytes()), "{na}");
        }
        assert!(!d.is_na(b"0"));
    }
}
