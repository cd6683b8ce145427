//! What a source table's indexes allow a day's read to do: use an index on
//! the time column, read asset by asset through an (asset, time) key, or
//! neither (then every day scans the whole table, and the user is told).

use crate::error::Result;

use crate::postgres::layout::SourceLayout;
use crate::postgres::pool::Db;
use crate::postgres::sql::quote_ident;

/// The indexes of a source table, as far as a day's read cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Indexes {
    /// The asset column is `not null`, of a type whose text is one-to-one
    /// (text, varchar, integers), and a unique btree index has exactly
    /// (asset, time) as its keys, the asset in the column's collation.
    asset_time_key: bool,
    /// A btree index starts with the time column.
    btree_on_time: bool,
    /// An index that serves a range condition on the time (btree or BRIN)
    /// starts with the time column.
    range_on_time: bool,
    /// The source is a table (plain, partitioned, or a materialized view),
    /// so its own indexes are all there is; not a view.
    table: bool,
}

impl Indexes {
    /// Reads the catalog. Only valid indexes without a predicate count.
    pub(super) async fn inspect(db: &Db, layout: &SourceLayout) -> Result<Self> {
        let client = db.client().await?;
        let row = client
            .query_one(
                "with t as (select to_regclass($1) as oid), \
                 a as (select p.attnum, p.attnotnull, p.atttypid, p.attcollation from pg_attribute p, t \
                       where p.attrelid = t.oid and p.attname = $2 and not p.attisdropped), \
                 m as (select p.attnum from pg_attribute p, t \
                       where p.attrelid = t.oid and p.attname = $3 and not p.attisdropped), \
                 ix as (select i.*, am.amname from pg_index i join pg_class c on c.oid = i.indexrelid \
                        join pg_am am on am.oid = c.relam, t \
                        where i.indrelid = t.oid and i.indisvalid and i.indpred is null) \
                 select coalesce((select attnotnull and atttypid = any(array['text'::regtype, \
                          'varchar'::regtype, 'int2'::regtype, 'int4'::regtype, 'int8'::regtype]::oid[]) \
                          from a), false) \
                    and exists (select 1 from ix where ix.amname = 'btree' and ix.indisunique \
                          and ix.indnkeyatts = 2 and ix.indexprs is null \
                          and ix.indkey[0] = (select attnum from a) \
                          and ix.indkey[1] = (select attnum from m) \
                          and ix.indcollation[0] = (select attcollation from a)), \
                   exists (select 1 from ix where ix.amname = 'btree' \
                          and ix.indkey[0] = (select attnum from m)), \
                   exists (select 1 from ix where ix.amname in ('btree', 'brin') \
                          and ix.indkey[0] = (select attnum from m)), \
                   coalesce((select c.relkind in ('r', 'p', 'm') from pg_class c, t where c.oid = t.oid), false)",
                &[
                    &layout.quoted_table(),
                    &layout.asset_column,
                    &layout.time_column,
                ],
            )
            .await
            .map_err(db.err("reading the source table's indexes"))?;
        Ok(Indexes {
            asset_time_key: row.get(0),
            btree_on_time: row.get(1),
            range_on_time: row.get(2),
            table: row.get(3),
        })
    }

    /// Whether a day is better read asset by asset: the table has a unique
    /// btree index on exactly (asset, time) and no index that starts with the
    /// time column, so a condition on the time alone cannot use an index
    /// (PostgreSQL before 18 has no skip scan) and every day would read the
    /// whole table. The assets are then found by a loose index scan and each
    /// asset's rows of the day by a range scan of that index. Only for an
    /// asset column that is `not null` and of a type whose text is one-to-one
    /// (text, varchar, integers), and a time column read as it is stored
    /// (`timestamptz` or UTC `timestamp`): the same rows, and no two of them
    /// with the same asset and instant, so their order does not matter.
    pub(super) fn asset_scan(&self, layout: &SourceLayout) -> bool {
        layout.asset_column.is_some()
            && layout.naive_timezone.is_none()
            && self.asset_time_key
            && !self.btree_on_time
    }

    /// The hint for a table whose day reads use no index: one line naming
    /// the table and the index to create.
    pub(super) fn warning(&self, layout: &SourceLayout) -> Option<String> {
        if !self.table || self.range_on_time || self.asset_scan(layout) {
            return None;
        }
        let mut key = quote_ident(&layout.time_column);
        if let Some(a) = &layout.asset_column {
            key.push_str(", ");
            key.push_str(&quote_ident(a));
        }
        Some(format!(
            "the source table `{}` has no index that starts with its time column `{}`, \
             so every day read scans the whole table; to read each day through an index, run \
             CREATE INDEX ON {} ({key})",
            layout.table,
            layout.time_column,
            layout.quoted_table()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn farm() -> SourceLayout {
        SourceLayout {
            table: "scada".into(),
            time_column: "ts".into(),
            asset_column: Some("turbine_id".into()),
            naive_timezone: None,
        }
    }

    #[test]
    fn asset_scan_needs_the_asset_time_key_and_no_time_index() {
        let key = Indexes {
            asset_time_key: true,
            table: true,
            ..Indexes::default()
        };
        assert!(key.asset_scan(&farm()));
        assert_eq!(key.warning(&farm()), None);
        let both = Indexes {
            btree_on_time: true,
            range_on_time: true,
            ..key
        };
        assert!(!both.asset_scan(&farm()));
        assert_eq!(both.warning(&farm()), None);
        let naive = SourceLayout {
            naive_timezone: Some("Europe/Berlin".parse().unwrap()),
            ..farm()
        };
        assert!(!key.asset_scan(&naive));
        assert!(key.warning(&naive).is_some());
        assert!(!key.asset_scan(&SourceLayout::default()));
    }

    #[test]
    fn a_table_without_a_time_index_is_named_with_the_index_to_create() {
        let none = Indexes {
            table: true,
            ..Indexes::default()
        };
        assert_eq!(
            none.warning(&farm()).unwrap(),
            "the source table `scada` has no index that starts with its time column `ts`, \
             so every day read scans the whole table; to read each day through an index, run \
             CREATE INDEX ON \"scada\" (\"ts\", \"turbine_id\")"
        );
        let log = SourceLayout {
            table: "raw.log".into(),
            ..SourceLayout::default()
        };
        let w = none.warning(&log).unwrap();
        assert!(!w.contains('\n'));
        assert!(
            w.ends_with("CREATE INDEX ON \"raw\".\"log\" (\"timestamp\")"),
            "{w}"
        );
        let brin = Indexes {
            range_on_time: true,
            ..none
        };
        assert_eq!(brin.warning(&log), None);
        // A view: its tables' indexes are not its own, so nothing is said.
        assert_eq!(Indexes::default().warning(&log), None);
    }
}
