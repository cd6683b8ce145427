//! A user's farm table as the PostgreSQL source: its SQL as the oracle,
//! channels, indexes, local time, assets.

use std::collections::BTreeMap;

use windcore::{
    DayRange, Generator, Location, PostgresSource, PostgresTarget, RunConfig, RunDays, SourceLayout,
};

use crate::pg_util::{client, fresh_db};

use crate::postgres::*;

/// A user's farm table, filled from the farm generator with NaN and NULL
/// samples; returns its URL and the days.
pub(crate) async fn scada_source(
    tag: &str,
    turbines: u32,
    first: &str,
    n: u32,
) -> (String, DayRange) {
    let src = fresh_db(tag).await;
    client(&src)
        .await
        .batch_execute(
            "create table scada (turbine_id text not null, ts timestamptz not null, \
             wind_speed float8, power float8, wind_direction float8, \
             primary key (turbine_id, ts))",
        )
        .await
        .unwrap();
    let layout = SourceLayout {
        table: "scada".into(),
        time_column: "ts".into(),
        asset_column: Some("turbine_id".into()),
        naive_timezone: None,
    };
    let days = DayRange::starting(day(first), n).unwrap();
    let g = Generator::builder()
        .turbines(turbines)
        .missing_rate(0.02)
        .build()
        .unwrap();
    let loc: Location = src.parse().unwrap();
    loc.generate_layout(&layout, days, &g, |_| {})
        .await
        .unwrap();
    client(&src)
        .await
        .batch_execute(
            "update scada set power = 'NaN' where extract(minute from ts)::int % 13 = 5;\n\
             update scada set wind_direction = 'NaN' where extract(minute from ts)::int % 29 = 7;",
        )
        .await
        .unwrap();
    (src, days)
}

/// `scada_t`: the rows of `scada` in a table keyed (ts, turbine_id).
pub(crate) async fn copy_keyed_on_time(src: &str) {
    client(src)
        .await
        .batch_execute(
            "create table scada_t as select * from scada; \
             alter table scada_t add primary key (ts, turbine_id)",
        )
        .await
        .unwrap();
}

pub(crate) fn scada_layout() -> SourceLayout {
    SourceLayout {
        table: "scada".into(),
        time_column: "ts".into(),
        asset_column: Some("turbine_id".into()),
        naive_timezone: None,
    }
}

/// (asset, microseconds, signal) -> value of the target.
pub(crate) async fn target_rows_by_asset(tgt: &str) -> BTreeMap<(String, i64, String), f64> {
    let rows = client(tgt)
        .await
        .query(
            "select s.asset, (extract(epoch from d.timestamp) * 1000000)::int8, s.name, d.value \
             from data d join signal s on s.id = d.signal_id",
            &[],
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        let prev = out.insert((r.get(0), r.get(1), r.get(2)), r.get::<_, f64>(3));
        assert!(prev.is_none(), "duplicate row in the target");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_farm_table_matches_postgres_own_sql() {
    let (src, days) = scada_source("farm_src", 6, "2024-03-30", 2).await;
    let tgt = fresh_db("farm_tgt").await;
    let (s, t): (Location, Location) = (src.parse().unwrap(), tgt.parse().unwrap());
    t.init_target().await.unwrap();
    let config = RunConfig::builder(s, t)
        .layout(scada_layout())
        .variables(["wind_speed", "power", "wind_direction"])
        .angles(["wind_direction"])
        .days(RunDays::Range(days))
        .build()
        .unwrap();
    let summary = config.run(|_| {}).await.unwrap();
    assert!(summary.is_success(), "{:?}", summary.first_error());
    assert_eq!(summary.rows_in(), 6 * 1440 * 2);
    let q = summary.quality();
    assert!(q.missing > 0, "NaN and NULL samples are counted");
    assert_eq!(q.duplicates, 0);
    let got = target_rows_by_asset(&tgt).await;

    // The oracle: PostgreSQL itself, per turbine and 10-minute bin.
    let sql = "
        with s as (
          select turbine_id,
                 date_bin('10 minutes', ts, timestamptz '2000-01-01 00:00+00') as w,
                 nullif(wind_speed, 'NaN') as ws, nullif(power, 'NaN') as p,
                 nullif(wind_direction, 'NaN') as d
          from scada
        ), a as (
          select turbine_id, w,
                 avg(ws) ws_mean, min(ws) ws_min, max(ws) ws_max, stddev_samp(ws) ws_std,
                 avg(p) p_mean, min(p) p_min, max(p) p_max, stddev_samp(p) p_std,
                 avg(sin(radians(d))) sd, avg(cos(radians(d))) cd, count(d) nd
          from s group by 1, 2
        )
        select turbine_id, (extract(epoch from w) * 1000000)::int8, name, value from a,
        lateral (values
          ('wind_speed_mean', ws_mean), ('wind_speed_min', ws_min),
          ('wind_speed_max', ws_max), ('wind_speed_std', ws_std),
          ('power_mean', p_mean), ('power_min', p_min),
          ('power_max', p_max), ('power_std', p_std),
          ('wind_direction_mean',
             case when nd > 0 then mod(degrees(atan2(sd, cd))::numeric + 360, 360)::float8 end),
          ('wind_direction_std',
             case when nd > 1 then degrees(sqrt(-2 * ln(least(sqrt(sd * sd + cd * cd), 1.0)))) end)
        ) v(name, value)
        where value is not null";
    let rows = client(&src).await.query(sql, &[]).await.unwrap();
    let mut want: BTreeMap<(String, i64, String), f64> = BTreeMap::new();
    for r in rows {
        want.insert((r.get(0), r.get(1), r.get(2)), r.get(3));
    }
    assert!(want.len() > 6 * 288 * 9, "{}", want.len());
    let compared: BTreeMap<_, _> = got
        .iter()
        .filter(|(k, _)| !matches!(k.2.as_str(), "wind_direction_min" | "wind_direction_max"))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(
        compared.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the same (turbine, window, signal) set"
    );
    for (k, w) in &want {
        let g = compared[k];
        let ok = if k.2 == "wind_direction_mean" {
            // Compare on the circle: 359.9999999 and 0 are the same direction.
            ((g - w + 180.0).rem_euclid(360.0) - 180.0).abs() < 1e-9
        } else {
            close(g, *w) || (g - w).abs() < 1e-9
        };
        assert!(ok, "{k:?}: windcore {g}, PostgreSQL {w}");
    }
    // The direction statistics have their own rows for each turbine.
    let turbines: std::collections::BTreeSet<&String> = got.keys().map(|k| &k.0).collect();
    assert_eq!(turbines.len(), 6);

    // A re-run changes nothing: same rows, same values.
    let again = config.run(|_| {}).await.unwrap();
    assert!(again.is_success());
    assert_eq!(target_rows_by_asset(&tgt).await, got);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_migrates_a_target_of_the_previous_version() {
    let tgt = fresh_db("migrate").await;
    // The target as the previous windcore made it, with a loaded day.
    client(&tgt)
        .await
        .batch_execute(
            "create table signal (id serial primary key, name text not null unique);\n\
             create table data (timestamp timestamptz not null, \
               signal_id integer not null references signal(id), value float8 not null, \
               primary key (signal_id, timestamp));\n\
             insert into signal (name) values ('wind_speed_mean'), ('power_mean');\n\
             insert into data values ('2024-01-01 00:00+00', 1, 7.5), ('2024-01-01 00:00+00', 2, 900);",
        )
        .await
        .unwrap();
    let loc: Location = tgt.parse().unwrap();
    let err = PostgresTarget::connect(&tgt).await.err().unwrap();
    assert!(err.to_string().contains("windcore-cli init"), "{err}");
    loc.init_target().await.unwrap();
    loc.init_target().await.unwrap(); // idempotent
                                      // The old rows are kept, with asset '' and their ids.
    assert_eq!(
        count(
            &tgt,
            "select count(*) from signal where asset = '' and id in (1, 2)"
        )
        .await,
        2
    );
    assert_eq!(count(&tgt, "select count(*) from data").await, 2);
    // (asset, name) is the key now: the same name on two assets is allowed...
    client(&tgt)
        .await
        .batch_execute("insert into signal (asset, name) values ('T01', 'wind_speed_mean')")
        .await
        .unwrap();
    // ... and the same pair twice is not.
    assert!(client(&tgt)
        .await
        .batch_execute("insert into signal (asset, name) values ('T01', 'wind_speed_mean')")
        .await
        .is_err());
    // A farm run loads into the migrated target.
    let (src, days) = scada_source("migrate_src", 5, "2024-01-01", 1).await;
    let config = RunConfig::builder(src.parse().unwrap(), loc)
        .layout(scada_layout())
        .angles(["wind_direction"])
        .variables(["wind_speed", "wind_direction"])
        .days(RunDays::Range(days))
        .build()
        .unwrap();
    let summary = config.run(|_| {}).await.unwrap();
    assert!(summary.is_success(), "{:?}", summary.first_error());
    assert_eq!(
        count(
            &tgt,
            "select count(distinct asset) from signal s join data d on d.signal_id = s.id \
             where s.name like 'wind_%'"
        )
        .await,
        5
    );
    // The day's rows of the signals written are replaced (the old single-asset
    // wind_speed_mean is gone); power_mean was not written and stays.
    assert_eq!(
        count(
            &tgt,
            "select count(*) from data d join signal s on s.id = d.signal_id where s.asset = ''"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_channels_are_discovered_and_allow_listed() {
    let (src, _) = scada_source("discover", 2, "2024-01-01", 1).await;
    let s = PostgresSource::connect_layout(&src, &scada_layout(), 2)
        .await
        .unwrap();
    assert_eq!(
        windcore::Extract::variables(&s),
        ["wind_speed", "power", "wind_direction"]
    );
    let r = day("2024-01-01").range();
    let err = windcore::Extract::extract(&s, r, &["power; drop table scada".to_string()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown variable"), "{err}");
    let df = windcore::Extract::extract(&s, r, &["power".to_string()])
        .await
        .unwrap();
    assert_eq!(df.get_column_names(), ["timestamp", "asset", "power"]);
    assert_eq!(df.height(), 2 * 1440);
    // A missing table or column is named.
    let bad = SourceLayout {
        asset_column: Some("turbine".into()),
        ..scada_layout()
    };
    let err = PostgresSource::connect_layout(&src, &bad, 1)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("no column `turbine`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_read_without_an_index_is_reported_with_the_index_to_create() {
    let src = fresh_db("layout_warning").await;
    PostgresSource::init(&src).await.unwrap();
    client(&src)
        .await
        .batch_execute(
            "create table bare (ts timestamptz not null, power float8);\n\
             create view bare_view as select * from bare;\n\
             create table farm (turbine_id text not null, ts timestamptz not null, power float8);\n\
             create index on farm (turbine_id);",
        )
        .await
        .unwrap();
    let warning = |table: &'static str, asset: Option<&'static str>| {
        let src = src.clone();
        async move {
            let layout = SourceLayout {
                table: table.into(),
                time_column: if table == "data" { "timestamp" } else { "ts" }.into(),
                asset_column: asset.map(Into::into),
                naive_timezone: None,
            };
            PostgresSource::connect_layout(&src, &layout, 1)
                .await
                .unwrap()
                .layout_warning()
        }
    };
    // Keyed on time (the reference table made by init), or a view: nothing to say.
    assert_eq!(warning("data", None).await, None);
    assert_eq!(warning("bare_view", None).await, None);
    // No index on the time column: named, with the index to create.
    let bare = warning("bare", None).await.unwrap();
    assert!(!bare.contains('\n'), "{bare}");
    assert!(bare.contains("`bare`") && bare.contains("`ts`"), "{bare}");
    assert!(
        bare.ends_with("CREATE INDEX ON \"bare\" (\"ts\")"),
        "{bare}"
    );
    let w = warning("farm", Some("turbine_id")).await.unwrap();
    assert!(
        w.ends_with("CREATE INDEX ON \"farm\" (\"ts\", \"turbine_id\")"),
        "{w}"
    );
    // Following the advice (or keying the farm on (asset, time), read asset
    // by asset) silences it.
    client(&src)
        .await
        .batch_execute(&bare[bare.find("CREATE INDEX").unwrap()..])
        .await
        .unwrap();
    assert_eq!(warning("bare", None).await, None);
    client(&src)
        .await
        .batch_execute("alter table farm add primary key (turbine_id, ts)")
        .await
        .unwrap();
    assert_eq!(warning("farm", Some("turbine_id")).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_on_asset_and_time_reads_the_same_as_keyed_on_time() {
    // `scada` is keyed (turbine_id, ts): a day's rows are read asset by asset
    // through that index. `scada_t` holds the same rows keyed (ts,
    // turbine_id): read with a plain range condition. Same statistics, same
    // load records (fingerprints), also for a subset of the assets.
    let (src, days) = scada_source("keyorder_src", 4, "2024-03-30", 2).await;
    copy_keyed_on_time(&src).await;
    let run = |table: &'static str, assets: Option<Vec<&'static str>>| {
        let src = src.clone();
        async move {
            let tgt = fresh_db("keyorder_tgt").await;
            tgt.parse::<Location>()
                .unwrap()
                .init_target()
                .await
                .unwrap();
            let mut layout = scada_layout();
            layout.table = table.into();
            let mut b = RunConfig::builder(src.parse().unwrap(), tgt.parse().unwrap())
                .layout(layout)
                .variables(["wind_speed", "power", "wind_direction"])
                .angles(["wind_direction"])
                .days(RunDays::Range(days));
            if let Some(a) = assets {
                b = b.assets(a);
            }
            let s = b.build().unwrap().run(|_| {}).await.unwrap();
            assert!(s.is_success(), "{:?}", s.first_error());
            let loads: Vec<(String, String)> = client(&tgt)
                .await
                .query(
                    "select day::text || ' ' || asset, fingerprint from windcore_load order by 1",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            (s.rows_in(), target_rows_by_asset(&tgt).await, loads)
        }
    };
    for assets in [None, Some(vec!["T02", "T04"])] {
        let by_asset = run("scada", assets.clone()).await;
        let by_time = run("scada_t", assets).await;
        assert!(by_asset.0 > 0 && !by_asset.1.is_empty() && !by_asset.2.is_empty());
        assert_eq!(by_asset, by_time);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_assets_of_every_day_by_index_and_by_distinct() {
    // The newest day lacks T03; `scada` is keyed (turbine_id, ts) (a loose
    // index scan), `scada_t` (ts, turbine_id) (select distinct).
    let (src, _) = scada_source("assets_src", 3, "2024-01-01", 2).await;
    client(&src)
        .await
        .batch_execute(
            "delete from scada where turbine_id = 'T03' and ts >= '2024-01-02'; \
             create table scada_t as select * from scada; \
             alter table scada_t add primary key (ts, turbine_id)",
        )
        .await
        .unwrap();
    let loc: Location = src.parse().unwrap();
    for table in ["scada", "scada_t"] {
        let mut layout = scada_layout();
        layout.table = table.into();
        assert_eq!(
            loc.source_assets(&layout).await.unwrap(),
            ["T01", "T02", "T03"],
            "{table}"
        );
    }
    // The reference table has no asset column: one asset.
    let (one, _, _) = setup("assets_one", "2024-01-01", 1).await;
    let one: Location = one.parse().unwrap();
    assert!(one
        .source_assets(&SourceLayout::default())
        .await
        .unwrap()
        .is_empty());
}
