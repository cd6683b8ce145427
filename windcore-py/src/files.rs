//! The keyword arguments of a file source (`windcore.run(source="exports/*.csv",
//! asset_pattern=..., delimiter=";", ...)`) to the core's [`FileOptions`].
//! Conversion only: each setting is parsed by the core
//! (`CsvDialect::parse_delimiter`, `TimeFormat::from_str`, ...).

use std::collections::HashMap;

use pyo3::prelude::*;
use windcore::{CsvDialect, FileOptions, TimeFormat};

use crate::convert::Names;
use crate::errors::to_py_err;

/// What `windcore.run` was given about reading files, as Python gave it.
pub struct FileArgs {
    /// A regex with one capture group, matched against each file's path.
    pub asset_pattern: Option<String>,
    /// `','`, `';'`, `'tab'`, ... (None: sniffed).
    pub delimiter: Option<String>,
    /// `'auto'`, `'comma'` or `'point'` (None: auto).
    pub decimal: Option<String>,
    /// The comment character; `None` or `'none'`: no comment lines.
    pub comment: Option<String>,
    /// Lines to skip before the header.
    pub skip_lines: usize,
    /// The quote character.
    pub quote: String,
    /// More NA markers.
    pub na_values: Option<Names>,
    /// `'auto'`, `'epoch-s'`, `'epoch-ms'` or a strftime format (None: auto).
    pub time_format: Option<String>,
    /// `{column: variable}`.
    pub rename: Option<HashMap<String, String>>,
}

impl FileArgs {
    /// The core's options.
    pub fn options(self) -> PyResult<FileOptions> {
        let delimiter = self
            .delimiter
            .as_deref()
            .map(CsvDialect::parse_delimiter)
            .transpose()
            .map_err(to_py_err)?;
        let decimal_comma = match self.decimal.as_deref() {
            Some(d) => CsvDialect::parse_decimal(d).map_err(to_py_err)?,
            None => None,
        };
        let comment = match self.comment.as_deref() {
            Some(c) => CsvDialect::parse_comment(c).map_err(to_py_err)?,
            None => None,
        };
        let time_format = match self.time_format.as_deref() {
            Some(f) => f.parse::<TimeFormat>().map_err(to_py_err)?,
            None => TimeFormat::Auto,
        };
        let mut rename: Vec<(String, String)> =
            self.rename.unwrap_or_default().into_iter().collect();
        rename.sort();
        Ok(FileOptions {
            asset_pattern: self.asset_pattern,
            csv: CsvDialect {
                delimiter,
                decimal_comma,
                comment,
                skip_lines: self.skip_lines,
                quote: CsvDialect::parse_quote(&self.quote).map_err(to_py_err)?,
                na_values: self.na_values.map(|n| n.0).unwrap_or_default(),
            },
            time_format,
            rename,
        })
    }
}
