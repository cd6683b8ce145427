//! Where data lives: an embedded store directory or a PostgreSQL database,
//! named by one string, the same in the CLI, Python and Rust.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::day::{Day, DayRange};
use crate::error::{Error, Result};
use crate::files::{FileOptions, FileSource};
use crate::generate::Generator;
use crate::http::HttpSource;
use crate::postgres::{
    mask_password, PostgresSource, PostgresTarget, SourceLayout, DEFAULT_POOL_SIZE,
};
use crate::setting::Setting;
use crate::store::LocalStore;
use crate::traits::{Extract, Load};
use crate::zone::Zone;

/// A source or target store.
///
/// Parsed from a string: `postgres://…` or `postgresql://…` is a PostgreSQL
/// database (libpq URL syntax); anything else is the directory of an embedded
/// store (an optional `parquet:` prefix is accepted). The same directory can be
/// both source (`<dir>/source`) and target (`<dir>/target`). `http://…` (or
/// `https://…`) is windcore's connector API (`windcore-cli serve`), usable as a
/// source only.
///
/// Files as a source ([`FileSource`](crate::FileSource)): `files:` followed by a
/// file, glob or directory; without the prefix, a glob (`exports/*.csv`), an
/// existing file, or an existing directory that holds CSV or Parquet files
/// and is not an embedded store (no `source/` or `target/` inside).
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded Parquet store rooted at this directory.
    Local(PathBuf),
    /// A PostgreSQL database URL (may contain a password; never printed).
    Postgres(String),
    /// The connector API at this URL (`windcore-cli serve`); a source only.
    Http(String),
    /// Files (a file, a glob or a directory of CSV / TOA5 / Parquet files); a source only.
    Files(String),
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

impl fmt::Display for Location {
    /// The location with any password masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "parquet:{}", p.display()),
            Location::Postgres(url) | Location::Http(url) => f.write_str(&mask_password(url)),
            Location::Files(p) => write!(f, "files:{p}"),
        }
    }
}

impl FromStr for Location {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.is_empty() {
            return Err(Error::config(
                Setting::Location,
                "empty: give a directory or a postgres:// URL",
            ));
        }
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            return Ok(Location::Postgres(t.to_string()));
        }
        if t.starts_with("http://") || t.starts_with("https://") {
            return Ok(Location::Http(t.to_string()));
        }
        if let Some(p) = t.strip_prefix("files:") {
            return Ok(Location::Files(p.to_string()));
        }
        if crate::files::names_files(t) {
            return Ok(Location::Files(t.to_string()));
        }
        if let Some((scheme, _)) = t.split_once("://") {
            return Err(Error::config(
                Setting::Location,
                format!(
                    "unsupported scheme `{scheme}://`: use postgres://…, http://… (a source only) or a directory"
                ),
            ));
        }
        Ok(Location::Local(PathBuf::from(
            t.strip_prefix("parquet:").unwrap_or(t),
        )))
    }
}

impl Location {
    /// Opens the location as a source of raw samples.
    pub async fn open_source(&self) -> Result<Arc<dyn Extract>> {
        self.open_source_with_pool_size(DEFAULT_POOL_SIZE).await
    }

    /// Like [`open_source`](Self::open_source); a PostgreSQL source keeps up to
    /// `pool_size` connections (ignored by the other kinds).
    pub async fn open_source_with_pool_size(&self, pool_size: usize) -> Result<Arc<dyn Extract>> {
        self.open_source_layout(&SourceLayout::default(), pool_size)
            .await
    }

    /// Opens the location as a source laid out as `layout` (table, time and
    /// asset columns; the embedded store uses the column names only, the
    /// HTTP source ignores it). A PostgreSQL source keeps up to `pool_size`
    /// connections.
    pub async fn open_source_layout(
        &self,
        layout: &SourceLayout,
        pool_size: usize,
    ) -> Result<Arc<dyn Extract>> {
        layout.validate()?;
        Ok(match self {
            Location::Local(dir) => {
                let mut src = LocalStore::new(dir).source();
                if !layout.is_reference() {
                    src = src.with_layout(layout);
                }
                Arc::new(src)
            }
            Location::Postgres(url) => {
                Arc::new(PostgresSource::connect_layout(url, layout, pool_size).await?)
            }
            Location::Http(url) => Arc::new(HttpSource::new(url)?.discover().await),
            Location::Files(pattern) => Arc::new(
                FileSource::open_async(pattern, layout, &FileOptions::default(), None).await?,
            ),
        })
    }

    /// Opens the location as a target for statistics.
    pub async fn open_target(&self) -> Result<Arc<dyn Load>> {
        self.open_target_with_pool_size(DEFAULT_POOL_SIZE).await
    }

    /// Like [`open_target`](Self::open_target); a PostgreSQL target keeps up to
    /// `pool_size` connections (ignored by the embedded store).
    pub async fn open_target_with_pool_size(&self, pool_size: usize) -> Result<Arc<dyn Load>> {
        Ok(match self {
            Location::Local(dir) => Arc::new(LocalStore::new(dir).target()),
            Location::Postgres(url) => {
                Arc::new(PostgresTarget::connect_with_pool_size(url, pool_size).await?)
            }
            Location::Http(_) | Location::Files(_) => {
                return Err(self.http_is_source_only("a target"))
            }
        })
    }

    /// The UTC days for which the location holds source samples, in order.
    pub async fn source_days(&self) -> Result<Vec<Day>> {
        self.source_days_layout(&SourceLayout::default()).await
    }

    /// The local days of `zone` for which the source laid out as `layout`
    /// holds samples. The embedded store keeps one file per UTC day, so a
    /// local day is listed when a file overlaps it.
    pub async fn source_days_in(&self, layout: &SourceLayout, zone: Zone) -> Result<Vec<Day>> {
        if zone.is_utc() {
            return self.source_days_layout(layout).await;
        }
        match self {
            Location::Postgres(url) => {
                PostgresSource::connect_layout(url, layout, 1)
                    .await?
                    .days_in(zone)
                    .await
            }
            _ => {
                let mut days: Vec<Day> = self
                    .source_days_layout(layout)
                    .await?
                    .into_iter()
                    .flat_map(|d| zone.days_touching(d.range()))
                    .collect();
                days.dedup();
                Ok(days)
            }
        }
    }

    /// The UTC days for which the source laid out as `layout` holds samples.
    pub async fn source_days_layout(&self, layout: &SourceLayout) -> Result<Vec<Day>> {
        match self {
            Location::Local(dir) => LocalStore::new(dir).source().days(),
            Location::Postgres(url) => {
                PostgresSource::connect_layout(url, layout, 1)
                    .await?
                    .days()
                    .await
            }
            Location::Http(_) => Err(Error::config(
                Setting::Days,
                format!("the HTTP source {self} cannot list its days: give the days to process (e.g. --date or --from/--to)"),
            )),
            Location::Files(pattern) => {
                Ok(FileSource::open_async(pattern, layout, &FileOptions::default(), None)
                    .await?
                    .days())
            }
        }
    }

    /// Every asset (turbine) the source laid out as `layout` holds samples
    /// of, on any day, sorted; empty for a source of one asset.
    pub async fn source_assets(&self, layout: &SourceLayout) -> Result<Vec<String>> {
        match self {
            Location::Local(dir) => {
                let mut src = LocalStore::new(dir).source();
                if !layout.is_reference() {
                    src = src.with_layout(layout);
                }
                tokio::task::spawn_blocking(move || src.assets())
                    .await
                    .map_err(|_| Error::Cancelled)?
            }
            Location::Postgres(url) => {
                PostgresSource::connect_layout(url, layout, 1)
                    .await?
                    .assets()
                    .await
            }
            Location::Http(_) => Err(Error::config(
                Setting::Assets,
                format!("the HTTP source {self} cannot list its assets"),
            )),
            Location::Files(pattern) => {
                let mut assets =
                    FileSource::open_async(pattern, layout, &FileOptions::default(), None)
                        .await?
                        .assets();
                assets.sort();
                Ok(assets)
            }
        }
    }

    /// Creates the source schema (PostgreSQL) or directory (embedded); safe to repeat.
    pub async fn init_source(&self) -> Result<()> {
        self.init_source_layout(&SourceLayout::default()).await
    }

    /// Creates the source table of `layout` (PostgreSQL: see
    /// [`PostgresSource::init_layout`]) or the directory (embedded); safe to repeat.
    pub async fn init_source_layout(&self, layout: &SourceLayout) -> Result<()> {
        match self {
            Location::Local(dir) => create_dir(&LocalStore::new(dir).source().dir().to_path_buf()),
            Location::Postgres(url) => PostgresSource::init_layout(url, layout).await,
            Location::Http(_) | Location::Files(_) => Err(self.http_is_source_only("initialised")),
        }
    }

    /// Creates the target schema (PostgreSQL) or directory (embedded); safe to repeat.
    pub async fn init_target(&self) -> Result<()> {
        match self {
            Location::Local(dir) => create_dir(&LocalStore::new(dir).target().dir().to_path_buf()),
            Location::Postgres(url) => PostgresTarget::init(url).await,
            Location::Http(_) | Location::Files(_) => Err(self.http_is_source_only("a target")),
        }
    }

    /// Generates demo samples for `days` into this location as a source,
    /// replacing those days. Calls `progress` after each day. Returns the rows written.
    pub async fn generate(
        &self,
        days: DayRange,
        generator: &Generator,
        progress: impl Fn(Day),
    ) -> Result<u64> {
        self.generate_layout(&SourceLayout::default(), days, generator, progress)
            .await
    }

    /// Like [`generate`](Self::generate), into the table (PostgreSQL) laid out
    /// as `layout`, which is created if it does not exist. A farm (more than
    /// one turbine) needs a layout with an asset column in PostgreSQL.
    pub async fn generate_layout(
        &self,
        layout: &SourceLayout,
        days: DayRange,
        generator: &Generator,
        progress: impl Fn(Day),
    ) -> Result<u64> {
        let mut rows = 0u64;
        if generator.turbines() > 1 && layout.asset_column.is_none() {
            if let Location::Postgres(_) = self {
                return Err(Error::config(
                    Setting::SourceLayout,
                    format!(
                        "{} turbines need a table with an asset column: give a table and an asset \
                         column (CLI: --table scada --asset-column turbine_id); the table is created if it does not exist",
                        generator.turbines()
                    ),
                ));
            }
        }
        match self {
            Location::Local(dir) => {
                let source = LocalStore::new(dir).source();
                for day in days.iter() {
                    let df = generator.day(day);
                    rows += df.height() as u64;
                    let s = source.clone();
                    tokio::task::spawn_blocking(move || s.write_day(day, &df))
                        .await
                        .map_err(|_| Error::Cancelled)??;
                    progress(day);
                }
            }
            Location::Postgres(url) => {
                PostgresSource::init_layout(url, layout).await?;
                let source = PostgresSource::connect_layout(url, layout, 1).await?;
                for day in days.iter() {
                    let df = generator.day(day);
                    rows += source.write_day(day, &df).await?;
                    progress(day);
                }
            }
            Location::Http(_) | Location::Files(_) => {
                return Err(self.http_is_source_only(
                    "filled with demo data here (use the API's POST /generate)",
                ))
            }
        }
        Ok(rows)
    }

    fn http_is_source_only(&self, what: &str) -> Error {
        let kind = match self {
            Location::Files(_) => "a file source",
            _ => "windcore's HTTP API",
        };
        Error::config(
            Setting::Location,
            format!(
                "{self} is {kind}, which can only be read from as a source; it cannot be {what}: give a postgres:// URL or a directory"
            ),
        )
    }
}

fn create_dir(dir: &PathBuf) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_locations() {
        assert_eq!(
            "data".parse::<Location>().unwrap(),
            Location::Local("data".into())
        );
        assert_eq!(
            "parquet:/x/y".parse::<Location>().unwrap(),
            Location::Local("/x/y".into())
        );
        let pg: Location = "postgres://u:secret@localhost:5432/db".parse().unwrap();
        assert!(matches!(pg, Location::Postgres(_)));
        assert!(!pg.to_string().contains("secret"));
        assert!(!format!("{pg:?}").contains("secret"));
        assert!("ftp://x"
            .parse::<Location>()
            .unwrap_err()
            .to_string()
            .contains("unsupported scheme"));
        assert_eq!(
            "http://127.0.0.1:8000".parse::<Location>().unwrap(),
            Location::Http("http://127.0.0.1:8000".into())
        );
        assert!(matches!(
            "https://api.example".parse::<Location>().unwrap(),
            Location::Http(_)
        ));
        assert!("".parse::<Location>().is_err());
    }
}

#[cfg(test)]
mod http_tests {
    use super::*;

    #[tokio::test]
    async fn http_is_a_source_only() {
        let loc: Location = "http://127.0.0.1:9".parse().unwrap();
        let err = loc.open_target().await.err().unwrap().to_string();
        assert!(err.contains("only be read from as a source"), "{err}");
        assert!(loc.init_target().await.is_err());
        assert!(loc.open_source().await.is_ok());
    }

    #[tokio::test]
    async fn a_store_where_a_file_sits_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "not a store").unwrap();
        let loc: Location = file.to_str().unwrap().parse().unwrap();
        // Not named as CSV or Parquet: an embedded store, whose directory a file blocks.
        assert!(matches!(loc, Location::Local(_)));
        assert!(matches!(loc.init_source().await, Err(Error::Io { .. })));
        assert!(matches!(loc.init_target().await, Err(Error::Io { .. })));
    }
}
