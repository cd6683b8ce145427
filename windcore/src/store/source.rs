//! Raw samples as one Parquet file per UTC day: the source side of the
//! embedded store.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use polars::prelude::*;

use super::files::{list_days, read_day_file, read_day_schema, write_atomic};
use super::frame::{naive_to_utc, utc_micros};
use crate::day::{Day, TimeRange};
use crate::error::{Error, Result};
use crate::frame::{column, column_list};
use crate::frame::{within, NullTime};
use crate::generate::SOURCE_VARIABLES;
use crate::postgres::SourceLayout;
use crate::schema::{ASSET, TIMESTAMP};
use crate::traits::Extract;
use crate::zone::Zone;

/// Raw samples as one Parquet file per UTC day.
///
/// A file holds a timestamp column (default `timestamp`), optionally an asset
/// column (default `asset` when the files have one: a farm) and numeric
/// channels, which are the source's variables. The writer of demo data uses
/// exactly these names; files of your own may use other names for the time
/// and asset columns (see [`with_layout`](ParquetSource::with_layout)).
#[derive(Debug, Clone)]
pub struct ParquetSource {
    dir: PathBuf,
    time_column: String,
    asset_column: Option<String>,
    naive_timezone: Option<Zone>,
}

impl ParquetSource {
    /// The dataset in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ParquetSource {
            dir: dir.into(),
            time_column: TIMESTAMP.into(),
            asset_column: None,
            naive_timezone: None,
        }
    }

    /// Reads the time and asset columns named by `layout` (its table is
    /// ignored). Without an asset column, a column named `asset` is used when
    /// the files have one.
    pub fn with_layout(mut self, layout: &SourceLayout) -> Self {
        self.time_column = layout.time_column.clone();
        self.asset_column = layout.asset_column.clone();
        self.naive_timezone = layout.naive_timezone;
        self
    }

    /// The dataset's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The days present, in order.
    pub fn days(&self) -> Result<Vec<Day>> {
        list_days(&self.dir)
    }

    /// The samples of `day`, or `None` if the day is not present.
    pub fn read_day(&self, day: Day) -> Result<Option<DataFrame>> {
        read_day_file(&self.dir, day, None)
    }

    /// Every asset of every day file (the distinct values of the asset
    /// column), sorted; empty when the files have no asset column (one asset).
    pub fn assets(&self) -> Result<Vec<String>> {
        let Some(schema) = self.schema()? else {
            return Ok(Vec::new());
        };
        let Some(col) = self.asset_column_in(&schema) else {
            return Ok(Vec::new());
        };
        let mut out = std::collections::BTreeSet::new();
        for day in self.days()? {
            if let Some(df) = read_day_file(&self.dir, day, Some(vec![col.clone()]))? {
                let c = column(&df, &col)?.unique()?.cast(&DataType::String)?;
                out.extend(c.str()?.iter().flatten().map(str::to_string));
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The columns of the files (read from the newest day), or `None` when
    /// the store has no day yet.
    fn schema(&self) -> Result<Option<Schema>> {
        let Some(day) = self.days()?.last().copied() else {
            return Ok(None);
        };
        Ok(Some(read_day_schema(&self.dir, day)?))
    }

    /// The asset column of the files, if any.
    fn asset_column_in(&self, schema: &Schema) -> Option<String> {
        match &self.asset_column {
            Some(a) => Some(a.clone()),
            None => schema.contains(ASSET).then(|| ASSET.to_string()),
        }
    }

    /// Writes (or replaces) `day` with `samples`, atomically.
    ///
    /// `samples` must have a Datetime `timestamp` column with every value
    /// inside the day; an `asset` column (string) if it is a farm; and
    /// numeric channels, all of which are written (as Float64).
    pub fn write_day(&self, day: Day, samples: &DataFrame) -> Result<()> {
        let mut cols = vec![utc_micros(samples, day)?];
        if let Ok(a) = samples.column(ASSET) {
            if a.null_count() > 0 {
                return Err(Error::data(
                    "samples",
                    format!(
                        "the `{ASSET}` column has {} NULL value(s); every sample needs its asset",
                        a.null_count()
                    ),
                ));
            }
            cols.insert(0, a.cast(&DataType::String)?);
        }
        let mut channels = 0;
        for c in samples.columns() {
            let name = c.name().as_str();
            if name == TIMESTAMP || name == ASSET {
                continue;
            }
            if !c.dtype().is_primitive_numeric() {
                return Err(Error::ColumnType {
                    column: name.to_string(),
                    found: c.dtype().to_string(),
                    expected: "a numeric type".into(),
                });
            }
            cols.push(c.cast(&DataType::Float64)?);
            channels += 1;
        }
        if channels == 0 {
            return Err(Error::data(
                "samples",
                format!(
                    "no numeric channel to write (columns: {})",
                    column_list(samples)
                ),
            ));
        }
        let mut df = DataFrame::new_infer_height(cols)?;
        write_atomic(&self.dir, day, &mut df)
    }
}

#[async_trait]
impl Extract for ParquetSource {
    fn describe(&self) -> String {
        format!("parquet:{}", self.dir.display())
    }

    /// The numeric columns of the files; the reference variables while the
    /// store is empty.
    fn variables(&self) -> Vec<String> {
        match self.schema() {
            Ok(Some(schema)) => {
                let asset = self.asset_column_in(&schema);
                schema
                    .iter()
                    .filter(|(n, dt)| {
                        n.as_str() != self.time_column
                            && Some(n.as_str()) != asset.as_deref()
                            && dt.is_primitive_numeric()
                    })
                    .map(|(n, _)| n.to_string())
                    .collect()
            }
            _ => SOURCE_VARIABLES.iter().map(|s| s.to_string()).collect(),
        }
    }

    async fn extract(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let known = self.variables();
        for v in variables {
            if !known.contains(v) {
                return Err(Error::UnknownVariable {
                    name: v.clone(),
                    known: known.join(", "),
                });
            }
        }
        let this = self.clone();
        let vars = variables.to_vec();
        tokio::task::spawn_blocking(move || this.extract_blocking(range, &vars))
            .await
            .map_err(|_| Error::Cancelled)?
    }
}

impl ParquetSource {
    fn extract_blocking(&self, range: TimeRange, variables: &[String]) -> Result<DataFrame> {
        let asset = match self.schema()? {
            Some(schema) => self.asset_column_in(&schema),
            None => None,
        };
        let mut columns = vec![self.time_column.clone()];
        columns.extend(asset.iter().cloned());
        columns.extend(variables.iter().cloned());
        let mut out: Option<DataFrame> = None;
        let mut day = Day::containing(range.start);
        while day.start() < range.end {
            if let Some(mut df) = read_day_file(&self.dir, day, Some(columns.clone()))? {
                // The standard names, whatever the files call them.
                if self.time_column != TIMESTAMP {
                    df.rename(&self.time_column, TIMESTAMP.into())?;
                }
                if let Some(zone) = self.naive_timezone {
                    let local = df.column(TIMESTAMP)?.clone();
                    df.replace(TIMESTAMP, naive_to_utc(&local, zone)?)?;
                }
                if let Some(a) = asset.as_deref().filter(|a| *a != ASSET) {
                    df.rename(a, ASSET.into())?;
                }
                if asset.is_some() {
                    let a = df.column(ASSET)?.cast(&DataType::String)?;
                    df.replace(ASSET, a)?;
                }
                let df = within(&df, range, NullTime::Drop)?.0;
                match out.as_mut() {
                    None => out = Some(df),
                    Some(acc) => {
                        acc.vstack_mut(&df)?;
                    }
                }
            }
            day = match day.succ() {
                Some(d) => d,
                None => break,
            };
        }
        match out {
            Some(df) => Ok(df),
            None => {
                let mut schema = Schema::default();
                schema.insert(
                    TIMESTAMP.into(),
                    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
                );
                if asset.is_some() {
                    schema.insert(ASSET.into(), DataType::String);
                }
                for v in variables {
                    schema.insert(v.as_str().into(), DataType::Float64);
                }
                Ok(DataFrame::empty_with_schema(&schema))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::generate::Generator;
    use crate::store::LocalStore;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn source_round_trip_and_range_filter() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let src = store.source();
        assert!(src.days().unwrap().is_empty());
        let g = Generator::default();
        for d in ["2024-01-02", "2024-01-01"] {
            src.write_day(day(d), &g.day(day(d))).unwrap();
        }
        assert_eq!(
            src.days().unwrap(),
            vec![day("2024-01-01"), day("2024-01-02")]
        );
        let back = src.read_day(day("2024-01-01")).unwrap().unwrap();
        assert!(back.equals_missing(&g.day(day("2024-01-01"))));
        // A range across midnight: 23:00 .. 01:00.
        let r = TimeRange::new(
            day("2024-01-01").end() - chrono::TimeDelta::hours(1),
            day("2024-01-02").start() + chrono::TimeDelta::hours(1),
        )
        .unwrap();
        let got = src.extract(r, &["power".to_string()]).await.unwrap();
        assert_eq!(got.height(), 120);
        assert_eq!(got.width(), 2);
        let err = src.extract(r, &["rpm".to_string()]).await.unwrap_err();
        assert!(err.to_string().contains("unknown variable `rpm`"), "{err}");
        // No temp files left behind.
        let leftovers: Vec<_> = fs::read_dir(src.dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn source_rejects_samples_outside_the_day() {
        let dir = tempfile::tempdir().unwrap();
        let src = LocalStore::new(dir.path()).source();
        let g = Generator::default();
        let err = src
            .write_day(day("2024-01-02"), &g.day(day("2024-01-01")))
            .unwrap_err();
        assert!(
            err.to_string().contains("outside the day 2024-01-02"),
            "{err}"
        );
        assert!(src.days().unwrap().is_empty());
    }
}
