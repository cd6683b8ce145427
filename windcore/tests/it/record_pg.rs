//! Counters on PostgreSQL against PostgreSQL's own SQL (`lag()` per turbine
//! and the reset rule), over local days in Europe/Berlin that span the
//! October DST change; and a late sample's incremental rewrite.

use std::collections::BTreeMap;

use windcore::{DayRange, Location, RunConfig, RunDays, SourceLayout, Zone};

use crate::farm_pg::target_rows_by_asset;
use crate::pg_util::{client, fresh_db};

/// Three turbines, 1-minute samples from 2024-10-25 to 2024-10-29 UTC, an
/// energy counter of whole kWh: T2 is reset at 2024-10-27 01:30 UTC (in
/// the 25-hour local day); NULL and NaN samples here and there; T3 has no
/// sample in the 40 minutes before each local midnight (its predecessor lies
/// further back). The row of T1 at the last minute of local 2024-10-26 is
/// left out (it comes late).
async fn source() -> String {
    let src = fresh_db("rec_src").await;
    client(&src)
        .await
        .batch_execute(
            "create table scada (ts timestamptz not null, turbine_id text not null, energy float8, status int4);
             insert into scada
             select ts, t, sum(inc) over (partition by t, (t = 'T2' and ts >= timestamptz '2024-10-27 01:30+00') order by ts)
             from (
               select ts, t, ((extract(epoch from ts)::int8 / 60 * 7919 + length(t) * 13 + ascii(substr(t, 2))) % 37)::float8 as inc
               from generate_series(timestamptz '2024-10-25 00:00+00', timestamptz '2024-10-28 23:59+00', interval '1 minute') ts,
                    unnest(array['T1', 'T2', 'T3']) t
             ) x;
             update scada set status = (extract(epoch from ts)::int8 / 600) % 3;
             update scada set energy = null where (extract(epoch from ts)::int8 / 60) % 17 = 3;
             update scada set energy = 'NaN' where (extract(epoch from ts)::int8 / 60) % 23 = 5 and turbine_id = 'T1';
             delete from scada where turbine_id = 'T3'
               and (ts at time zone 'Europe/Berlin')::time >= time '23:20';
             create table late as select * from scada
               where turbine_id = 'T1' and ts = timestamptz '2024-10-26 23:59+02';
             delete from scada where turbine_id = 'T1' and ts = timestamptz '2024-10-26 23:59+02';
             create index on scada (ts);",
        )
        .await
        .unwrap();
    src
}

/// PostgreSQL's windows: per turbine and 10-minute bin of the run's range,
/// the sum of the increments (lag over each turbine's valid samples; a
/// decrease is a reset) and the last value.
const ORACLE: &str = "
    with v as (
      select turbine_id, ts, energy from scada where energy is not null and energy <> 'NaN'
    ), l as (
      select turbine_id, ts, energy, lag(energy) over w as pe
      from v window w as (partition by turbine_id order by ts)
    ), i as (
      select turbine_id, ts, energy,
             case when pe is null then null when energy >= pe then energy - pe else energy end as inc
      from l
    )
    select turbine_id, (extract(epoch from date_bin('10 minutes', ts, timestamptz '2000-01-01 00:00+00')) * 1000000)::int8,
           sum(inc), (array_agg(energy order by ts desc))[1]
    from i
    where ts >= timestamptz '2024-10-26 00:00 Europe/Berlin' and ts < timestamptz '2024-10-29 00:00 Europe/Berlin'
    group by 1, 2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_match_postgres_lag_over_local_days_and_a_late_sample_rewrites_two_days() {
    let src = source().await;
    let tgt = fresh_db("rec_tgt").await;
    let (s, t): (Location, Location) = (src.parse().unwrap(), tgt.parse().unwrap());
    t.init_target().await.unwrap();
    let zone: Zone = "Europe/Berlin".parse().unwrap();
    let days = DayRange::starting("2024-10-26".parse().unwrap(), 3).unwrap();
    let config = RunConfig::builder(s, t)
        .layout(SourceLayout {
            table: "scada".into(),
            time_column: "ts".into(),
            asset_column: Some("turbine_id".into()),
            naive_timezone: None,
        })
        .variables(["energy", "status"])
        .counters(["energy"])
        .states(["status"])
        .timezone(zone)
        .changed_only(true)
        .days(RunDays::Range(days))
        .build()
        .unwrap();
    let summary = config.run(|_| {}).await.unwrap();
    assert!(summary.is_success(), "{:?}", summary.first_error());
    let check = |got: &BTreeMap<(String, i64, String), f64>, want: &[tokio_postgres::Row]| {
        let mut expected: BTreeMap<(String, i64, String), f64> = BTreeMap::new();
        for r in want {
            let (a, w): (String, i64) = (r.get(0), r.get(1));
            if let Some(d) = r.get::<_, Option<f64>>(2) {
                expected.insert((a.clone(), w, "energy_delta".into()), d);
            }
            expected.insert((a, w, "energy_last".into()), r.get(3));
        }
        let got: BTreeMap<_, _> = got
            .iter()
            .filter(|(k, _)| k.2.starts_with("energy_"))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        assert_eq!(got.len(), expected.len());
        assert_eq!(&got, &expected, "windcore and PostgreSQL agree exactly");
    };
    let got = target_rows_by_asset(&tgt).await;
    let want = client(&src).await.query(ORACLE, &[]).await.unwrap();
    assert!(want.len() > 3 * 3 * 144);
    check(&got, &want);

    // Each local day's deltas add up to the day's increase, exactly (SQL's
    // sum of the day's increments, resets included).
    let per_day = client(&src)
        .await
        .query(
            "with v as (select turbine_id, ts, energy from scada where energy is not null and energy <> 'NaN'),
                  l as (select *, lag(energy) over (partition by turbine_id order by ts) pe from v)
             select turbine_id, (ts at time zone 'Europe/Berlin')::date::text,
                    sum(case when energy >= pe then energy - pe else energy end)
             from l where pe is not null
               and ts >= timestamptz '2024-10-26 00:00 Europe/Berlin' and ts < timestamptz '2024-10-29 00:00 Europe/Berlin'
             group by 1, 2",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(per_day.len(), 9);
    for r in &per_day {
        let (asset, day, increase): (String, String, f64) = (r.get(0), r.get(1), r.get(2));
        let range = zone.day_range(day.parse().unwrap());
        let (lo, hi) = (range.start_micros(), range.end_micros());
        let sum: f64 = got
            .iter()
            .filter(|(k, _)| k.0 == asset && k.2 == "energy_delta" && k.1 >= lo && k.1 < hi)
            .map(|(_, v)| *v)
            .sum();
        assert_eq!(sum, increase, "{asset} {day}");
    }

    // A late sample in the last minute of local 2024-10-26 (T1): an
    // incremental run rewrites (10-26, T1) and (10-27, T1), and only those.
    let again = config.run(|_| {}).await.unwrap();
    assert!(again.days.iter().all(|d| d.assets_changed == 0));
    client(&src)
        .await
        .batch_execute("insert into scada select * from late")
        .await
        .unwrap();
    let late = config.run(|_| {}).await.unwrap();
    assert!(late.is_success());
    let changed: Vec<(u64, u64)> = late
        .days
        .iter()
        .map(|d| (d.assets_changed, d.assets_unchanged))
        .collect();
    assert_eq!(changed, vec![(1, 2), (1, 2), (0, 3)]);
    let got = target_rows_by_asset(&tgt).await;
    let want = client(&src).await.query(ORACLE, &[]).await.unwrap();
    check(&got, &want);

    // A state that is gone after a re-run leaves no rows behind.
    assert!(got.keys().any(|k| k.2 == "status_seconds_2"));
    client(&src)
        .await
        .batch_execute("update scada set status = 1 where status = 2")
        .await
        .unwrap();
    let fixed = config.run(|_| {}).await.unwrap();
    assert!(fixed.is_success());
    let got = target_rows_by_asset(&tgt).await;
    assert!(got.keys().any(|k| k.2 == "status_seconds_1"));
    assert!(!got.keys().any(|k| k.2 == "status_seconds_2"));
}
