//! Incremental runs against a real PostgreSQL: every day of a run checked
//! for changes with one query to the source and one to the target.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use polars::prelude::DataFrame;
use windcore::{
    Day, Error, Extract, Fingerprints, Location, Pipeline, Resampler, SourceLayout, TimeRange, Zone,
};

use crate::farm_pg::{copy_keyed_on_time, scada_layout, scada_source, target_rows_by_asset};
use crate::pg_util::{client, fresh_db};

const VARIABLES: [&str; 3] = ["wind_speed", "power", "wind_direction"];

fn variables() -> Vec<String> {
    VARIABLES.iter().map(|s| s.to_string()).collect()
}

/// The row count a PostgreSQL fingerprint (`pg:<rows>:…`) names.
fn rows(fp: &str) -> i64 {
    fp.split(':').nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_fingerprinted_at_once_equal_each_range_alone() {
    // Local days of Europe/Berlin around the spring change (23 hours on
    // 2024-03-31), a gap, a part of a day, and a day without samples; the
    // table keyed (turbine_id, ts) (read asset by asset) and a copy keyed
    // (ts, turbine_id).
    let (src, _) = scada_source("ranges_src", 3, "2024-03-29", 5).await;
    copy_keyed_on_time(&src).await;
    let berlin: Zone = "Europe/Berlin".parse().unwrap();
    let d = |s: &str| berlin.day_range(s.parse::<Day>().unwrap());
    let part = TimeRange::new(
        "2024-04-02T10:00:00Z".parse().unwrap(),
        "2024-04-02T16:30:00Z".parse().unwrap(),
    )
    .unwrap();
    let ranges = [
        d("2024-03-30"),
        d("2024-03-31"),
        d("2024-04-01"),
        part,
        d("2024-05-01"),
    ];
    assert_eq!(
        ranges[1].end - ranges[1].start,
        chrono::TimeDelta::hours(23)
    );
    let loc: Location = src.parse().unwrap();
    let subset = ["T01".to_string(), "T03".to_string()];
    for table in ["scada", "scada_t"] {
        let mut layout: SourceLayout = scada_layout();
        layout.table = table.into();
        let source = loc.open_source_layout(&layout, 1).await.unwrap();
        for assets in [None, Some(&subset[..])] {
            let at_once = source
                .fingerprints_of_ranges(&ranges, &variables(), assets)
                .await
                .unwrap()
                .expect("PostgreSQL fingerprints where the data live");
            assert_eq!(at_once.len(), ranges.len());
            for (r, got) in ranges.iter().zip(&at_once) {
                let alone = source
                    .fingerprints(*r, &variables(), assets)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(got, &alone, "{table} {assets:?} {r:?}");
            }
            // Row counts as PostgreSQL counts them: T01 on the DST day and in the part.
            for i in [1, 3] {
                let n: i64 = client(&src)
                    .await
                    .query_one(
                        &format!(
                            "select count(*) from {table} where turbine_id = 'T01' \
                             and ts >= $1 and ts < $2"
                        ),
                        &[&ranges[i].start, &ranges[i].end],
                    )
                    .await
                    .unwrap()
                    .get(0);
                assert!(n > 0);
                assert_eq!(rows(&at_once[i]["T01"]), n, "{table} range {i}");
            }
            let expect_assets = if assets.is_some() { 2 } else { 3 };
            assert_eq!(at_once[0].len(), expect_assets);
            assert!(at_once[4].is_empty(), "no samples on 2024-05-01");
        }
    }
    // Ranges out of order are refused, not answered wrongly.
    let source = loc.open_source_layout(&scada_layout(), 1).await.unwrap();
    let e = source
        .fingerprints_of_ranges(&[ranges[1], ranges[0]], &variables(), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not sorted"), "{e}");
}

/// A PostgreSQL source that counts how days are checked and read, and can
/// fail the check at once.
struct Counting {
    inner: Arc<dyn Extract>,
    fail_at_once: bool,
    at_once: AtomicUsize,
    each: AtomicUsize,
    reads: AtomicUsize,
}

impl Counting {
    fn new(inner: Arc<dyn Extract>, fail_at_once: bool) -> Self {
        Counting {
            inner,
            fail_at_once,
            at_once: AtomicUsize::new(0),
            each: AtomicUsize::new(0),
            reads: AtomicUsize::new(0),
        }
    }

    /// (checks at once, checks of one day, reads) since the last call.
    fn take(&self) -> (usize, usize, usize) {
        (
            self.at_once.swap(0, Ordering::SeqCst),
            self.each.swap(0, Ordering::SeqCst),
            self.reads.swap(0, Ordering::SeqCst),
        )
    }
}

#[async_trait]
impl Extract for Counting {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn variables(&self) -> Vec<String> {
        self.inner.variables()
    }
    async fn extract(&self, range: TimeRange, variables: &[String]) -> windcore::Result<DataFrame> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.extract(range, variables).await
    }
    async fn fingerprints(
        &self,
        range: TimeRange,
        variables: &[String],
        assets: Option<&[String]>,
    ) -> windcore::Result<Option<Fingerprints>> {
        self.each.fetch_add(1, Ordering::SeqCst);
        self.inner.fingerprints(range, variables, assets).await
    }
    async fn fingerprints_of_ranges(
        &self,
        ranges: &[TimeRange],
        variables: &[String],
        assets: Option<&[String]>,
    ) -> windcore::Result<Option<Vec<Fingerprints>>> {
        self.at_once.fetch_add(1, Ordering::SeqCst);
        if self.fail_at_once {
            return Err(Error::Connection {
                context: "checking many days".into(),
                detail: "the server went away".into(),
            });
        }
        self.inner
            .fingerprints_of_ranges(ranges, variables, assets)
            .await
    }
    async fn extract_fingerprinted(
        &self,
        range: TimeRange,
        variables: &[String],
        assets: Option<&[String]>,
    ) -> windcore::Result<(DataFrame, Option<Fingerprints>)> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner
            .extract_fingerprinted(range, variables, assets)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_checks_all_its_days_at_once() {
    let (src, days) = scada_source("atonce_src", 3, "2024-03-29", 6).await;
    let tgt = fresh_db("atonce_tgt").await;
    let t: Location = tgt.parse().unwrap();
    t.init_target().await.unwrap();
    let berlin: Zone = "Europe/Berlin".parse().unwrap();
    let source = src
        .parse::<Location>()
        .unwrap()
        .open_source_layout(&scada_layout(), 2)
        .await
        .unwrap();
    let counting = Arc::new(Counting::new(source.clone(), false));
    let target = t.open_target().await.unwrap();
    let run = |src: Arc<Counting>, assets: Option<Vec<&'static str>>| {
        let target = target.clone();
        async move {
            let mut b = Pipeline::builder_shared(src, target)
                .variables(VARIABLES)
                .transform(
                    Resampler::builder()
                        .angles(["wind_direction"])
                        .build()
                        .unwrap(),
                )
                .timezone(berlin)
                .changed_only(true)
                .jobs(2);
            if let Some(a) = assets {
                b = b.assets(a);
            }
            let s = b.build().unwrap().run(days.iter(), |_| {}).await;
            assert!(s.is_success(), "{:?}", s.first_error());
            s
        }
    };
    // Into an empty target: no record, so nothing to check at once.
    let first = run(counting.clone(), None).await;
    assert_eq!(first.pairs(), (0, 0, 18, 0));
    assert_eq!(counting.take(), (0, 0, 6));
    let loaded = target_rows_by_asset(&tgt).await;

    // Nothing changed: one check for all six days, no day read.
    let second = run(counting.clone(), None).await;
    assert_eq!(second.pairs(), (18, 0, 0, 0));
    assert_eq!(second.unchanged_days(), 6);
    assert_eq!(second.rows_out(), 0);
    assert_eq!(counting.take(), (1, 0, 0));

    // A late correction on the DST day of one turbine: that day is read
    // (its fingerprints come with the rows read), the others are not.
    client(&src)
        .await
        .batch_execute(
            "update scada set power = power + 1 where turbine_id = 'T02' \
             and ts = '2024-03-31 12:00:00+00'",
        )
        .await
        .unwrap();
    let third = run(counting.clone(), None).await;
    assert_eq!(third.pairs(), (17, 1, 0, 0));
    assert_eq!(third.unchanged_days(), 5);
    assert_eq!(counting.take(), (1, 0, 1));
    assert_ne!(target_rows_by_asset(&tgt).await, loaded);

    // A subset of the assets is checked against its own records.
    let subset = run(counting.clone(), Some(vec!["T01", "T03"])).await;
    assert_eq!(subset.pairs(), (12, 0, 0, 0));
    assert_eq!(counting.take(), (1, 0, 0));

    // When the check at once fails, each day is checked on its own and the
    // run says so.
    let failing = Arc::new(Counting::new(source, true));
    let fallback = run(failing.clone(), None).await;
    assert_eq!(fallback.pairs(), (18, 0, 0, 0));
    assert_eq!(failing.take(), (1, 6, 0));
    assert!(
        fallback
            .notes
            .iter()
            .any(|n| n.contains("2024-03-29 to 2024-04-03") && n.contains("checked on its own")),
        "{:?}",
        fallback.notes
    );
}
