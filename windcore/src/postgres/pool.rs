//! The connection pool: its size, the URL shown without its password, and
//! the driver's errors turned into windcore's.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::error::{Error, Result};
use crate::setting::Setting;

/// Default time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections a [`PostgresSource`](super::PostgresSource) or
/// [`PostgresTarget`](super::PostgresTarget) keeps at most, unless told otherwise.
pub const DEFAULT_POOL_SIZE: usize = 4;
/// The largest pool size accepted (PostgreSQL's default `max_connections` is 100).
pub const MAX_POOL_SIZE: usize = 64;

/// The pool size for a pipeline with `jobs` days in flight: one connection per
/// day, at least [`DEFAULT_POOL_SIZE`], at most [`MAX_POOL_SIZE`].
pub fn pool_size_for_jobs(jobs: usize) -> usize {
    jobs.clamp(DEFAULT_POOL_SIZE, MAX_POOL_SIZE)
}

/// Replaces the password of a PostgreSQL URL (or `password=` key) with `***`.
pub fn mask_password(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map(|i| rest_start + i)
            .unwrap_or(out.len());
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                let end = rest_start + at;
                out.replace_range(start..end, "***");
            }
        }
    }
    // password=... in the query string or a key/value string.
    let lower = out.to_ascii_lowercase();
    if let Some(pos) = lower.find("password=") {
        let start = pos + "password=".len();
        let end = out[start..]
            .find(['&', ' '])
            .map(|i| start + i)
            .unwrap_or(out.len());
        out.replace_range(start..end, "***");
    }
    out
}

/// A pool of connections to one database, described without its password.
#[derive(Clone)]
pub(super) struct Db {
    pool: Pool,
    pub(super) masked: String,
}

impl Db {
    pub(super) async fn connect(url: &str, max_size: usize) -> Result<Self> {
        if !(1..=MAX_POOL_SIZE).contains(&max_size) {
            return Err(Error::config(
                Setting::PoolSize,
                format!("{max_size} is not in 1 ..= {MAX_POOL_SIZE}"),
            ));
        }
        let masked = mask_password(url);
        let mut cfg = tokio_postgres::Config::from_str(url).map_err(|e| Error::Connection {
            context: format!("parsing the URL {masked}"),
            detail: e.to_string(),
        })?;
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(CONNECT_TIMEOUT);
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("windcore");
        }
        // Naive `timestamp` columns and literals are read as UTC; string literals
        // are standard (a backslash is a plain character).
        cfg.options("-c TimeZone=UTC -c standard_conforming_strings=on");
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(max_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT + Duration::from_secs(2)))
            .wait_timeout(Some(Duration::from_secs(600)))
            .build()
            .map_err(|e| Error::Connection {
                context: format!("creating a connection pool for {masked}"),
                detail: e.to_string(),
            })?;
        let db = Db { pool, masked };
        // Fail now, within the connect timeout, rather than on the first day.
        let _probe = db.client().await?;
        Ok(db)
    }

    pub(super) async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(|e| {
            let detail = match e {
                deadpool_postgres::PoolError::Backend(e) => pg_detail(&e),
                deadpool_postgres::PoolError::Timeout(_) => {
                    format!("timed out after {} s", CONNECT_TIMEOUT.as_secs())
                }
                other => other.to_string(),
            };
            Error::Connection {
                context: format!("cannot connect to {}", self.masked),
                detail,
            }
        })
    }

    pub(super) fn err(&self, what: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
        let context = format!("{what} ({})", self.masked);
        move |e| Error::Database {
            context: context.clone(),
            detail: pg_detail(&e),
        }
    }

    /// Columns of `<schema>.<table>` (default: the current schema) with their
    /// data types, in table order; empty if the table does not exist.
    pub(super) async fn columns_in(
        &self,
        schema: Option<&str>,
        table: &str,
    ) -> Result<Vec<(String, String)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "select column_name::text, data_type::text from information_schema.columns \
                 where table_schema = coalesce($1, current_schema()) and table_name = $2 \
                 order by ordinal_position",
                &[&schema, &table],
            )
            .await
            .map_err(self.err("reading the table definitions"))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Columns of `public.<table>` with their types, or an empty map if it does not exist.
    pub(super) async fn columns(&self, table: &str) -> Result<HashMap<String, (String, bool)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "select column_name::text, data_type::text, column_default is not null or is_identity = 'YES' \
                 from information_schema.columns where table_schema = current_schema() and table_name = $1",
                &[&table],
            )
            .await
            .map_err(self.err("reading the table definitions"))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    (r.get::<_, String>(1), r.get::<_, bool>(2)),
                )
            })
            .collect())
    }
}

/// The driver's error with the server's message, if there is one.
fn pg_detail(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(d) = db.detail() {
            s.push_str(&format!("; {d}"));
        }
        s
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(c) = src {
            s.push_str(&format!(": {c}"));
            src = c.source();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            mask_password("postgres://h/db?password=secret&x=1"),
            "postgres://h/db?password=***&x=1"
        );
        assert_eq!(
            mask_password("postgresql://u:p%40ss@h/db"),
            "postgresql://u:***@h/db"
        );
        assert!(!mask_password("postgres://u:a:b@c@h/db").contains("a:b"));
    }
}
