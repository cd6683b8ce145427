//! [`FileSource`]: what the files hold (columns, the time and asset of each
//! file, the variables), staging them once, and extracting days.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use polars::prelude::*;
use serde::Serialize;

use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::files::csv;
use crate::files::dialect::CsvDialect;
use crate::files::open::{detect, list_files, open_decompressed, Format};
use crate::files::parquet;
use crate::files::rows::{AssetFrom, FileColumns};
use crate::files::stage::Stage;
use crate::files::time::{TimeFormat, TimeParser};
use crate::postgres::SourceLayout;
use crate::report::BadRows;
use crate::schema::{ASSET, TIMESTAMP};
use crate::setting::Setting;
use crate::traits::Extract;
use crate::zone::Zone;

/// Data rows looked at to tell a file's numeric and time columns.
const SNIFF_ROWS: usize = 100;

/// How to read files beyond the [`SourceLayout`] (time and asset columns,
/// the zone of naive times), which files share with tables.
#[derive(Debug, Clone, Default)]
pub struct FileOptions {
    /// A regular expression with one capture group, matched against each
    /// file's path: the group is the file's asset, for files that hold one
    /// asset named only in the file name (`turbine_(T\d+)_`). Exclusive with
    /// an asset column.
    pub asset_pattern: Option<String>,
    /// The CSV dialect (delimiter, decimal comma, comments, quoting, NA
    /// markers); sniffed where not set. TOA5 logger files are recognised by
    /// their first line.
    pub csv: CsvDialect,
    /// How times are written. Default: ISO 8601 with or without an offset,
    /// or epoch numbers.
    pub time_format: TimeFormat,
    /// Renames: `(column in the files, variable name)`. A variable is named
    /// after its column, whatever characters it holds, unless renamed here.
    pub rename: Vec<(String, String)>,
}

/// What reading the files found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// Files read.
    pub files: usize,
    /// Rows read as samples (duplicates included; they are counted per day).
    pub rows: u64,
    /// Rows that were not samples, with the first few.
    pub bad_rows: BadRows,
}

/// Files as a source of raw samples: a file, a glob or a directory of CSV
/// (optionally `.gz` / `.zst`), TOA5 or Parquet files.
///
/// [`open`](FileSource::open) reads every file once into a temporary
/// staging area (removed when the source is dropped); extracts then read a
/// day from it.
#[derive(Debug, Clone)]
pub struct FileSource {
    pattern: String,
    variables: Vec<String>,
    has_assets: bool,
    stage: Arc<Stage>,
    report: FileReport,
}

/// One file's columns as found.
struct Found {
    path: PathBuf,
    format: Format,
    /// Column names, renamed.
    names: Vec<String>,
    numeric: Vec<bool>,
    time_like: Vec<bool>,
    toa5: bool,
}

fn file_error(path: &Path, detail: impl Into<String>) -> Error {
    Error::Data {
        context: format!("reading {}", path.display()),
        detail: detail.into(),
    }
}

impl FileSource {
    /// Reads the files `pattern` names (a file, a glob such as
    /// `exports/*.csv`, or a directory) with the layout's time and asset
    /// columns and zone of naive times, and `options`. `variables`: the
    /// channels to stage (`None`: every numeric column). Blocking: call it
    /// from a blocking thread in async code ([`open_async`](Self::open_async)).
    pub fn open(
        pattern: &str,
        layout: &SourceLayout,
        options: &FileOptions,
        variables: Option<&[String]>,
    ) -> Result<Self> {
        if options.asset_pattern.is_some() && layout.asset_column.is_some() {
            return Err(Error::config(
                Setting::Asset,
                "give an asset column or an asset pattern for the file names, not both",
            ));
        }
        let asset_re = match &options.asset_pattern {
            None => None,
            Some(p) => {
                let re = regex::Regex::new(p).map_err(|e| {
                    Error::config(
                        Setting::AssetPattern,
                        format!("`{p}` is not a regular expression: {e}"),
                    )
                })?;
                if re.captures_len() < 2 {
                    return Err(Error::config(
                        Setting::AssetPattern,
                        format!("`{p}` has no capture group: put the asset name in parentheses, e.g. `turbine_(\\w+)\\.csv`"),
                    ));
                }
                Some(re)
            }
        };
        let zone = layout.naive_timezone.unwrap_or(Zone::UTC);
        let files = list_files(pattern)?;
        let found: Vec<Found> = files
            .iter()
            .map(|p| find_columns(p, options, zone))
            .collect::<Result<_>>()?;
        let time_cols: Vec<usize> = found
            .iter()
            .map(|f| time_column(f, &layout.time_column))
            .collect::<Result<_>>()?;
        let assets: Vec<Option<AssetFrom>> = found
            .iter()
            .map(|f| asset_of(f, layout.asset_column.as_deref(), asset_re.as_ref()))
            .collect::<Result<_>>()?;
        let mut numeric: Vec<String> = Vec::new();
        for ((f, &t), a) in found.iter().zip(&time_cols).zip(&assets) {
            for (c, name) in f.names.iter().enumerate() {
                let is_asset = matches!(a, Some(AssetFrom::Column(x)) if *x == c);
                let record = f.toa5 && name == "RECORD";
                if f.numeric[c] && c != t && !is_asset && !record && !numeric.contains(name) {
                    numeric.push(name.clone());
                }
            }
        }
        let variables = match variables {
            None => numeric,
            Some(want) => {
                for v in want {
                    if !numeric.contains(v) {
                        return Err(Error::UnknownVariable {
                            name: v.clone(),
                            known: numeric.join(", "),
                        });
                    }
                }
                want.to_vec()
            }
        };
        let has_assets = assets.first().is_some_and(|a| a.is_some());
        let mut stage = Stage::new(variables.len(), has_assets)?;
        let mut bad = BadRows::default();
        let mut rows = 0;
        for ((f, t), asset) in found.iter().zip(time_cols).zip(assets) {
            let index: Vec<Option<usize>> = variables
                .iter()
                .map(|v| f.names.iter().position(|n| n == v))
                .collect();
            let needed = index
                .iter()
                .flatten()
                .chain([&t])
                .chain(match &asset {
                    Some(AssetFrom::Column(a)) => Some(a),
                    _ => None,
                })
                .max()
                .map_or(0, |m| m + 1);
            let cols = FileColumns {
                time: t,
                asset,
                variables: index,
                needed,
            };
            let mut time = TimeParser::new(options.time_format.clone(), zone);
            let emit = |b| stage.add(b);
            rows += match f.format {
                Format::Csv => {
                    csv::read_rows(&f.path, &options.csv, &cols, &mut time, &mut bad, emit)?
                }
                Format::Parquet => {
                    parquet::read_rows(&f.path, &f.names, &cols, &mut time, &mut bad, emit)?
                }
            };
        }
        stage.flush()?;
        Ok(FileSource {
            pattern: pattern.to_string(),
            variables,
            has_assets,
            stage: Arc::new(stage),
            report: FileReport {
                files: files.len(),
                rows,
                bad_rows: bad,
            },
        })
    }

    /// [`open`](Self::open) on a blocking thread.
    pub async fn open_async(
        pattern: &str,
        layout: &SourceLayout,
        options: &FileOptions,
        variables: Option<&[String]>,
    ) -> Result<Self> {
        let (p, l, o) = (pattern.to_string(), layout.clone(), options.clone());
        let v = variables.map(|v| v.to_vec());
        tokio::task::spawn_blocking(move || FileSource::open(&p, &l, &o, v.as_deref()))
            .await
            .map_err(|_| Error::Cancelled)?
    }

    /// What reading the files found: files, rows, bad rows.
    pub fn report(&self) -> &FileReport {
        &self.report
    }

    /// The UTC days that hold samples, in order.
    pub fn days(&self) -> Vec<Day> {
        self.stage.days()
    }

    /// The local days of `zone` that hold samples, in order (exactly: from the
    /// first and last instant of each staged UTC day).
    pub fn days_in(&self, zone: Zone) -> Vec<Day> {
        self.stage.days_in(zone)
    }

    /// The assets of the files, in order of appearance (empty without assets).
    pub fn assets(&self) -> Vec<String> {
        self.stage.asset_names().to_vec()
    }

    fn extract_blocking(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let idx: Vec<usize> = variables
            .iter()
            .map(|v| {
                self.variables
                    .iter()
                    .position(|x| x == v)
                    .ok_or_else(|| Error::UnknownVariable {
                        name: v.clone(),
                        known: self.variables.join(", "),
                    })
            })
            .collect::<Result<_>>()?;
        let (lo, hi) = (range.start_micros(), range.end_micros());
        let mut ts = Vec::new();
        let mut assets = Vec::new();
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); idx.len()];
        let mut day = Day::containing(range.start);
        while day.start() < range.end {
            let rows = self.stage.read(day, &idx)?;
            for i in 0..rows.ts.len() {
                let t = rows.ts[i];
                if t < lo || t >= hi {
                    continue;
                }
                ts.push(t);
                if self.has_assets {
                    assets.push(rows.asset[i]);
                }
                for (k, v) in values.iter_mut().enumerate() {
                    v.push(rows.values[k][i]);
                }
            }
            day = match day.succ() {
                Some(d) => d,
                None => break,
            };
        }
        let mut cols: Vec<Column> = Vec::with_capacity(variables.len() + 2);
        cols.push(
            Int64Chunked::from_vec(TIMESTAMP.into(), ts)
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_series()
                .into(),
        );
        if self.has_assets {
            let names = self.stage.asset_names();
            let a: StringChunked = assets
                .iter()
                .map(|&i| Some(names[i as usize].as_str()))
                .collect();
            cols.push(a.with_name(ASSET.into()).into_series().into());
        }
        for (name, v) in variables.iter().zip(values) {
            cols.push(
                Float64Chunked::from_vec(name.as_str().into(), v)
                    .into_series()
                    .into(),
            );
        }
        Ok(DataFrame::new_infer_height(cols)?)
    }
}

#[async_trait]
impl Extract for FileSource {
    fn describe(&self) -> String {
        format!("files:{}", self.pattern)
    }

    fn variables(&self) -> Vec<String> {
        self.variables.clone()
    }

    fn bad_rows(&self) -> BadRows {
        self.report.bad_rows.clone()
    }

    async fn extract(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let this = self.clone();
        let vars = variables.to_vec();
        tokio::task::spawn_blocking(move || this.extract_blocking(range, &vars))
            .await
            .map_err(|_| Error::Cancelled)?
    }
}

/// The columns of one file, renamed, with what they can hold.
fn find_columns(path: &Path, options: &FileOptions, zone: Zone) -> Result<Found> {
    let format = detect(path)?;
    let rename = |n: String| {
        options
            .rename
            .iter()
            .find(|(from, _)| *from == n)
            .map_or(n, |(_, to)| to.clone())
    };
    match format {
        Format::Parquet => {
            let schema = parquet::schema(path)?;
            let names: Vec<String> = schema.iter_names().map(|n| rename(n.to_string())).collect();
            let numeric = schema
                .iter_values()
                .map(|d| d.is_primitive_numeric())
                .collect();
            let time_like = schema.iter_values().map(parquet::is_time_type).collect();
            Ok(Found {
                path: path.to_path_buf(),
                format,
                names,
                numeric,
                time_like,
                toa5: false,
            })
        }
        Format::Csv => {
            let mut reader = std::io::BufReader::with_capacity(1 << 20, open_decompressed(path)?);
            let (header, sample) = csv::read_header(&mut reader, path, &options.csv, SNIFF_ROWS)?;
            let mut time = TimeParser::new(options.time_format.clone(), zone);
            let mut scratch = Vec::new();
            let n = header.names.len();
            // A column is numeric when most of its sampled values are numbers
            // (the others are then bad rows, counted), or all are missing.
            let mut numbers = vec![0usize; n];
            let mut texts = vec![0usize; n];
            let mut time_like = vec![false; n];
            let mut time_bad = vec![false; n];
            for row in &sample {
                for (c, v) in row.iter().enumerate().take(n) {
                    let v = csv::trim_bytes(v.as_bytes());
                    if options.csv.is_na(v) {
                        continue;
                    }
                    if csv::parse_number(v, header.decimal_comma, &mut scratch).is_some() {
                        numbers[c] += 1;
                    } else {
                        texts[c] += 1;
                    }
                    if time.parse(v).is_some() {
                        time_like[c] = true;
                    } else {
                        time_bad[c] = true;
                    }
                }
            }
            let numeric: Vec<bool> = (0..n).map(|c| numbers[c] >= texts[c]).collect();
            for c in 0..n {
                time_like[c] &= !time_bad[c] && !numeric[c];
            }
            Ok(Found {
                path: path.to_path_buf(),
                format,
                names: header.names.into_iter().map(rename).collect(),
                numeric,
                time_like,
                toa5: header.toa5,
            })
        }
    }
}

/// The time column of a file: the one named; for the default name
/// (`timestamp`), also that name in any case, else the first column of times.
fn time_column(f: &Found, name: &str) -> Result<usize> {
    if let Some(i) = f.names.iter().position(|n| n == name) {
        return Ok(i);
    }
    if name == TIMESTAMP {
        if let Some(i) = f.names.iter().position(|n| n.eq_ignore_ascii_case(name)) {
            return Ok(i);
        }
        if let Some(i) = f.time_like.iter().position(|&t| t) {
            return Ok(i);
        }
    }
    Err(file_error(
        &f.path,
        format!(
            "no time column `{name}` (columns: {}); name it with --time-column (Python: time_column=)",
            f.names.join(", ")
        ),
    ))
}

fn asset_of(
    f: &Found,
    column: Option<&str>,
    pattern: Option<&regex::Regex>,
) -> Result<Option<AssetFrom>> {
    if let Some(a) = column {
        return match f.names.iter().position(|n| n == a) {
            Some(i) => Ok(Some(AssetFrom::Column(i))),
            None => Err(file_error(
                &f.path,
                format!("no asset column `{a}` (columns: {})", f.names.join(", ")),
            )),
        };
    }
    let Some(re) = pattern else {
        return Ok(None);
    };
    let text = f.path.to_string_lossy();
    match re.captures(&text).and_then(|c| c.get(1)) {
        Some(m) if !m.as_str().is_empty() => Ok(Some(AssetFrom::Constant(m.as_str().to_string()))),
        _ => Err(file_error(
            &f.path,
            format!(
                "the asset pattern `{}` does not match this file's path",
                re.as_str()
            ),
        )),
    }
}
