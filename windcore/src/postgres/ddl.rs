//! Creating the tables (`init`): the source table of a layout, and the
//! target tables with the additive migration of an earlier windcore's.

use crate::error::Result;
use crate::generate::SOURCE_VARIABLES;

use super::layout::SourceLayout;
use super::pool::Db;
use super::sql::quote_ident;
use super::target::LOCK_CLASS;
use super::{PostgresSource, PostgresTarget};

/// The statements of `init`: the tables, and the additive migration of a
/// target made by an earlier windcore (or the reference design), whose
/// `signal` has no `asset` column and a unique `name`.
const TARGET_DDL: &str = "\
create table if not exists signal (
  id serial primary key,
  asset text not null default '',
  name text not null,
  constraint signal_asset_name_key unique (asset, name)
);
alter table signal add column if not exists asset text not null default '';
do $$
declare c text;
begin
  -- A unique constraint on `name` alone would forbid the same signal on two assets.
  for c in
    select con.conname from pg_constraint con
    join pg_class t on t.oid = con.conrelid
    where t.oid = 'signal'::regclass and con.contype = 'u'
      and con.conkey = array[(select attnum from pg_attribute
                              where attrelid = t.oid and attname = 'name')]::int2[]
  loop
    execute format('alter table signal drop constraint %I', c);
  end loop;
  if not exists (select 1 from pg_constraint
                 where conrelid = 'signal'::regclass and contype = 'u'
                   and conname = 'signal_asset_name_key') then
    alter table signal add constraint signal_asset_name_key unique (asset, name);
  end if;
end $$;
create table if not exists data (
  timestamp timestamptz not null,
  signal_id integer not null references signal(id),
  value float8 not null,
  primary key (signal_id, timestamp)
);
create table if not exists windcore_load (
  zone text not null,
  day date not null,
  asset text not null,
  fingerprint text not null,
  loaded_at timestamptz not null default now(),
  primary key (zone, day, asset)
);";

impl PostgresSource {
    /// Creates the reference source table if it does not exist.
    pub async fn init(url: &str) -> Result<()> {
        Self::init_layout(url, &SourceLayout::default()).await
    }

    /// Creates the source table of `layout` if it does not exist: the
    /// reference table for the default layout; otherwise a farm table with
    /// the asset column (text), the time column and the generator's channels,
    /// keyed on (time, asset), so that the day ranges windcore reads use the
    /// key's index. An existing table is left as it is: give it an index whose
    /// first column is the time column, or every day's read scans the table
    /// (as [`layout_warning`](Self::layout_warning) then says).
    pub async fn init_layout(url: &str, layout: &SourceLayout) -> Result<()> {
        layout.validate()?;
        let db = Db::connect(url, 1).await?;
        let client = db.client().await?;
        client
            .batch_execute(&source_ddl(layout))
            .await
            .map_err(db.err("creating the source table"))?;
        Ok(())
    }
}

/// The `create table if not exists` of the source table of `layout`.
fn source_ddl(layout: &SourceLayout) -> String {
    let t = quote_ident(&layout.time_column);
    let channels: String = crate::generate::FARM_VARIABLES
        .iter()
        .map(|c| format!(",\n  {} float8", quote_ident(c)))
        .collect();
    match &layout.asset_column {
        None if layout.is_reference() => "create table if not exists data (\n\
                   timestamp timestamptz primary key,\n\
                   wind_speed float8,\n\
                   power float8,\n\
                   ambient_temperature float8\n\
                 )"
        .to_string(),
        None => format!(
            "create table if not exists {} (\n  {t} timestamptz primary key{channels}\n)",
            layout.quoted_table()
        ),
        Some(a) => {
            let a = quote_ident(a);
            format!(
                "create table if not exists {} (\n  {a} text not null,\n  \
                 {t} timestamptz not null{channels},\n  primary key ({t}, {a})\n)",
                layout.quoted_table()
            )
        }
    }
}

impl PostgresTarget {
    /// Creates the target tables, or migrates those of an earlier windcore
    /// (adds `signal.asset` and makes (asset, name) the unique key), and the
    /// signal rows for every reference variable and statistic. Safe to repeat.
    pub async fn init(url: &str) -> Result<()> {
        let db = Db::connect(url, 1).await?;
        let mut client = db.client().await?;
        let err = db.err("creating or migrating the target tables");
        let tx = client.transaction().await.map_err(&err)?;
        tx.execute("select pg_advisory_xact_lock($1, -1)", &[&LOCK_CLASS])
            .await
            .map_err(&err)?;
        tx.batch_execute(TARGET_DDL).await.map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        drop(client);
        let target = PostgresTarget::connect(url).await?;
        let pairs: Vec<(String, String)> = SOURCE_VARIABLES
            .iter()
            .flat_map(|v| {
                crate::resample::Stat::ALL
                    .iter()
                    .map(move |s| (String::new(), s.signal(v)))
            })
            .collect();
        target.signal_ids(&pairs).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_tables_are_keyed_on_time_first() {
        let reference = source_ddl(&SourceLayout::default());
        assert!(reference.starts_with("create table if not exists data ("));
        assert!(reference.contains("timestamp timestamptz primary key"));
        let farm = source_ddl(&SourceLayout {
            table: "raw.scada".into(),
            time_column: "ts".into(),
            asset_column: Some("turbine_id".into()),
            naive_timezone: None,
        });
        assert!(farm.starts_with("create table if not exists \"raw\".\"scada\" ("));
        assert!(farm.contains("\"turbine_id\" text not null"));
        assert!(
            farm.ends_with("primary key (\"ts\", \"turbine_id\")\n)"),
            "{farm}"
        );
    }
}
