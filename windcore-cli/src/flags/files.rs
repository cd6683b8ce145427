//! The flags of a file source (`--source 'exports/*.csv'`): how the files are
//! written. The time and asset columns and the zone of naive times are the
//! layout flags every source shares.

use anyhow::Context;
use clap::Args;
use windcore::{CsvDialect, FileOptions, TimeFormat};

#[derive(Args, Debug, Clone, Default)]
pub struct FileArgs {
    /// Files only: a regular expression with one capture group, matched against each
    /// file's path, whose group is the file's asset (for one file per turbine, the turbine
    /// named only in the file name), e.g. 'Turbine_Data_(\w+?)_'.
    #[arg(long, value_name = "REGEX", help_heading = "File sources")]
    pub(super) asset_pattern: Option<String>,
    /// CSV field delimiter: ',', ';', 'tab' or another symbol [default: sniffed from the header].
    #[arg(long, value_name = "CHAR", help_heading = "File sources")]
    pub(super) delimiter: Option<String>,
    /// The decimal mark of CSV numbers: 'auto' (a comma when the delimiter is not a comma),
    /// 'comma' or 'point'.
    #[arg(
        long,
        value_name = "auto|comma|point",
        default_value = "auto",
        help_heading = "File sources"
    )]
    pub(super) decimal: String,
    /// Lines starting with this character are comments (before the header and after it);
    /// 'none' for no comment lines.
    #[arg(
        long,
        value_name = "CHAR",
        default_value = "#",
        help_heading = "File sources"
    )]
    pub(super) comment: String,
    /// Lines to skip at the start of each CSV file, before the header.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        help_heading = "File sources"
    )]
    pub(super) skip_lines: usize,
    /// The CSV quote character.
    #[arg(
        long,
        value_name = "CHAR",
        default_value = "\"",
        help_heading = "File sources"
    )]
    pub(super) quote: String,
    /// More markers of a missing value, comma-separated (always: empty, NA, N/A, #N/A, NaN,
    /// NAN, nan, null, NULL, None, -).
    #[arg(long, value_name = "LIST", help_heading = "File sources")]
    pub(super) na: Option<String>,
    /// How times are written: 'auto' (ISO 8601 with or without an offset, or epoch
    /// numbers), 'epoch-s', 'epoch-ms', or a strftime format such as '%d.%m.%Y %H:%M'
    /// (day first); a time without an offset is local to --source-timezone (default UTC).
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "auto",
        help_heading = "File sources"
    )]
    pub(super) time_format: String,
    /// Rename a column: 'Wind speed (m/s)=wind_speed' (repeatable). Without it a signal is
    /// named after its column, whatever characters it holds.
    #[arg(long, value_name = "FROM=TO", help_heading = "File sources")]
    pub(super) rename: Vec<String>,
}

impl FileArgs {
    /// The options of a file source.
    pub fn options(&self) -> anyhow::Result<FileOptions> {
        let delimiter = match &self.delimiter {
            Some(d) => Some(CsvDialect::parse_delimiter(d).context("--delimiter")?),
            None => None,
        };
        let decimal_comma = CsvDialect::parse_decimal(&self.decimal).context("--decimal")?;
        let comment = CsvDialect::parse_comment(&self.comment).context("--comment")?;
        let rename = self
            .rename
            .iter()
            .map(|r| match r.split_once('=') {
                Some((from, to)) if !from.is_empty() && !to.trim().is_empty() => {
                    Ok((from.to_string(), to.trim().to_string()))
                }
                _ => anyhow::bail!("--rename: `{r}` is not of the form FROM=TO"),
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(FileOptions {
            asset_pattern: self.asset_pattern.clone(),
            csv: CsvDialect {
                delimiter,
                decimal_comma,
                comment,
                skip_lines: self.skip_lines,
                quote: CsvDialect::parse_quote(&self.quote).context("--quote")?,
                na_values: self
                    .na
                    .as_deref()
                    .map(|s| s.split(',').map(|v| v.trim().to_string()).collect())
                    .unwrap_or_default(),
            },
            time_format: self
                .time_format
                .parse::<TimeFormat>()
                .context("--time-format")?,
            rename,
        })
    }
}
