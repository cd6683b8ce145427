//! Late data on PostgreSQL: exactly the changed (day, asset) pairs are
//! rewritten; asset batches add up to the whole farm.

use std::collections::BTreeMap;

use windcore::{Location, PostgresSource, RunConfig, RunDays, SourceLayout, Stat};

use crate::pg_util::{client, fresh_db};

use crate::farm_pg::*;
use crate::postgres::*;

/// (asset, day) -> (min xmin, max xmin, rows) of the target's data rows.
async fn xmins(tgt: &str) -> BTreeMap<(String, String), (i64, i64, i64)> {
    let rows = client(tgt)
        .await
        .query(
            "select s.asset, (d.timestamp at time zone 'UTC')::date::text, \
                    min(d.xmin::text::int8), max(d.xmin::text::int8), count(*) \
             from data d join signal s on s.id = d.signal_id group by 1, 2",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3), r.get(4))))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_data_rewrites_exactly_the_changed_day_asset_pairs() {
    let (src, days) = scada_source("late_src", 5, "2024-01-01", 60).await;
    // Samples of T03 on three past days arrive late: hold them back first.
    let c = client(&src).await;
    c.batch_execute(
        "create table late as select * from scada where turbine_id = 'T03' \
           and ts::date in ('2024-01-05', '2024-01-20', '2024-02-11') \
           and extract(hour from ts) between 10 and 11;\n\
         delete from scada s using late l where s.turbine_id = l.turbine_id and s.ts = l.ts;",
    )
    .await
    .unwrap();
    assert_eq!(count(&src, "select count(*) from late").await, 3 * 120);
    let tgt = fresh_db("late_tgt").await;
    let t: Location = tgt.parse().unwrap();
    t.init_target().await.unwrap();
    let config = |target: Location, changed: bool| {
        RunConfig::builder(src.parse().unwrap(), target)
            .layout(scada_layout())
            .variables(["wind_speed", "power", "wind_direction"])
            .angles(["wind_direction"])
            .days(RunDays::Range(days))
            .changed_only(changed)
            .jobs(2)
            .build()
            .unwrap()
    };
    // Fully loaded (an incremental run into an empty target loads everything as new).
    let first = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert!(first.is_success(), "{:?}", first.first_error());
    assert_eq!(first.pairs(), (0, 0, 300, 0));
    let before = xmins(&tgt).await;
    assert_eq!(before.len(), 300);

    // The late samples arrive.
    c.batch_execute("insert into scada select * from late")
        .await
        .unwrap();
    let second = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert!(second.is_success(), "{:?}", second.first_error());
    assert_eq!(second.pairs(), (297, 3, 0, 0));
    assert_eq!(second.unchanged_days(), 57);
    // The database says so too: exactly those three pairs have new row versions.
    let after = xmins(&tgt).await;
    let rewritten: Vec<&(String, String)> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        rewritten,
        [
            &("T03".to_string(), "2024-01-05".to_string()),
            &("T03".to_string(), "2024-01-20".to_string()),
            &("T03".to_string(), "2024-02-11".to_string()),
        ]
    );
    for k in &rewritten {
        assert!(after[*k].0 > before[*k].1, "{k:?}: old rows left behind");
    }

    // The target equals a full recompute into an empty target.
    let fresh = fresh_db("late_full").await;
    let f: Location = fresh.parse().unwrap();
    f.init_target().await.unwrap();
    let full = config(f, false).run(|_| {}).await.unwrap();
    assert!(full.is_success());
    assert_eq!(
        target_rows_by_asset(&tgt).await,
        target_rows_by_asset(&fresh).await
    );

    // Nothing changed since: nothing is written.
    let third = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert_eq!(third.pairs(), (300, 0, 0, 0));
    assert_eq!(third.rows_out(), 0);
    assert_eq!(third.unchanged_days(), 60);
    assert_eq!(xmins(&tgt).await, after);

    // Other settings make every pair "changed".
    let other = RunConfig::builder(src.parse().unwrap(), t.clone())
        .layout(scada_layout())
        .variables(["wind_speed", "power", "wind_direction"])
        .angles(["wind_direction"])
        .min_count(5)
        .days(RunDays::One(day("2024-01-01")))
        .changed_only(true)
        .build()
        .unwrap()
        .run(|_| {})
        .await
        .unwrap();
    assert_eq!(other.pairs(), (0, 5, 0, 0));

    // A turbine whose samples of a day are all deleted loses that day's statistics.
    c.batch_execute("delete from scada where turbine_id = 'T05' and ts::date = '2024-01-02'")
        .await
        .unwrap();
    let gone = config(t.clone(), true).run(|_| {}).await.unwrap();
    assert_eq!(gone.pairs().3, 1);
    assert!(!xmins(&tgt)
        .await
        .contains_key(&("T05".to_string(), "2024-01-02".to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_local_source_on_the_fall_back_day() {
    // A logger on local time: naive timestamps, the 02:00-03:00 hour written twice.
    let src = fresh_db("naive").await;
    let c = client(&src).await;
    c.batch_execute(
        "create table log (ts timestamp not null, power float8);\n\
         insert into log select t, extract(minute from t) \
           from generate_series(timestamp '2025-10-26 00:00', timestamp '2025-10-26 23:59', \
                                interval '1 minute') t;\n\
         insert into log select t, -1 \
           from generate_series(timestamp '2025-10-26 02:00', timestamp '2025-10-26 02:59', \
                                interval '1 minute') t;",
    )
    .await
    .unwrap();
    let tgt = fresh_db("naive_tgt").await;
    let t: Location = tgt.parse().unwrap();
    t.init_target().await.unwrap();
    let berlin: windcore::Zone = "Europe/Berlin".parse().unwrap();
    let layout = SourceLayout {
        table: "log".into(),
        time_column: "ts".into(),
        asset_column: None,
        naive_timezone: Some(berlin),
    };
    let summary = RunConfig::builder(src.parse().unwrap(), t)
        .layout(layout.clone())
        .variables(["power"])
        .stats([Stat::Mean, Stat::Count])
        .timezone(berlin)
        .days(RunDays::AllInSource)
        .build()
        .unwrap()
        .run(|_| {})
        .await
        .unwrap();
    assert!(summary.is_success(), "{:?}", summary.first_error());
    // Every local time falls on the local day 2025-10-26.
    assert_eq!(summary.days.len(), 1);
    assert_eq!(summary.days[0].day, day("2025-10-26"));
    let q = summary.quality();
    // The repeated hour's two passes land on the same (standard-time) instants.
    assert_eq!(q.samples, 1440 + 60);
    assert_eq!(q.duplicates, 60);
    // 25 hours, of which the summer-time 02:00-03:00 has no sample: 144 windows.
    assert_eq!(summary.windows(), 144);
    let got = target_rows_by_asset(&tgt).await;
    let range = berlin.day_range(day("2025-10-26"));
    // 02:00 CET = 01:00 UTC: the later row (-1) of each pair is kept.
    let at = |h: i64, m: i64| range.start_micros() + (h * 60 + m) * 60_000_000;
    assert_eq!(
        got[&(String::new(), at(3, 0), "power_mean".to_string())],
        -1.0
    );
    // A timestamptz column refuses --source-timezone.
    let (farm, _) = scada_source("naive_tz", 2, "2024-01-01", 1).await;
    let err = PostgresSource::connect_layout(
        &farm,
        &SourceLayout {
            naive_timezone: Some(berlin),
            ..scada_layout()
        },
        1,
    )
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("naive"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_batches_add_up_to_the_whole_farm() {
    let (src, days) = scada_source("batches_src", 5, "2024-01-01", 2).await;
    let run = |tgt: String, assets: Option<Vec<&'static str>>, changed: bool| {
        let src = src.clone();
        async move {
            let mut b = RunConfig::builder(src.parse().unwrap(), tgt.parse().unwrap())
                .layout(scada_layout())
                .days(RunDays::Range(days))
                .changed_only(changed);
            if let Some(a) = assets {
                b = b.assets(a);
            }
            let s = b.build().unwrap().run(|_| {}).await.unwrap();
            assert!(s.is_success(), "{:?}", s.first_error());
            s
        }
    };
    let (whole, batched) = (fresh_db("batches_whole").await, fresh_db("batches").await);
    for t in [&whole, &batched] {
        t.parse::<Location>().unwrap().init_target().await.unwrap();
    }
    run(whole.clone(), None, false).await;
    let first = run(batched.clone(), Some(vec!["T01", "T02"]), false).await;
    assert_eq!(first.rows_in(), 2 * 2 * 1440);
    run(
        batched.clone(),
        Some(vec!["T03", "T04", "T05", "T99"]),
        false,
    )
    .await;
    assert_eq!(
        target_rows_by_asset(&whole).await,
        target_rows_by_asset(&batched).await
    );
    // A batch's incremental re-run sees only its own pairs.
    let again = run(batched.clone(), Some(vec!["T01", "T02"]), true).await;
    assert_eq!(again.pairs(), (4, 0, 0, 0));
    // Asset names go into the SQL as escaped literals.
    let odd = run(
        batched.clone(),
        Some(vec!["x'); drop table scada; --"]),
        false,
    )
    .await;
    assert_eq!(odd.rows_in(), 0);
    assert_eq!(
        count(&src, "select count(*) from scada").await,
        5 * 2 * 1440
    );
}
